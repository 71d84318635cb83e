"""The SOLAPI client over a scripted connection pool: what goes on the wire, and how each reply,
error and transport failure becomes a verdict per message."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from urllib3.exceptions import NewConnectionError, ProtocolError, ReadTimeoutError

from notifier.providers.solapi.auth import Credentials, Signer
from notifier.providers.solapi.client import (
    REF_FIELD,
    Kakao,
    KakaoButton,
    OutMessage,
    SolapiClient,
    SolapiError,
    SolapiHttp,
    TransportError,
)

CREDS = Credentials("NCSUNITKEY000000", "unit-secret-unit-secret-unit-sec")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class Response:
    status: int
    data: bytes


Answer = Response | BaseException | Callable[[dict[str, Any]], Response]


class Pool:
    """urllib3's PoolManager.request, answering from a script and recording each request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, body: bytes | None = None, headers: Any = None, **_: Any) -> Response:
        parts = urlsplit(url)
        req = {
            "method": method,
            "path": parts.path,
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "headers": headers or {},
            "json": json.loads(body) if body else None,
        }
        self.requests.append(req)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer(req) if callable(answer) else answer


def ok(body: Any) -> Response:
    return Response(200, json.dumps(body).encode())


def error(status: int, code: str, message: str = "refused") -> Response:
    return Response(status, json.dumps({"errorCode": code, "errorMessage": message}).encode())


def client(pool: Pool) -> SolapiClient:
    http = SolapiHttp("http://solapi.test", Signer(lambda: CREDS, clock=lambda: 0.0), pool=pool)  # type: ignore[arg-type]
    return SolapiClient(http)


def sms(ref: str, to: str = "01012345678", **kw: Any) -> OutMessage:
    return OutMessage(
        ref=ref, type=kw.pop("type", "SMS"), to=to, text=kw.pop("text", "안녕하세요"), from_="0212345678", **kw
    )


def registered(req: dict[str, Any], *, failed: dict[str, str] | None = None, echo_ref: bool = True) -> Response:
    """SOLAPI's send-many/detail reply to `req`: every message registered unless named in `failed` (ref -> code)."""
    failed = failed or {}
    ok_list, failed_list = [], []
    for i, m in enumerate(req["json"]["messages"]):
        ref = m["customFields"][REF_FIELD]
        entry = {"to": m["to"], "messageId": f"M4V{i:029d}", "customFields": m["customFields"] if echo_ref else {}}
        if ref in failed:
            failed_list.append({**entry, "statusCode": failed[ref], "statusMessage": "refused"})
        else:
            ok_list.append({**entry, "statusCode": "2000", "statusMessage": "정상 접수(이통사로 접수 예정)"})
    return ok({"groupInfo": {"groupId": "G4V1"}, "failedMessageList": failed_list, "messageList": ok_list})


def test_a_batch_goes_in_one_request_and_each_message_is_settled_from_its_own_entry() -> None:
    # Given three claimed messages, of which SOLAPI refuses the second for an opted-out number
    pool = Pool(lambda req: registered(req, failed={"b": "1061"}))
    # When they are sent
    results = client(pool).send_many([sms("a"), sms("b", to="01011112222"), sms("c", to="01033334444")])
    # Then one request carried all three, and each result is its own
    assert len(pool.requests) == 1 and pool.requests[0]["path"] == "/messages/v4/send-many/detail"
    assert [(r.ref, r.verdict, r.code) for r in results] == [
        ("a", "accepted", "2000"),
        ("b", "rejected", "1061"),
        ("c", "accepted", "2000"),
    ]
    assert results[0].message_id == "M4V" + "0" * 29 and results[1].message_id is None
    assert results[0].group_id == "G4V1"


def test_the_request_is_signed_json_with_explicit_types_duplicates_allowed_and_the_message_list_asked_for() -> None:
    pool = Pool(lambda req: registered(req))
    client(pool).send_many(
        [sms("a", type="LMS", subject="제목", text="긴 본문")], scheduled_date="2026-12-01T00:00:00Z"
    )
    req = pool.requests[0]
    assert req["headers"]["Authorization"].startswith(f"HMAC-SHA256 apiKey={CREDS.api_key}, date=")
    assert req["json"]["allowDuplicates"] is True and req["json"]["showMessageList"] is True
    assert req["json"]["scheduledDate"] == "2026-12-01T00:00:00Z"
    assert req["json"]["messages"] == [
        {
            "to": "01012345678",
            "from": "0212345678",
            "text": "긴 본문",
            "type": "LMS",
            "subject": "제목",
            "customFields": {REF_FIELD: "a"},
        }
    ]


def test_replies_are_matched_by_reference_not_by_order() -> None:
    # Given a reply whose entries come back in reverse order
    def reversed_reply(req: dict[str, Any]) -> Response:
        body = json.loads(registered(req).data)
        body["messageList"].reverse()
        return ok(body)

    results = client(Pool(reversed_reply)).send_many([sms("a"), sms("b", to="01099998888")])
    # Then each message still gets its own message id
    assert [r.message_id for r in results] == ["M4V" + "0" * 29, "M4V" + "0" * 28 + "1"]


def test_without_an_echoed_reference_a_unique_recipient_still_matches_and_a_shared_one_stays_unknown() -> None:
    pool = Pool(lambda req: registered(req, echo_ref=False))
    results = client(pool).send_many([sms("a", to="01011112222"), sms("b"), sms("c")])
    assert results[0].verdict == "accepted"
    # b and c go to the same phone: which messageId is whose cannot be told
    assert [(r.verdict, r.code) for r in results[1:]] == [("unknown", "bad-reply"), ("unknown", "bad-reply")]


def test_a_message_missing_from_the_reply_is_unknown() -> None:
    pool = Pool(ok({"groupInfo": {"groupId": "G"}, "failedMessageList": [], "messageList": []}))
    [result] = client(pool).send_many([sms("a")])
    assert (result.verdict, result.code) == ("unknown", "bad-reply")


@pytest.mark.parametrize(
    ("failure", "verdict", "code"),
    [
        (NewConnectionError(None, "refused"), "retry", "connect"),  # type: ignore[arg-type]
        (ReadTimeoutError(None, "/", "read timed out"), "unknown", "timeout"),  # type: ignore[arg-type]
        (ProtocolError("Connection aborted."), "unknown", "connection-lost"),
        (error(403, "InvalidAPIKey"), "retry", "InvalidAPIKey"),
        (error(403, "RequestTimeTooSkewed"), "retry", "RequestTimeTooSkewed"),
        (error(403, "DuplicatedSignature"), "retry", "DuplicatedSignature"),
        (error(503, "ServiceUnavailable"), "retry", "ServiceUnavailable"),
        (error(500, "InternalError"), "unknown", "InternalError"),
        (Response(200, b"<html>gateway</html>"), "unknown", "bad-reply"),
    ],
)
def test_a_request_that_fails_as_a_whole_settles_every_message_in_it_the_same_way(
    failure: Answer, verdict: str, code: str
) -> None:
    # Given a batch of two, When the request fails as a whole
    results = client(Pool(failure)).send_many([sms("a"), sms("b", to="01099998888")])
    # Then both messages get the same verdict: a lost reply makes every message in it unknown
    assert [(r.verdict, r.code) for r in results] == [(verdict, code), (verdict, code)]


def test_a_batch_refused_as_invalid_is_sent_again_one_by_one_so_one_bad_message_rejects_only_itself() -> None:
    pool = Pool(
        error(400, "ValidationError", "messages[1].to is invalid"),
        lambda req: registered(req),
        error(400, "ValidationError", "to is invalid"),
    )
    results = client(pool).send_many([sms("a"), sms("b", to="0101")])
    assert len(pool.requests) == 3
    assert [len(r["json"]["messages"]) for r in pool.requests] == [2, 1, 1]
    assert [(r.verdict, r.code) for r in results] == [("accepted", "2000"), ("rejected", "ValidationError")]


def test_a_batch_refused_for_a_kakao_reason_is_split_too_so_the_sms_beside_it_is_not_sent_by_fallback() -> None:
    pool = Pool(error(400, "1042"), lambda req: registered(req), error(400, "1042"))
    results = client(pool).send_many([sms("a"), sms("b", type="ATA", kakao=Kakao("PF", "NOPE"))])
    assert [(r.verdict, r.code) for r in results] == [("accepted", "2000"), ("fallback", "1042")]


def test_refs_must_be_unique_and_fit_a_custom_field() -> None:
    with pytest.raises(ValueError, match="unique ref"):
        client(Pool()).send_many([sms("a"), sms("a")])
    with pytest.raises(ValueError, match="unique ref"):
        client(Pool()).send_many([sms("x" * 101)])


def test_an_mms_image_is_uploaded_once_per_content_and_its_file_id_reused() -> None:
    # Given two MMS with the same picture, in two batches
    pool = Pool(
        ok({"fileId": "ST01FZ1"}),
        lambda req: registered(req),
        lambda req: registered(req),
    )
    solapi = client(pool)
    solapi.send_many([sms("a", type="MMS", image=JPEG)])
    solapi.send_many([sms("b", type="MMS", image=JPEG)])
    # Then the picture went up once, base64 with type MMS, and both messages name its file id
    upload = pool.requests[0]
    assert upload["path"] == "/storage/v1/files" and upload["json"]["type"] == "MMS"
    assert base64.b64decode(upload["json"]["file"]) == JPEG
    assert [r["json"]["messages"][0]["imageId"] for r in pool.requests[1:]] == ["ST01FZ1", "ST01FZ1"]
    assert solapi.uploads == 1


def test_a_stale_image_id_is_forgotten_so_the_retry_uploads_again() -> None:
    pool = Pool(
        ok({"fileId": "ST01FZ1"}),
        lambda req: registered(req, failed={"a": "1034"}),
        ok({"fileId": "ST01FZ2"}),
        lambda req: registered(req),
    )
    solapi = client(pool)
    [first] = solapi.send_many([sms("a", type="MMS", image=JPEG)])
    [second] = solapi.send_many([sms("a", type="MMS", image=JPEG)])
    assert (first.verdict, second.verdict) == ("retry", "accepted")
    assert pool.requests[3]["json"]["messages"][0]["imageId"] == "ST01FZ2"


def test_a_failed_upload_holds_back_only_its_message_and_never_sends_it() -> None:
    pool = Pool(ReadTimeoutError(None, "/", "read timed out"), lambda req: registered(req))  # type: ignore[arg-type]
    results = client(pool).send_many([sms("a", type="MMS", image=JPEG), sms("b", to="01099998888")])
    # The upload's reply was lost, but no message went out with it: retry, not unknown
    assert [(r.ref, r.verdict) for r in results] == [("a", "retry"), ("b", "accepted")]
    assert [m["customFields"][REF_FIELD] for m in pool.requests[1]["json"]["messages"]] == ["b"]


def test_an_alimtalk_carries_pfid_template_variables_as_placeholders_buttons_and_the_sms_fallback_switch() -> None:
    pool = Pool(lambda req: registered(req))
    kakao = Kakao(
        pf_id="KA01PF1",
        template_id="A1111",
        variables={"name": "홍길동"},
        buttons=(KakaoButton("웹링크", "배송조회", "https://shop.example/o/1", "https://shop.example/pc/1"),),
        disable_sms=False,
    )
    client(pool).send_many([sms("a", type="ATA", text="홍길동님 안녕하세요", kakao=kakao)])
    assert pool.requests[0]["json"]["messages"][0]["kakaoOptions"] == {
        "pfId": "KA01PF1",
        "templateId": "A1111",
        "variables": {"#{name}": "홍길동"},
        "disableSms": False,
        "buttons": [
            {
                "buttonType": "WL",
                "buttonName": "배송조회",
                "linkMo": "https://shop.example/o/1",
                "linkPc": "https://shop.example/pc/1",
            }
        ],
    }


def test_an_alimtalk_refused_by_kakao_at_registration_asks_for_the_app_side_fallback() -> None:
    pool = Pool(lambda req: registered(req, failed={"a": "1042"}))
    [result] = client(pool).send_many([sms("a", type="ATA", kakao=Kakao("PF", "NOPE"))])
    assert (result.verdict, result.code) == ("fallback", "1042")


def test_a_phone_number_in_solapis_error_message_is_masked_in_the_reason() -> None:
    [result] = client(Pool(error(400, "1060", "차단된 수신번호 01012345678"))).send_many([sms("a")])
    assert "01012345678" not in result.reason and "010****5678" in result.reason


def test_the_api_secret_never_appears_on_the_wire() -> None:
    pool = Pool(lambda req: registered(req))
    client(pool).send_many([sms("a")])
    assert CREDS.api_secret not in json.dumps(pool.requests[0]["headers"]) + json.dumps(pool.requests[0]["json"])


def listed(*messages: dict[str, Any]) -> Response:
    return ok({"limit": 20, "messageList": {m["messageId"]: m for m in messages}})


@pytest.mark.parametrize(
    ("entry", "outcome", "via"),
    [
        ({"type": "SMS", "statusCode": "2000"}, "pending", None),
        ({"type": "SMS", "statusCode": "3000"}, "pending", None),
        ({"type": "LMS", "statusCode": "4000"}, "delivered", "lms"),
        ({"type": "SMS", "statusCode": "3043"}, "failed", None),
        ({"type": "ATA", "statusCode": "4000"}, "delivered", "alimtalk"),
        ({"type": "ATA", "statusCode": "3104", "kakaoOptions": {"disableSms": True}}, "failed", None),
        ({"type": "SMS", "statusCode": "9999"}, "failed", None),
    ],
)
def test_a_report_reads_the_message_by_id(entry: dict[str, Any], outcome: str, via: str | None) -> None:
    pool = Pool(listed({"messageId": "M1", **entry}))
    report = client(pool).report("M1")
    assert pool.requests[0]["path"] == "/messages/v4/list"
    assert pool.requests[0]["query"] == {"criteria": "messageId", "cond": "eq", "value": "M1", "limit": "20"}
    assert (report.outcome, report.delivered_via, report.code) == (outcome, via, entry["statusCode"])


def test_a_message_not_listed_yet_is_pending() -> None:
    assert client(Pool(listed())).report("M1").outcome == "pending"


def test_a_failed_alimtalk_with_solapis_sms_fallback_is_settled_by_the_replacement_message() -> None:
    ata = {"messageId": "M1", "groupId": "G1", "to": "01012345678", "from": "0212345678", "type": "ATA",
           "statusCode": "3104", "kakaoOptions": {"disableSms": False}, "replacement": False}  # fmt: skip
    sms_fb = {"messageId": "M2", "groupId": "G1", "to": "01012345678", "type": "SMS", "statusCode": "4000",
              "replacement": True}  # fmt: skip
    pool = Pool(listed(ata), listed(ata, sms_fb))
    report = client(pool).report("M1")
    assert pool.requests[1]["query"] == {
        "criteria": "groupId,to",
        "cond": "eq,eq",
        "value": "G1,01012345678",
        "limit": "20",
    }
    assert (report.outcome, report.code, report.delivered_via, report.fallback_used) == (
        "delivered",
        "3104/4000",
        "sms",
        True,
    )


def test_a_failed_alimtalk_whose_fallback_has_not_appeared_yet_is_pending() -> None:
    ata = {"messageId": "M1", "groupId": "G1", "to": "010", "from": "0212345678", "type": "ATA",
           "statusCode": "3104", "kakaoOptions": {"disableSms": False}}  # fmt: skip
    assert client(Pool(listed(ata), listed(ata))).report("M1").outcome == "pending"


def test_a_failed_alimtalk_sent_without_a_sender_number_has_no_fallback_to_wait_for() -> None:
    ata = {"messageId": "M1", "groupId": "G1", "to": "010", "type": "ATA", "statusCode": "3104",
           "kakaoOptions": {"disableSms": False}}  # fmt: skip
    report = client(Pool(listed(ata))).report("M1")
    assert (report.outcome, report.fallback_used) == ("failed", False)


def test_a_report_error_raises_with_solapis_code_for_the_poller_to_back_off() -> None:
    with pytest.raises(SolapiError) as caught:
        client(Pool(error(403, "SignatureDoesNotMatch"))).report("M1")
    assert caught.value.error.code == "SignatureDoesNotMatch"
    with pytest.raises(TransportError):
        client(Pool(NewConnectionError(None, "refused"))).report("M1")  # type: ignore[arg-type]


def template(tid: str, status: str = "APPROVED", **kw: Any) -> dict[str, Any]:
    return {"templateId": tid, "name": f"n-{tid}", "content": "#{name}님 주문 #{order}", "status": status, **kw}


def test_templates_are_read_across_pages_into_the_domains_shape() -> None:
    pool = Pool(
        ok({"templateList": [template("A1")], "nextKey": "A2"}),
        ok({"templateList": [template("A2", "REJECTED", buttons=[
            {"buttonType": "WL", "buttonName": "보기", "linkMo": "https://m/#{order}", "linkPc": None}])],
            "nextKey": None}),
    )  # fmt: skip
    found = client(pool).templates(pf_id="PF1")
    assert [r["query"].get("startKey") for r in pool.requests] == [None, "A2"]
    assert pool.requests[0]["query"]["pfId"] == "PF1"
    assert found["A1"].status == "승인" and found["A1"].placeholders == ["name", "order"]
    assert found["A2"].status == "반려"
    assert (found["A2"].buttons[0].type, found["A2"].buttons[0].url) == ("웹링크", "https://m/#{order}")


def test_a_template_status_given_only_in_codes_is_read_from_there() -> None:
    pool = Pool(ok({"templateId": "A1", "content": "x", "codes": [{"status": "APPROVED"}]}))
    found = client(pool).template("A1")
    assert found is not None and found.status == "승인"


def test_a_template_solapi_does_not_have_is_none() -> None:
    assert client(Pool(error(404, "NotFound"))).template("nope") is None


def test_the_balance_is_read_as_a_number() -> None:
    assert client(Pool(ok({"balance": 12345.5, "point": 0}))).balance() == 12345.5
    with pytest.raises(SolapiError):
        client(Pool(ok({"point": 0}))).balance()
