"""The one place that maps a deployment's PROVIDER to a provider package.

A provider package is imported only when a deployment names it, so a function carries the import
cost of its own provider and no other. Adding a provider adds a branch here and a name to
config.ProviderName; the use cases do not change.
"""

from __future__ import annotations

from typing import Any

from ..ports import ProviderConnection, ProviderParts
from .config import ConfigError


def build(name: str, connection: ProviderConnection, *, solapi_pf_id: str = "") -> ProviderParts:
    if name == "apistore":
        from ..providers import apistore

        return apistore.build(connection)
    if name == "solapi":
        from ..providers import solapi

        return solapi.build(connection, pf_id=solapi_pf_id)
    raise ConfigError(f"PROVIDER: no provider package named {name!r}")


def credentials(name: str, key: str, second: str) -> Any:
    """The provider's credentials from its two SecureStrings: API Store's key and client id, or
    SOLAPI's API key and secret."""
    if name == "solapi":
        from ..providers.solapi.auth import Credentials as SolapiCredentials

        return SolapiCredentials(key, second)
    from ..providers.apistore.client import Credentials

    return Credentials(key, second)
