"""Provider code tables against the specs (shared/spec/ppurio-sms-api-v2.3.txt, kakao-alimtalk-api-v1.5.txt).

The expected rows below are transcribed from the spec text on their own, not copied from the module,
so a dropped row, a typo or a swapped meaning in either shows up as a failure.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.event import BUTTON_TYPES, LINK_BUTTON_TYPES
from notifier.domain.verdict import ReportOutcome, Verdict
from notifier.providers.apistore.codes import (
    KKO_MSG_RSLT_CODES,
    KKO_RSLT_CODES,
    KKO_SEND_CODES,
    KKO_SENDNUMBER_CODES,
    PPURIO_REPORT_CODES,
    PPURIO_SEND_CODES,
    PPURIO_SENDNUMBER_CODES,
    TEMPLATE_STATUS_BY_CODE,
    TEMPLATE_STATUS_CODE_BY_NAME,
    ReportCode,
    SendCode,
    kko_msg_rslt,
    kko_rslt,
    kko_send_outcome,
    ppurio_report,
    ppurio_send_outcome,
)

# ppurio appendix 6.1, one "code description" per line, in the spec's order.
PPURIO_SMS_ROWS = """
4100 전달
4421 타임아웃
4426 재시도한도초과
4425 단말기호처리중
4400 음영지역
4401 단말기전원꺼짐
4402 단말기메시지저장초과
4410 잘못된번호
4422 단말기일시정지
4427 기타단말기문제
4405 단말기 busy
4423 단말기착신거부
4412 착신거절
4411 NPDB 에러
4428 시스템에러
4404 가입자위치정보없음
4413 SMSC 형식오류
4414 비가입자, 결번, 서비스정지
4424 URL SMS 미지원폰
4403 메시지삭제됨
4430 스팸
4431 발송제한 수신거부 (스팸)
4432 번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용
4433 번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용
4434 발신번호 사전 등록제에 의한 미등록 차단
4435 KISA 에 스팸 신고된 발신번호 사용
4436 발신번호 사전 등록제 번호규칙 위반
4420 기타에러
"""

PPURIO_MMS_ROWS = """
6600 전달
6601 타임아웃
6602 핸드폰호처리중
6603 음영지역
6604 전원이꺼져있음
6605 메시지저장개수초과
6606 잘못된번호
6607 서비스일시정지
6608 기타단말기문제
6609 착신거절
6610 기타에러
6611 통신사의 SMC 형식오류
6612 게이트웨이의형식오류
6613 서비스불가단말기
6614 핸드폰호불가상태
6615 SMC 운영자에의해삭제
6616 통신사의메시지큐초과
6617 통신사의스팸처리
6618 공정위의스팸처리
6619 게이트웨이의스팸처리
6620 발송건수초과
6621 메시지의길이초과
6622 잘못된번호형식
6623 잘못된데이터형식
6624 MMS 정보를찾을수없음
6625 NPDB 에러
6626 080 수신거부 (SPAM)
6627 발신제한 수신거부 (SPAM)
6628 번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용
6629 번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용
6630 서비스 불가 번호
6631 발신번호 사전 등록제에 의한 미등록 차단
6632 KISA 에 스팸 신고된 발신번호 사용
6633 발신번호 사전 등록제 번호규칙 위반
6670 이미지파일크기제한
"""

# 9021's description cell is empty in the spec.
PPURIO_COMMON_ROWS = """
9903 선불사용자 사용금지
9904 Block time (날짜제한)
9082 발송해제
9083 IP 차단
9023 Callback error
9905 Block time (요일제한)
9010 아이디 틀림
9011 비밀번호 틀림
9012 중복접속량 많음
9013 발송시간 지난 데이터
9014 시간제한 (리포트 수신대기 timeout)
9020 Wrong Data Format
9021 (no description in spec)
9022 Wrong Data Format (cinfo 가 특수 문자/, 공백을 포함하고 있다)
9080 Deny User Ack
9214 Wrong Phone Num
9311 Fax File Not Found
9908 PHONE, FAX 선불사용자 제한기능
9090 기타에러
-1 잘못된 데이터 형식, 발송오류
"""

# kko appendix 6.1, "code NAME description".
KKO_RSLT_ROWS = """
0 SUCCESS 성공
1 INVALID_SENDER_KEY 발신 프로필 키가 유효하지않음
2 NOT_CONNECTED_USER 서버와 연결되어있지않은 사용자
5 ACK_TIMEOUT 메시지 발송 후 수신여부 불투명
6 RESPONSE_HISTORY_NOTFOUND 메시지 전송결과를 찾을 수 없음
8 NO_SEND_AVALIABLE_STATUS 메시지를 전송할 수 없는 상태
9 NO_VISIT_USER 최근 카카오톡을 미사용자
a E_INSUFFICIENT 건수 부족
b E_REJECT_ITER 전송 권한 없음
c E_DUP_KEY 중복된 키 접수 차단
d E_DUP_PHONE 중복된 수신번호 접수 차단
e E_SERVER_ERROR 서버 내부 에러
f E_FORMAT_ERR 메시지 포맷 에러
k MESSAGE_NOT_FOUND 메시지가존재하지않음
o E_TIMEOUT_AGENT TIME OUT 처리(Agent 내부)
p E_DUPLICATE_PHONE_MSG 메시지본문 중복 차단(Agent 내부)
t MESSAGE_EMPTY 메시지가비어있음
A NO_USER 카카오톡을 미사용자
B USER_BLOCKED_DELIVERY 알림톡 차단을 선택한 사용자
C SERIAL_NUMBER_DUPLICATED 메시지 일련번호 중복
D DUPLICATED 5초 이내 메시지 중복 발송
E UNSUPPORTED_CLIENT 미지원 클라이언트 버전
F ETC 기타 오류
H FAILED_TO_SEND_MESSAGE 카카오 시스템 오류
I INVALID_PHONE_NUMBER 전화번호 오류
J SAFETY_PHONE_NUMBER 050안심번호 발송불가
L MESSAGE_LENGTH_OVER_LIMIT 메시지 길이 제한 오류
M TEMPLATE_NOT_FOUND 템플릿을 찾을 수 없음
S SPAM 발신번호 검증 오류
U NO_MATCHED_TEMPLATE 메시지가 템플릿과 일치하지않음
V FAILED_TO_MATCH_TEMPLATE 메시지가 템플릿과 비교 실패
"""

KKO_MSG_RSLT_ROWS = """
0 E_OK 성공
1 E_TIMEOUT 전송시간 초과
2 E_INVALID_PHONE 잘못된 전화번호/비가입자
5 E_NOT_ACK 통신사 결과 미수신
8 E_PHONE_BUSY 단말기 BUSY
9 E_SHADOW_REGION 음영지역
a E_INSUFFICIENT 건수 부족
b E_REJECT_ITER 전송 권한 없음
c E_DUP_KEY 중복된 키 접수 차단
d E_DUP_PHONE 중복된 수신번호 접수 차단
e E_SERVER_ERROR 서버 내부 에러
o E_TIMEOUT_AGENT TIME OUT 처리(Agent 내부)
p E_DUPLICATE_PHONE_MSG 메시지본문 중복 차단(Agent 내부)
q E_DUPLICATE_KEY 메시지 중복키 체크(Agent 내부)
t E_TOGETHER_COUNT 잘못된 동보 전송 수신번호 리스트 카운트(Agent 내부)
A E_MSG_FULL 단말기 메시지 저장개수 초과
B E_SERVICE_STOP 단말기 일시 서비스 정지
C E_ETC_PHONE 기타 단말기 문제
D E_DENY 착신 거절
E E_POWER_OFF 전원 꺼짐
F E_ETC 기타
G E_INNER_FORMAT_ERR 내부 포맷 에러
H E_TELCO_FORMAT_ERR 통신사 포맷 에러
I E_UNACCEPTED_PHONE SMS/MMS 서비스 불가 단말기
J E_MSG_FAIL 착신 측 호 불가 상태
K E_TELCO_MSG_DEL 통신사에서 메시지 삭제 처리
L E_TELCO_QUE_FULL 통신사 메시지 처리 불가 상태
M E_WIRELESS_FAIL 무선망단 전송 실패
S E_SPAM 스팸
V E_CONTENTS_SIZE_ERR 컨텐츠 사이즈 초과
U E_CONTENTS_ERR 잘못된 컨텐츠
"""


def _ppurio(group: str, block: str) -> list[tuple[str, str, str]]:
    rows = [line.split(" ", 1) for line in block.strip().splitlines()]
    return [(group, code, text) for code, text in rows]


def _kko(block: str) -> list[tuple[str, str, str]]:
    rows = [line.split(" ", 2) for line in block.strip().splitlines()]
    return [(code, name, text) for code, name, text in rows]


PPURIO_ROWS = (
    _ppurio("SMS", PPURIO_SMS_ROWS) + _ppurio("MMS/LMS", PPURIO_MMS_ROWS) + _ppurio("공통", PPURIO_COMMON_ROWS)
)
RSLT_ROWS = _kko(KKO_RSLT_ROWS)
MSG_RSLT_ROWS = _kko(KKO_MSG_RSLT_ROWS)


# --- ppurio report (call_status) ------------------------------------------------------------------


@pytest.mark.parametrize(("group", "code", "text"), PPURIO_ROWS, ids=[r[1] for r in PPURIO_ROWS])
def test_each_ppurio_report_row_maps_to_the_spec_reason_and_group(group: str, code: str, text: str) -> None:
    # Given a call_status row of the spec's appendix
    # When the report code is looked up
    result = ppurio_report(code)
    # Then the spec's description and 구분 come back, and only the two 전달 codes count as delivered
    assert result == ReportCode(
        code, ReportOutcome.DELIVERED if code in ("4100", "6600") else ReportOutcome.FAILED, text, group
    )


def test_ppurio_report_table_has_exactly_the_spec_rows_per_group() -> None:
    # Given the spec's appendix: 28 SMS rows, 35 MMS/LMS rows, 20 공통 rows (-1 included)
    expected = {code: group for group, code, _ in PPURIO_ROWS}
    # When the module's table is grouped
    by_group: dict[str, int] = {}
    for row in PPURIO_REPORT_CODES.values():
        by_group[row.group] = by_group.get(row.group, 0) + 1
    # Then no row is missing and none is invented
    assert {code: row.group for code, row in PPURIO_REPORT_CODES.items()} == expected
    assert by_group == {"SMS": 28, "MMS/LMS": 35, "공통": 20}
    assert len(PPURIO_REPORT_CODES) == 83


def test_ppurio_row_without_description_gets_a_placeholder_reason() -> None:
    # Given 9021, whose description the spec left empty
    # When it is looked up
    # Then the reason says so instead of being blank
    assert ppurio_report("9021").reason == "(no description in spec)"


def test_ppurio_report_lookup_ignores_surrounding_whitespace() -> None:
    # Given a known code padded with whitespace
    # When it is looked up
    # Then the table's row comes back with the clean code
    assert ppurio_report(" 4100\n") == PPURIO_REPORT_CODES["4100"]
    assert ppurio_report("-1 ").code == "-1"


# --- kko report (RSLT / MSG_RSLT) -----------------------------------------------------------------


@pytest.mark.parametrize(("code", "name", "text"), RSLT_ROWS, ids=[f"{r[0]}-{r[1]}" for r in RSLT_ROWS])
def test_each_rslt_row_maps_to_name_and_reason(code: str, name: str, text: str) -> None:
    # Given an RSLT row of the spec's appendix
    # When it is looked up
    result = kko_rslt(code)
    # Then reason is "<NAME> <description>", and only 0 counts as delivered
    assert result == ReportCode(
        code, ReportOutcome.DELIVERED if code == "0" else ReportOutcome.FAILED, f"{name} {text}", "RSLT", name
    )


@pytest.mark.parametrize(("code", "name", "text"), MSG_RSLT_ROWS, ids=[f"{r[0]}-{r[1]}" for r in MSG_RSLT_ROWS])
def test_each_msg_rslt_row_maps_to_name_and_reason(code: str, name: str, text: str) -> None:
    # Given a MSG_RSLT row of the spec's appendix
    # When it is looked up
    result = kko_msg_rslt(code)
    # Then reason is "<NAME> <description>", and only 0 counts as delivered
    assert result == ReportCode(
        code, ReportOutcome.DELIVERED if code == "0" else ReportOutcome.FAILED, f"{name} {text}", "MSG_RSLT", name
    )


def test_kko_tables_have_exactly_the_spec_rows() -> None:
    # Given the spec's 31 RSLT rows and 31 MSG_RSLT rows
    # When the module's tables are listed
    # Then they hold the same codes, plus only the live server's "00" in MSG_RSLT
    assert set(KKO_RSLT_CODES) == {code for code, _, _ in RSLT_ROWS}
    assert len(KKO_RSLT_CODES) == 31
    assert set(KKO_MSG_RSLT_CODES) == {code for code, _, _ in MSG_RSLT_ROWS} | {"00"}
    assert len(MSG_RSLT_ROWS) == 31
    assert len(KKO_MSG_RSLT_CODES) == 32


def test_msg_rslt_00_is_delivered_like_0_and_keeps_its_code() -> None:
    # Given the "00" the live server sent for a successful message
    # When it is looked up
    result = kko_msg_rslt("00")
    # Then it means what "0" means, recorded as "00"
    assert result.outcome is ReportOutcome.DELIVERED
    assert result.code == "00"
    assert (result.reason, result.name, result.group) == ("E_OK 성공", "E_OK", "MSG_RSLT")


def test_rslt_has_no_00_alias() -> None:
    # Given "00" in RSLT, which neither the spec nor the server uses
    # When it is looked up
    # Then it is an unknown code, not a success
    assert kko_rslt("00").outcome is ReportOutcome.FAILED
    assert kko_rslt("00").reason == "unknown code"


def test_kko_codes_are_case_sensitive() -> None:
    # Given codes that differ only by case
    # When each is looked up
    # Then each maps to its own row
    assert kko_rslt("a").name == "E_INSUFFICIENT"
    assert kko_rslt("A").name == "NO_USER"
    assert kko_rslt("A").reason == "NO_USER 카카오톡을 미사용자"
    assert kko_msg_rslt("e").name == "E_SERVER_ERROR"
    assert kko_msg_rslt("E").name == "E_POWER_OFF"
    # And a case present only in the other table's spelling is unknown
    assert kko_rslt("K").reason == "unknown code"  # RSLT has "k" only
    assert kko_msg_rslt("k").reason == "unknown code"  # MSG_RSLT has "K" only


def test_template_mismatch_fails_in_the_report() -> None:
    # Given the RSLT codes a message not matching its template gets (accepted at send time)
    # When they are looked up
    # Then both are failures with their names
    assert kko_rslt("U").outcome is ReportOutcome.FAILED
    assert kko_rslt("U").name == "NO_MATCHED_TEMPLATE"
    assert kko_rslt("V").name == "FAILED_TO_MATCH_TEMPLATE"


# --- unknown report codes -------------------------------------------------------------------------

LOOKUPS = pytest.mark.parametrize(
    ("lookup", "table"),
    [(ppurio_report, PPURIO_REPORT_CODES), (kko_rslt, KKO_RSLT_CODES), (kko_msg_rslt, KKO_MSG_RSLT_CODES)],
    ids=["ppurio", "rslt", "msg_rslt"],
)


@LOOKUPS
@pytest.mark.parametrize("code", ["4999", "z", "", "  ", " 7x "])
def test_unknown_report_code_is_failed_and_kept_verbatim(lookup, table, code: str) -> None:
    # Given a code no table lists
    # When it is looked up
    result = lookup(code)
    # Then it is a failure with the code exactly as received
    assert result == ReportCode(code, ReportOutcome.FAILED, "unknown code", "unknown")


@LOOKUPS
@given(code=st.text())
def test_report_lookup_never_raises(lookup, table, code: str) -> None:
    # Given any text at all
    # When it is looked up
    result = lookup(code)
    # Then a row comes back: the table's own, or an unknown one keeping the text verbatim
    if code.strip() in table:
        assert result == table[code.strip()]
    else:
        assert (result.code, result.outcome, result.reason, result.group) == (
            code,
            ReportOutcome.FAILED,
            "unknown code",
            "unknown",
        )


@LOOKUPS
def test_report_lookup_tolerates_non_text_codes(lookup, table) -> None:
    # Given a JSON body that carried a number or null instead of a string
    # When it is looked up
    # Then nothing raises
    assert lookup(None).reason == "unknown code"
    assert isinstance(lookup(12345).code, str)


def test_numeric_ppurio_call_status_is_recognised() -> None:
    # Given call_status sent as a JSON number
    # When it is looked up
    # Then it maps like the string
    assert ppurio_report(4100).outcome is ReportOutcome.DELIVERED  # type: ignore[arg-type]


# --- send result_code -----------------------------------------------------------------------------

PPURIO_SEND = [
    ("100", Verdict.RETRY),
    ("200", Verdict.ACCEPTED),
    ("300", Verdict.REJECTED),
    ("400", Verdict.RETRY),
    ("500", Verdict.REJECTED),
    ("600", Verdict.RETRY),
]

KKO_SEND = [
    ("100", Verdict.RETRY),
    ("200", Verdict.ACCEPTED),
    ("300", Verdict.REJECTED),
    ("301", Verdict.REJECTED),
    ("302", Verdict.FALLBACK),
    ("400", Verdict.RETRY),
    ("500", Verdict.REJECTED),
    ("600", Verdict.RETRY),
    ("700", Verdict.FALLBACK),
    ("800", Verdict.FALLBACK),
    ("900", Verdict.FALLBACK),
]

# The spec's Korean meaning each reason must quote (none for the English-only 100-400).
KOREAN_SEND_MEANINGS = {
    ("ppurio", "500"): "발신번호 사전 등록제에 의한 미등록 차단",
    ("ppurio", "600"): "선불제 충전요금 부족",
    ("kko", "301"): 'failed_type 이 "N" 이 아닌 경우에 실패SMS 제목과 내용이 없으면 에러',
    ("kko", "302"): "버튼 2개이상 발송시에 버튼 정보가 없는 템플릿에 대한 에러",
    ("kko", "500"): "발신번호 사전 등록제에 의한 미등록 차단",
    ("kko", "600"): "충전요금 부족",
    ("kko", "700"): "템플릿코드 사전 승인제에 의한 미승인 차단",
    ("kko", "800"): "템플릿코드에러",
    ("kko", "900"): "프로파일이 존재하지 않음",
}


@pytest.mark.parametrize(("code", "verdict"), PPURIO_SEND)
def test_each_ppurio_send_code_has_the_agreed_verdict(code: str, verdict: Verdict) -> None:
    # Given a ppurio send result_code
    # When its outcome is looked up
    result = ppurio_send_outcome(code)
    # Then the verdict is the team's and the reason quotes the spec where it has Korean text
    assert (result.code, result.verdict) == (code, verdict)
    assert KOREAN_SEND_MEANINGS.get(("ppurio", code), "") in result.reason


@pytest.mark.parametrize(("code", "verdict"), KKO_SEND)
def test_each_kko_send_code_has_the_agreed_verdict(code: str, verdict: Verdict) -> None:
    # Given an AlimTalk send result_code
    # When its outcome is looked up
    result = kko_send_outcome(code)
    # Then the verdict is the team's and the reason quotes the spec where it has Korean text
    assert (result.code, result.verdict) == (code, verdict)
    assert KOREAN_SEND_MEANINGS.get(("kko", code), "") in result.reason


def test_send_tables_hold_exactly_the_spec_codes() -> None:
    # Given the spec's result_code lists
    # When the tables are listed
    # Then nothing is missing or invented
    assert list(PPURIO_SEND_CODES) == [code for code, _ in PPURIO_SEND]
    assert list(KKO_SEND_CODES) == [code for code, _ in KKO_SEND]


@pytest.mark.parametrize("lookup", [ppurio_send_outcome, kko_send_outcome])
def test_user_error_tells_the_operator_what_to_check(lookup) -> None:
    # Given result_code 100 (a credential problem, fixed by the operator)
    # When its outcome is looked up
    # Then it is retried later and the reason points at the credentials
    result = lookup("100")
    assert result.verdict is Verdict.RETRY
    assert "check the API key and client id" in result.reason


@pytest.mark.parametrize("lookup", [ppurio_send_outcome, kko_send_outcome])
@pytest.mark.parametrize("code", ["999", "", "OK", "20"])
def test_unknown_send_code_is_unknown_not_retried_blindly(lookup, code: str) -> None:
    # Given a result_code the spec does not list
    # When its outcome is looked up
    # Then nobody can tell whether it was accepted: UNKNOWN, code kept verbatim
    assert lookup(code) == SendCode(code, Verdict.UNKNOWN, f"unknown result_code {code}")


@pytest.mark.parametrize(
    ("lookup", "table"), [(ppurio_send_outcome, PPURIO_SEND_CODES), (kko_send_outcome, KKO_SEND_CODES)]
)
@given(code=st.text())
def test_send_lookup_never_raises(lookup, table, code: str) -> None:
    # Given any text at all
    # When its outcome is looked up
    result = lookup(code)
    # Then it is the table's row or an UNKNOWN keeping the text verbatim
    assert result == table.get(code.strip(), SendCode(code, Verdict.UNKNOWN, f"unknown result_code {code}"))


def test_kko_fallback_is_used_only_for_the_kko_route() -> None:
    # Given both send tables
    # When their verdicts are collected
    # Then FALLBACK appears only for AlimTalk, where an SMS can still be sent instead
    assert Verdict.FALLBACK not in {row.verdict for row in PPURIO_SEND_CODES.values()}
    assert {c for c, row in KKO_SEND_CODES.items() if row.verdict is Verdict.FALLBACK} == {
        "302",
        "700",
        "800",
        "900",
    }


def test_enum_values_are_the_stored_strings() -> None:
    # Given the enums, whose values end up in records and logs
    # Then their values are the agreed lower-case words
    assert [v.value for v in Verdict] == ["accepted", "rejected", "retry", "fallback", "unknown"]
    assert [o.value for o in ReportOutcome] == ["delivered", "failed", "pending"]


# --- sender numbers, templates, buttons -----------------------------------------------------------


def test_sendnumber_save_codes_match_the_specs() -> None:
    # Given the two sender-number save tables of the specs
    # Then every code and meaning is there
    assert KKO_SENDNUMBER_CODES == {
        "200": "성공",
        "300": "파라메터 에러",
        "400": "인증 업데이트 중 에러",
        "500": "이미 등록된 번호",
        "600": "일치 하지 않는 인증번호",
        "700": "핀코드 인증 시간 만료(3분 이후 만료이며 재등록 요청해야 함.)",
    }
    assert PPURIO_SENDNUMBER_CODES == {
        "100": "User Error",
        "200": "OK",
        "300": "Parameter Error",
        "400": "Etc Error",
        "500": "중복등록",
    }


def test_template_status_codes_and_names_are_inverse() -> None:
    # Given the template filter codes 1-5 and the Korean status words of the list response
    # Then each maps to the other
    assert TEMPLATE_STATUS_BY_CODE == {
        "1": "등록",
        "2": "검수요청",
        "3": "승인",
        "4": "반려",
        "5": "승인중단",
    }
    assert {name: code for code, name in TEMPLATE_STATUS_BY_CODE.items()} == TEMPLATE_STATUS_CODE_BY_NAME


def test_button_types_match_the_spec() -> None:
    # Given the BTN_TYPES words of the spec
    # Then link buttons are the subset that needs URLs
    assert BUTTON_TYPES == ("웹링크", "앱링크", "봇키워드", "메시지전달", "배송조회")
    assert LINK_BUTTON_TYPES == ("웹링크", "앱링크")
    assert set(LINK_BUTTON_TYPES) <= set(BUTTON_TYPES)
