"""SOLAPI behind the product's ports: what the dispatcher's messages become on SOLAPI's wire, and
what SOLAPI's answers become for the dispatcher and the poller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifier.domain.alimtalk import WireButton
from notifier.domain.reports import Final, NoReport, Pending
from notifier.ports import AlimTalkMessage, File, TextMessage
from notifier.providers.solapi.client import MessageResult, OutMessage, SolapiError, SolapiReport
from notifier.providers.solapi.codes import request_error
from notifier.providers.solapi.provider import SolapiReports, SolapiSender, scheduled
from notifier.providers.transport import TransportError


class Client:
    """SolapiClient's send_many and report, recording what they were given."""

    def __init__(self, report: SolapiReport | Exception | None = None) -> None:
        self.batches: list[tuple[list[OutMessage], str | None]] = []
        self._report = report

    def send_many(self, messages: Sequence[OutMessage], *, scheduled_date: str | None = None) -> list[MessageResult]:
        self.batches.append((list(messages), scheduled_date))
        return [MessageResult(m.ref, "accepted", "2000", "ok", f"M4V-{m.ref}") for m in messages]

    def report(self, message_id: str) -> SolapiReport:
        assert self._report is not None
        if isinstance(self._report, Exception):
            raise self._report
        return self._report


def text(kind: str = "sms", send_time: str | None = None, files: tuple[File, ...] = ()) -> TextMessage:
    return TextMessage(kind, "01012345678", "0212345678", "안녕하세요", "제목" if kind != "sms" else None,  # type: ignore[arg-type]
                       send_time=send_time, files=files)  # fmt: skip


def test_texts_with_one_send_time_go_in_one_request_and_each_keeps_its_own_result() -> None:
    client = Client()
    results = SolapiSender(client, "PF1").send_texts(
        [text("sms"), text("lms"), text("mms", files=(File("a.jpg", b"\xff\xd8\xff"),))]
    )  # type: ignore[arg-type]
    [(batch, when)] = client.batches
    assert [(m.type, m.image) for m in batch] == [("SMS", None), ("LMS", None), ("MMS", b"\xff\xd8\xff")]
    assert when is None
    assert [(r.verdict, r.message_id) for r in results] == [
        ("accepted", "M4V-0"),
        ("accepted", "M4V-1"),
        ("accepted", "M4V-2"),
    ]


def test_a_scheduled_send_time_in_korea_time_becomes_solapis_scheduled_date_and_splits_the_batch() -> None:
    client = Client()
    results = SolapiSender(client, "PF1").send_texts(
        [text(send_time="20261201090000"), text(), text(send_time="20261201090000")]
    )  # type: ignore[arg-type]
    assert sorted((len(b), when) for b, when in client.batches) == [(1, None), (2, "2026-12-01T09:00:00+09:00")]
    assert [r.message_id for r in results] == ["M4V-0", "M4V-1", "M4V-2"]
    assert scheduled("20261201090000") == "2026-12-01T09:00:00+09:00"


def test_an_mms_with_two_images_is_rejected_without_a_request_since_solapi_takes_one() -> None:
    client = Client()
    two = (File("a.jpg", b"\xff\xd8\xff"), File("b.jpg", b"\xff\xd8\xff"))
    [result] = SolapiSender(client, "PF1").send_texts([text("mms", files=two)])  # type: ignore[arg-type]
    assert result.verdict == "rejected" and client.batches == []


def test_an_alimtalk_names_the_channel_and_template_and_maps_the_fallback_policy_to_disable_sms() -> None:
    client = Client()
    button = WireButton("웹링크", "배송조회", "https://shop.example/o/1", None)
    msgs = [
        AlimTalkMessage("01012345678", "0212345678", "본문", "A1111", "SMS", buttons=(button,)),
        AlimTalkMessage("01012345679", "0212345678", "본문", "A1111", "N"),
    ]
    SolapiSender(client, "PF1").send_alimtalks(msgs)  # type: ignore[arg-type]
    [(batch, _)] = client.batches
    assert [(m.type, m.kakao and (m.kakao.pf_id, m.kakao.template_id, m.kakao.disable_sms)) for m in batch] == [
        ("ATA", ("PF1", "A1111", False)),
        ("ATA", ("PF1", "A1111", True)),
    ]
    assert batch[0].kakao and batch[0].kakao.buttons[0].url == "https://shop.example/o/1"


def test_a_test_alimtalk_is_rejected_since_solapi_has_no_test_send() -> None:
    client = Client()
    [result] = SolapiSender(client, "PF1").send_alimtalks([AlimTalkMessage("010", "02", "x", "A1", "N", test=True)])  # type: ignore[arg-type]
    assert result.verdict == "rejected" and "no test send" in result.reason and client.batches == []


def record(**over: Any) -> dict[str, Any]:
    return {"id": "r1", "provider": "solapi", "provider_message_id": "M4V1", **over}


def test_a_report_maps_to_final_with_the_channel_that_reached_the_phone() -> None:
    solapi = Client(SolapiReport("M4V1", "delivered", "3104/4000", "fallback", "sms", fallback_used=True))
    report = SolapiReports(solapi).fetch(record()).report  # type: ignore[arg-type]
    assert isinstance(report, Final)
    assert (report.status, report.report_code, report.delivered_via, report.fallback_used) == (
        "delivered",
        "3104/4000",
        "sms",
        True,
    )


def test_a_pending_report_waits_and_a_failed_read_is_no_report_this_time() -> None:
    assert isinstance(
        SolapiReports(Client(SolapiReport("M4V1", "pending", "3000", "x"))).fetch(record()).report, Pending
    )  # type: ignore[arg-type]
    refused = SolapiError(request_error(403, "SignatureDoesNotMatch"))
    no = SolapiReports(Client(refused)).fetch(record()).report  # type: ignore[arg-type]
    assert isinstance(no, NoReport) and no.code == "SignatureDoesNotMatch"
    lost = TransportError("timeout", "no answer", surely_not_sent=False)
    assert SolapiReports(Client(lost)).fetch(record()).report == NoReport("timeout", "no answer")  # type: ignore[arg-type]


def test_a_record_without_a_message_id_is_no_report() -> None:
    report = SolapiReports(Client()).fetch(record(provider_message_id=None)).report  # type: ignore[arg-type]
    assert isinstance(report, NoReport) and report.code == "no-message-id"
