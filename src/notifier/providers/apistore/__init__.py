"""KTH API Store (ppurio SMS/LMS/MMS, kko AlimTalk): one HTTP client shared by its four ports."""

from __future__ import annotations

from collections.abc import Callable

from ...ports import ProviderParts
from .alimtalk import KkoSender, KkoTemplates
from .client import ApiStoreHttp, Credentials, PpurioProvider, new_pool
from .reports import ApiStoreReports

NAME = "apistore"


def build(
    *,
    base_url: str,
    credentials: Callable[[], Credentials],
    pool_size: int,
    connect_timeout: float,
    read_timeout: float,
) -> ProviderParts:
    """The ports over one pooled client, its pool sized to the calling function's concurrency. The
    template list is cached in KkoTemplates, so build once per container."""
    http = ApiStoreHttp(
        base_url, credentials, pool=new_pool(pool_size), connect_timeout=connect_timeout, read_timeout=read_timeout
    )
    return ProviderParts(
        messaging=PpurioProvider(http),
        reports=ApiStoreReports(http),
        alimtalk=KkoSender(http),
        templates=KkoTemplates(http),
    )
