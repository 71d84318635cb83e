"""Code tables of the KTH API Store SMS (ppurio v2.3) and KakaoTalk AlimTalk (kko v1.5) APIs.

The specs in ``shared/spec`` are the source of truth: every table is transcribed complete, with the
Korean text verbatim (the PDF-to-text line breaks and double spaces normalised to single spaces).
A code the tables do not know is kept verbatim and never raises: the provider has changed its codes
before (the spec's change log lists three error-code updates), and a report must not be lost over it.

Pure domain: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.verdict import ReportOutcome, Verdict

__all__ = [
    "KKO_MSG_RSLT_CODES",
    "KKO_RSLT_CODES",
    "KKO_SENDNUMBER_CODES",
    "KKO_SEND_CODES",
    "PPURIO_REPORT_CODES",
    "PPURIO_SENDNUMBER_CODES",
    "PPURIO_SEND_CODES",
    "TEMPLATE_STATUS_BY_CODE",
    "TEMPLATE_STATUS_CODE_BY_NAME",
    "UNKNOWN_GROUP",
    "UNKNOWN_REASON",
    "ReportCode",
    "SendCode",
    "kko_msg_rslt",
    "kko_rslt",
    "kko_send_outcome",
    "ppurio_report",
    "ppurio_send_outcome",
]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _as_text(code: object) -> str:
    # Typed as str, but a JSON body may carry a number or null; a lookup must never crash on that.
    if isinstance(code, str):
        return code
    return "" if code is None else str(code)


# --------------------------------------------------------------------------------------------------
# Send APIs: result_code of /ppurio/1/message/{sms,lms,mms} and /kko/1/msg
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendCode:
    code: str
    verdict: Verdict
    reason: str
    """Readable English, then the spec's Korean meaning where the spec gives one."""


def _send_table(rows: tuple[tuple[str, Verdict, str], ...]) -> dict[str, SendCode]:
    return {code: SendCode(code, verdict, _norm(reason)) for code, verdict, reason in rows}


# 100 is RETRY, not REJECTED: a bad key or client id is fixed by the operator, and the messages must
# survive in the DLQ to be redriven afterwards. 600 (balance) is the same kind of operator fix.
_USER_ERROR = "User Error: authentication or account problem; check the API key and client id"
_ETC_ERROR = "Etc Error: unspecified provider-side error"
_UNREGISTERED_SENDER = "sender number not pre-registered: 발신번호 사전 등록제에 의한 미등록 차단"

PPURIO_SEND_CODES: dict[str, SendCode] = _send_table(
    (
        ("100", Verdict.RETRY, _USER_ERROR),
        ("200", Verdict.ACCEPTED, "OK"),
        ("300", Verdict.REJECTED, "Parameter Error: the request parameters were refused"),
        ("400", Verdict.RETRY, _ETC_ERROR),
        ("500", Verdict.REJECTED, _UNREGISTERED_SENDER),
        ("600", Verdict.RETRY, "prepaid balance insufficient: 선불제 충전요금 부족"),
    )
)

KKO_SEND_CODES: dict[str, SendCode] = _send_table(
    (
        ("100", Verdict.RETRY, _USER_ERROR),
        ("200", Verdict.ACCEPTED, "OK"),
        ("300", Verdict.REJECTED, "Parameter Error: the request parameters were refused"),
        (
            "301",
            Verdict.REJECTED,
            "fallback SMS subject/content missing while FAILED_TYPE is not N: "
            'failed_type 이 "N" 이 아닌 경우에 실패SMS 제목과 내용이 없으면 에러',
        ),
        (
            "302",
            Verdict.FALLBACK,
            "buttons sent for a template without button info: "
            "버튼 2개이상 발송시에 버튼 정보가 없는 템플릿에 대한 에러",
        ),
        ("400", Verdict.RETRY, _ETC_ERROR),
        ("500", Verdict.REJECTED, _UNREGISTERED_SENDER),
        ("600", Verdict.RETRY, "balance insufficient: 충전요금 부족"),
        ("700", Verdict.FALLBACK, "template not approved: 템플릿코드 사전 승인제에 의한 미승인 차단"),
        ("800", Verdict.FALLBACK, "template code error: 템플릿코드에러"),
        ("900", Verdict.FALLBACK, "sender profile does not exist: 프로파일이 존재하지 않음"),
    )
)


def _send_outcome(table: dict[str, SendCode], code: str) -> SendCode:
    text = _as_text(code)
    known = table.get(text.strip())
    if known is not None:
        return known
    return SendCode(text, Verdict.UNKNOWN, f"unknown result_code {text}")


def ppurio_send_outcome(code: str) -> SendCode:
    """Verdict for a ppurio send result_code; never raises."""
    return _send_outcome(PPURIO_SEND_CODES, code)


def kko_send_outcome(code: str) -> SendCode:
    """Verdict for an AlimTalk send result_code; never raises."""
    return _send_outcome(KKO_SEND_CODES, code)


# --------------------------------------------------------------------------------------------------
# Reports: ppurio call_status (appendix 6.1) and kko RSLT / MSG_RSLT (appendix 6.1)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportCode:
    code: str
    outcome: ReportOutcome
    reason: str
    group: str
    """The table's 구분: "SMS", "MMS/LMS", "공통" (ppurio), "RSLT", "MSG_RSLT" (kko), or "unknown"."""
    name: str = ""
    """The kko table's symbolic name (e.g. "NO_USER"); ppurio rows have none."""


UNKNOWN_GROUP = "unknown"
UNKNOWN_REASON = "unknown code"


def _ppurio_rows(group: str, delivered: str, rows: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ReportCode], ...]:
    return tuple(
        (
            code,
            ReportCode(
                code,
                ReportOutcome.DELIVERED if code == delivered else ReportOutcome.FAILED,
                _norm(text) or "(no description in spec)",
                group,
            ),
        )
        for code, text in rows
    )


# Spec order is kept (it is not numeric) so the table reads against the appendix line by line.
_PPURIO_SMS = (
    ("4100", "전달"),
    ("4421", "타임아웃"),
    ("4426", "재시도한도초과"),
    ("4425", "단말기호처리중"),
    ("4400", "음영지역"),
    ("4401", "단말기전원꺼짐"),
    ("4402", "단말기메시지저장초과"),
    ("4410", "잘못된번호"),
    ("4422", "단말기일시정지"),
    ("4427", "기타단말기문제"),
    ("4405", "단말기 busy"),
    ("4423", "단말기착신거부"),
    ("4412", "착신거절"),
    ("4411", "NPDB 에러"),
    ("4428", "시스템에러"),
    ("4404", "가입자위치정보없음"),
    ("4413", "SMSC 형식오류"),
    ("4414", "비가입자, 결번, 서비스정지"),
    ("4424", "URL SMS 미지원폰"),
    ("4403", "메시지삭제됨"),
    ("4430", "스팸"),
    ("4431", "발송제한 수신거부 (스팸)"),
    # 4432/4433 (and 6628/6629) carry the same text in the spec; kept as written.
    ("4432", "번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용"),
    ("4433", "번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용"),
    ("4434", "발신번호 사전 등록제에 의한 미등록 차단"),
    ("4435", "KISA 에 스팸 신고된 발신번호 사용"),
    ("4436", "발신번호 사전 등록제 번호규칙 위반"),
    ("4420", "기타에러"),
)

_PPURIO_MMS = (
    ("6600", "전달"),
    ("6601", "타임아웃"),
    ("6602", "핸드폰호처리중"),
    ("6603", "음영지역"),
    ("6604", "전원이꺼져있음"),
    ("6605", "메시지저장개수초과"),
    ("6606", "잘못된번호"),
    ("6607", "서비스일시정지"),
    ("6608", "기타단말기문제"),
    ("6609", "착신거절"),
    ("6610", "기타에러"),
    ("6611", "통신사의 SMC 형식오류"),
    ("6612", "게이트웨이의형식오류"),
    ("6613", "서비스불가단말기"),
    ("6614", "핸드폰호불가상태"),
    ("6615", "SMC 운영자에의해삭제"),
    ("6616", "통신사의메시지큐초과"),
    ("6617", "통신사의스팸처리"),
    ("6618", "공정위의스팸처리"),
    ("6619", "게이트웨이의스팸처리"),
    ("6620", "발송건수초과"),
    ("6621", "메시지의길이초과"),
    ("6622", "잘못된번호형식"),
    ("6623", "잘못된데이터형식"),
    ("6624", "MMS 정보를찾을수없음"),
    ("6625", "NPDB 에러"),
    ("6626", "080 수신거부 (SPAM)"),
    ("6627", "발신제한 수신거부 (SPAM)"),
    ("6628", "번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용"),
    ("6629", "번호도용문자 차단서비스에 가입된 발신번호 (개인) 사용"),
    ("6630", "서비스 불가 번호"),
    ("6631", "발신번호 사전 등록제에 의한 미등록 차단"),
    ("6632", "KISA 에 스팸 신고된 발신번호 사용"),
    ("6633", "발신번호 사전 등록제 번호규칙 위반"),
    ("6670", "이미지파일크기제한"),
)

_PPURIO_COMMON = (
    ("9903", "선불사용자 사용금지"),
    ("9904", "Block time (날짜제한)"),
    ("9082", "발송해제"),
    ("9083", "IP 차단"),
    ("9023", "Callback error"),
    ("9905", "Block time (요일제한)"),
    ("9010", "아이디 틀림"),
    ("9011", "비밀번호 틀림"),
    ("9012", "중복접속량 많음"),
    ("9013", "발송시간 지난 데이터"),
    ("9014", "시간제한 (리포트 수신대기 timeout)"),
    ("9020", "Wrong Data Format"),
    ("9021", ""),  # the spec's description cell is empty
    ("9022", "Wrong Data Format (cinfo 가 특수 문자/, 공백을 포함하고 있다)"),
    ("9080", "Deny User Ack"),
    ("9214", "Wrong Phone Num"),
    ("9311", "Fax File Not Found"),
    ("9908", "PHONE, FAX 선불사용자 제한기능"),
    ("9090", "기타에러"),
    # -1 sits under 공통 in the appendix: its 구분 cell is the continuation of the 공통 block.
    ("-1", "잘못된 데이터 형식, 발송오류"),
)

PPURIO_REPORT_CODES: dict[str, ReportCode] = dict(
    _ppurio_rows("SMS", "4100", _PPURIO_SMS)
    + _ppurio_rows("MMS/LMS", "6600", _PPURIO_MMS)
    + _ppurio_rows("공통", "", _PPURIO_COMMON)
)


def _kko_table(group: str, delivered: tuple[str, ...], rows: tuple[tuple[str, str, str], ...]) -> dict[str, ReportCode]:
    return {
        code: ReportCode(
            code,
            ReportOutcome.DELIVERED if code in delivered else ReportOutcome.FAILED,
            _norm(f"{name} {text}"),
            group,
            name,
        )
        for code, name, text in rows
    }


# Codes are case-sensitive: 'a' (E_INSUFFICIENT) and 'A' (NO_USER) are different rows.
# Names are verbatim, spec typos included (NO_SEND_AVALIABLE_STATUS), since logs are grepped for them.
KKO_RSLT_CODES: dict[str, ReportCode] = _kko_table(
    "RSLT",
    ("0",),
    (
        ("0", "SUCCESS", "성공"),
        ("1", "INVALID_SENDER_KEY", "발신 프로필 키가 유효하지않음"),
        ("2", "NOT_CONNECTED_USER", "서버와 연결되어있지않은 사용자"),
        ("5", "ACK_TIMEOUT", "메시지 발송 후 수신여부 불투명"),
        ("6", "RESPONSE_HISTORY_NOTFOUND", "메시지 전송결과를 찾을 수 없음"),
        ("8", "NO_SEND_AVALIABLE_STATUS", "메시지를 전송할 수 없는 상태"),
        ("9", "NO_VISIT_USER", "최근 카카오톡을 미사용자"),
        ("a", "E_INSUFFICIENT", "건수 부족"),
        ("b", "E_REJECT_ITER", "전송 권한 없음"),
        ("c", "E_DUP_KEY", "중복된 키 접수 차단"),
        ("d", "E_DUP_PHONE", "중복된 수신번호 접수 차단"),
        ("e", "E_SERVER_ERROR", "서버 내부 에러"),
        ("f", "E_FORMAT_ERR", "메시지 포맷 에러"),
        ("k", "MESSAGE_NOT_FOUND", "메시지가존재하지않음"),
        ("o", "E_TIMEOUT_AGENT", "TIME OUT 처리(Agent 내부)"),
        ("p", "E_DUPLICATE_PHONE_MSG", "메시지본문 중복 차단(Agent 내부)"),
        ("t", "MESSAGE_EMPTY", "메시지가비어있음"),
        ("A", "NO_USER", "카카오톡을 미사용자"),
        ("B", "USER_BLOCKED_DELIVERY", "알림톡 차단을 선택한 사용자"),
        ("C", "SERIAL_NUMBER_DUPLICATED", "메시지 일련번호 중복"),
        ("D", "DUPLICATED", "5초 이내 메시지 중복 발송"),
        ("E", "UNSUPPORTED_CLIENT", "미지원 클라이언트 버전"),
        ("F", "ETC", "기타 오류"),
        ("H", "FAILED_TO_SEND_MESSAGE", "카카오 시스템 오류"),
        ("I", "INVALID_PHONE_NUMBER", "전화번호 오류"),
        ("J", "SAFETY_PHONE_NUMBER", "050안심번호 발송불가"),
        ("L", "MESSAGE_LENGTH_OVER_LIMIT", "메시지 길이 제한 오류"),
        ("M", "TEMPLATE_NOT_FOUND", "템플릿을 찾을 수 없음"),
        ("S", "SPAM", "발신번호 검증 오류"),
        ("U", "NO_MATCHED_TEMPLATE", "메시지가 템플릿과 일치하지않음"),
        ("V", "FAILED_TO_MATCH_TEMPLATE", "메시지가 템플릿과 비교 실패"),
    ),
)

# "00" is not in the table, but the live server (and the spec's own example) sent MSG_RSLT "00" for
# success; it gets its own row so the recorded code stays what the server said.
KKO_MSG_RSLT_CODES: dict[str, ReportCode] = _kko_table(
    "MSG_RSLT",
    ("0", "00"),
    (
        ("0", "E_OK", "성공"),
        ("00", "E_OK", "성공"),
        ("1", "E_TIMEOUT", "전송시간 초과"),
        ("2", "E_INVALID_PHONE", "잘못된 전화번호/비가입자"),
        ("5", "E_NOT_ACK", "통신사 결과 미수신"),
        ("8", "E_PHONE_BUSY", "단말기 BUSY"),
        ("9", "E_SHADOW_REGION", "음영지역"),
        ("a", "E_INSUFFICIENT", "건수 부족"),
        ("b", "E_REJECT_ITER", "전송 권한 없음"),
        ("c", "E_DUP_KEY", "중복된 키 접수 차단"),
        ("d", "E_DUP_PHONE", "중복된 수신번호 접수 차단"),
        ("e", "E_SERVER_ERROR", "서버 내부 에러"),
        ("o", "E_TIMEOUT_AGENT", "TIME OUT 처리(Agent 내부)"),
        # The PDF extraction put this description on the line above the "p" row.
        ("p", "E_DUPLICATE_PHONE_MSG", "메시지본문 중복 차단(Agent 내부)"),
        ("q", "E_DUPLICATE_KEY", "메시지 중복키 체크(Agent 내부)"),
        ("t", "E_TOGETHER_COUNT", "잘못된 동보 전송 수신번호 리스트 카운트(Agent 내부)"),
        ("A", "E_MSG_FULL", "단말기 메시지 저장개수 초과"),
        ("B", "E_SERVICE_STOP", "단말기 일시 서비스 정지"),
        ("C", "E_ETC_PHONE", "기타 단말기 문제"),
        ("D", "E_DENY", "착신 거절"),
        ("E", "E_POWER_OFF", "전원 꺼짐"),
        ("F", "E_ETC", "기타"),
        ("G", "E_INNER_FORMAT_ERR", "내부 포맷 에러"),
        ("H", "E_TELCO_FORMAT_ERR", "통신사 포맷 에러"),
        ("I", "E_UNACCEPTED_PHONE", "SMS/MMS 서비스 불가 단말기"),
        ("J", "E_MSG_FAIL", "착신 측 호 불가 상태"),
        ("K", "E_TELCO_MSG_DEL", "통신사에서 메시지 삭제 처리"),
        ("L", "E_TELCO_QUE_FULL", "통신사 메시지 처리 불가 상태"),
        ("M", "E_WIRELESS_FAIL", "무선망단 전송 실패"),
        ("S", "E_SPAM", "스팸"),
        ("V", "E_CONTENTS_SIZE_ERR", "컨텐츠 사이즈 초과"),
        ("U", "E_CONTENTS_ERR", "잘못된 컨텐츠"),
    ),
)


def _report(table: dict[str, ReportCode], code: str) -> ReportCode:
    text = _as_text(code)
    known = table.get(text.strip())
    if known is not None:
        return known
    # Verbatim, whitespace included: the record should show exactly what the provider sent.
    return ReportCode(text, ReportOutcome.FAILED, UNKNOWN_REASON, UNKNOWN_GROUP)


def ppurio_report(code: str) -> ReportCode:
    """Meaning of a ppurio report call_status; an unknown code is FAILED, kept verbatim, never raises."""
    return _report(PPURIO_REPORT_CODES, code)


def kko_rslt(code: str) -> ReportCode:
    """Meaning of an AlimTalk report RSLT (case-sensitive); unknown codes as in ppurio_report."""
    return _report(KKO_RSLT_CODES, code)


def kko_msg_rslt(code: str) -> ReportCode:
    """Meaning of an AlimTalk report MSG_RSLT (the fallback SMS/LMS); unknown codes as in ppurio_report."""
    return _report(KKO_MSG_RSLT_CODES, code)


# --------------------------------------------------------------------------------------------------
# Sender-number registration, templates, buttons
# --------------------------------------------------------------------------------------------------

# kko /kko/2/sendnumber/save (request a PIN, then confirm it); the table has no 100.
KKO_SENDNUMBER_CODES: dict[str, str] = {
    "200": "성공",
    "300": "파라메터 에러",
    "400": "인증 업데이트 중 에러",
    "500": "이미 등록된 번호",
    "600": "일치 하지 않는 인증번호",
    "700": "핀코드 인증 시간 만료(3분 이후 만료이며 재등록 요청해야 함.)",
}

# ppurio /ppurio/1/sendnumber/save
PPURIO_SENDNUMBER_CODES: dict[str, str] = {
    "100": "User Error",
    "200": "OK",
    "300": "Parameter Error",
    "400": "Etc Error",
    "500": "중복등록",
}

# The template-list filter takes these codes, while the response's status is the Korean word.
TEMPLATE_STATUS_BY_CODE: dict[str, str] = {
    "1": "등록",
    "2": "검수요청",
    "3": "승인",
    "4": "반려",
    "5": "승인중단",
}
TEMPLATE_STATUS_CODE_BY_NAME: dict[str, str] = {name: code for code, name in TEMPLATE_STATUS_BY_CODE.items()}
