"""SOLAPI's kakao templates (all pages, of one channel) as the dispatcher's TemplateSource."""

from __future__ import annotations

import time
from collections.abc import Callable

from ...domain.alimtalk import Template
from ...ports import TemplatesUnavailable
from ..templates import CachedTemplates
from ..transport import TransportError
from .client import SolapiClient, SolapiError


class SolapiTemplates(CachedTemplates):
    def __init__(
        self, client: SolapiClient, pf_id: str | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.pf_id = pf_id
        super().__init__(self._list, clock=clock)

    def _list(self) -> dict[str, Template]:
        try:
            return self.client.templates(self.pf_id)
        except TransportError as exc:
            raise TemplatesUnavailable(f"SOLAPI: {exc.reason}") from None
        except SolapiError as exc:
            raise TemplatesUnavailable(f"SOLAPI: {exc.error.reason}") from None
