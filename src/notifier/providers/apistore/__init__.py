"""KTH API Store (ppurio SMS/LMS/MMS, kko AlimTalk): one HTTP client shared by its four ports."""

from __future__ import annotations

from ...ports import ProviderConnection, ProviderParts
from .alimtalk import KkoSender, KkoTemplates
from .client import ApiStoreHttp, PpurioProvider, new_pool
from .reports import ApiStoreReports

NAME = "apistore"


def build(c: ProviderConnection) -> ProviderParts:
    """The ports over one pooled client. The template list is cached in KkoTemplates, so build once
    per container. `c.credentials` returns client.Credentials (api_key, client_id)."""
    http = ApiStoreHttp(
        c.base_url,
        c.credentials,
        pool=new_pool(c.pool_size),
        connect_timeout=c.connect_timeout,
        read_timeout=c.read_timeout,
    )
    return ProviderParts(
        messaging=PpurioProvider(http),
        reports=ApiStoreReports(http),
        alimtalk=KkoSender(http),
        templates=KkoTemplates(http),
    )
