"""The one place that maps a deployment's PROVIDER to a provider package.

A provider package is imported only when a deployment names it, so a function carries the import
cost of its own provider and no other. Adding a provider adds a branch here and a name to
config.ProviderName; the use cases do not change.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ports import ProviderParts
from ..providers.apistore.client import Credentials
from .config import ConfigError


def build(
    name: str,
    *,
    base_url: str,
    credentials: Callable[[], Credentials],
    pool_size: int,
    connect_timeout: float,
    read_timeout: float,
) -> ProviderParts:
    if name == "apistore":
        from ..providers import apistore

        return apistore.build(
            base_url=base_url,
            credentials=credentials,
            pool_size=pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
    raise ConfigError(f"PROVIDER: no provider package named {name!r}")
