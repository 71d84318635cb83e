"""KTH API Store (ppurio SMS/LMS/MMS, kko AlimTalk): one HTTP client shared by its four ports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
    # One request per message: a batch's requests go out together, as many as the pool has connections.
    # Its threads start on the first batch of more than one, so the poller, which never sends, has none.
    sends = ThreadPoolExecutor(c.pool_size, "apistore-send")
    return ProviderParts(
        messaging=PpurioProvider(http, pool=sends),
        reports=ApiStoreReports(http),
        alimtalk=KkoSender(http, pool=sends),
        templates=KkoTemplates(http),
    )
