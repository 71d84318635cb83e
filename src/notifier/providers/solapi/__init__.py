"""SOLAPI (REST v4): one signed HTTP client shared by its four ports, and its code tables.

- auth.py: the HMAC Authorization header, a fresh salt and date per request
- codes.py: the status codes and request errors, each with its verdict
- client.py: the wire (send-many, storage upload, message list, kakao templates, balance)
- provider.py: the ports (sends, reports) over the client; templates.py: the TemplateSource
"""

from __future__ import annotations

from ...ports import ProviderConnection, ProviderParts
from ..transport import new_pool
from .auth import Signer
from .client import SolapiClient, SolapiHttp
from .provider import SolapiReports, SolapiSender
from .templates import SolapiTemplates

NAME = "solapi"


def build(c: ProviderConnection, *, pf_id: str = "") -> ProviderParts:
    """The ports over one pooled client; the template list and the image ids are cached in it, so
    build once per container. `c.credentials` returns auth.Credentials (api_key, api_secret).
    Without a pfId (no KakaoTalk channel) AlimTalk is not offered: such events are rejected."""
    http = SolapiHttp(
        c.base_url,
        Signer(c.credentials),
        pool=new_pool(c.pool_size),
        connect_timeout=c.connect_timeout,
        read_timeout=c.read_timeout,
    )
    client = SolapiClient(http)
    sender = SolapiSender(client, pf_id)
    return ProviderParts(
        messaging=sender,
        reports=SolapiReports(client),
        alimtalk=sender if pf_id else None,
        templates=SolapiTemplates(client, pf_id) if pf_id else None,
    )
