"""The one place that maps a deployment's PROVIDER to a provider package.

A provider package is imported only when a deployment names it, so a function carries the import
cost of its own provider and no other. Adding a provider adds a branch here and a name to
config.ProviderName; the use cases do not change.
"""

from __future__ import annotations

from ..ports import ProviderConnection, ProviderParts
from .config import ConfigError


def build(name: str, connection: ProviderConnection) -> ProviderParts:
    if name == "apistore":
        from ..providers import apistore

        return apistore.build(connection)
    raise ConfigError(f"PROVIDER: no provider package named {name!r}")
