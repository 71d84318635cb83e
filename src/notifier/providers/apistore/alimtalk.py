"""KakaoTalk AlimTalk over the API Store kko API: sending, and the template list, cached per
container by providers/templates.py (one list call per batch at most, stale through a failed refresh).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...domain.alimtalk import Template, TemplateButton, WireButton
from ...domain.event import LINK_BUTTON_TYPES
from ...ports import AlimTalkMessage, SendResult, TemplatesUnavailable
from ..templates import CachedTemplates
from .client import ApiStoreHttp, PerMessageSender, TransportError, send_and_classify
from .codes import TEMPLATE_STATUS_BY_CODE, kko_send_outcome


class KkoSender(PerMessageSender):
    """AlimTalk through /kko/1/msg/{client_id} (/kko/1/msg_test/ in test mode)."""

    def send_alimtalks(self, msgs: Sequence[AlimTalkMessage]) -> list[SendResult]:
        return self.each(self.send_alimtalk, msgs)

    def send_alimtalk(self, msg: AlimTalkMessage) -> SendResult:
        fields = {
            "phone": msg.phone,
            "callback": msg.callback,
            "msg": msg.msg,
            "template_code": msg.template_code,
            "failed_type": msg.failed_type,
        }
        optional = {"reqdate": msg.reqdate, "failed_subject": msg.failed_subject, "failed_msg": msg.failed_msg}
        fields.update({k: v for k, v in optional.items() if v})
        fields.update(wire_buttons(msg.buttons))
        endpoint = "msg_test" if msg.test else "msg"
        return send_and_classify(
            self.http, f"/kko/1/{endpoint}/{{client_id}}", fields, None, kko_send_outcome, self.clock
        )


def wire_buttons(buttons: tuple[WireButton, ...]) -> dict[str, str]:
    """BTN_TYPES / BTN_TXTS comma lists, BTN_URLS1 and BTN_URLS2 aligned to them by position
    (empty for buttons that take no link), as the spec's example shows."""
    if not buttons:
        return {}
    fields = {
        "btn_types": ",".join(b.type for b in buttons),
        "btn_txts": ",".join(b.name for b in buttons),
        "btn_urls1": ",".join((b.url or "") if b.type in LINK_BUTTON_TYPES else "" for b in buttons),
    }
    if any(b.url2 for b in buttons):
        fields["btn_urls2"] = ",".join((b.url2 or "") if b.type in LINK_BUTTON_TYPES else "" for b in buttons)
    if not any(b.type in LINK_BUTTON_TYPES for b in buttons):
        del fields["btn_urls1"]
    return fields


def parse_templates(body: dict[str, Any]) -> dict[str, Template]:
    items = body.get("templatelist") or []
    out: dict[str, Template] = {}
    for t in items if isinstance(items, list) else []:
        if not isinstance(t, dict) or not t.get("template_code"):
            continue
        status = str(t.get("status") or "")
        status = TEMPLATE_STATUS_BY_CODE.get(status, status)  # a code 1-5 where a word was expected
        buttons = []
        for b in t.get("btnlist") or []:
            if isinstance(b, dict) and b.get("template_btn_type"):
                buttons.append(
                    TemplateButton(
                        type=str(b["template_btn_type"]),
                        name=str(b.get("template_btn_name") or ""),
                        url=b.get("template_btn_url") or None,
                        url2=b.get("template_btn_url2") or None,
                    )
                )
        code = str(t["template_code"])
        out[code] = Template(
            code=code,
            name=str(t.get("template_name") or ""),
            text=str(t.get("template_msg") or ""),
            status=status,
            buttons=tuple(buttons),
        )
    return out


class KkoTemplates(CachedTemplates):
    """The kko template list behind the shared cache (providers/templates.py)."""

    def __init__(self, http: ApiStoreHttp, **cache: Any) -> None:
        self.http = http
        super().__init__(self._list, **cache)

    def _list(self) -> dict[str, Template]:
        try:
            reply = self.http.call("GET", "/kko/1/template/list/{client_id}")
        except TransportError as exc:
            raise TemplatesUnavailable(exc.reason) from None
        if reply.status != 200:
            # Any body of an HTTP error (the container's HTML page or a JSON one) says nothing of the list.
            raise TemplatesUnavailable(f"template list refused (http-{reply.status})")
        if reply.body is None or str(reply.body.get("result_code")) != "200":
            code = reply.body.get("result_code") if reply.body else "bad-reply"
            raise TemplatesUnavailable(f"template list refused ({code})")
        return parse_templates(reply.body)
