"""The AlimTalk template list of any provider, read once per container and kept: the dispatcher's
TemplateSource, given a function that lists the provider's templates.

The list is kept for ttl_s, so a batch of AlimTalks costs at most one listing; concurrent first
readers wait for one fetch instead of racing. A code not in the list triggers at most one extra
listing per miss_refresh_s (a template approved minutes ago should not wait out the TTL). If a
refresh fails, the previous list serves for stale_for_s: templates change rarely, and refusing every
AlimTalk because the list endpoint hiccupped would be worse.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..domain.alimtalk import Template
from ..ports import TemplatesUnavailable


class CachedTemplates:
    def __init__(
        self,
        fetch: Callable[[], dict[str, Template]],
        *,
        ttl_s: float = 300.0,
        stale_for_s: float = 3600.0,
        miss_refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`fetch` returns the templates by code, or raises TemplatesUnavailable saying why not."""
        self._fetch = fetch
        self.ttl_s = ttl_s
        self.stale_for_s = stale_for_s
        self.miss_refresh_s = miss_refresh_s
        self.clock = clock
        self.fetches = 0
        self._lock = threading.Lock()
        self._templates: dict[str, Template] | None = None
        self._fetched_at = float("-inf")

    def get(self, code: str) -> Template | None:
        with self._lock:
            age = self.clock() - self._fetched_at
            if self._templates is None or age >= self.ttl_s:
                self._refresh(age)
            elif code not in self._templates and age >= self.miss_refresh_s:
                # Bounded to one extra listing per miss_refresh_s however many messages name unknown codes.
                self._refresh(age)
            assert self._templates is not None
            return self._templates.get(code)

    def _refresh(self, age: float) -> None:
        self.fetches += 1
        try:
            self._templates = self._fetch()
            self._fetched_at = self.clock()
        except TemplatesUnavailable as exc:
            if self._templates is not None and age < self.stale_for_s:
                return  # serve the previous list
            raise TemplatesUnavailable(f"cannot read the AlimTalk template list: {exc}") from None
