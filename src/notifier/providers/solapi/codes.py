"""SOLAPI's code tables: every message status code (spec/solapi/message-status-codes.md, transcribed
complete with its Korean text verbatim) and the request-level errors (HTTP 4xx/5xx with
`{"errorCode", "errorMessage"}`), each mapped to what the dispatcher and the poller act on.

A status code has two readings:
- `send`: the verdict when the code is a message's entry in the send reply. A message in
  `failedMessageList` was refused at registration, so it was surely not sent: its verdict is
  rejected, retry or fallback, never unknown. A message in `messageList` was registered (accepted).
- `report`: the outcome when the code is read back from the message list: 2000 and 3000 wait for
  the carrier (pending), 4000 is delivered, every other code is a failure.

A code the table does not know is kept verbatim and never raises. The verdicts are the product's
provider-neutral ones (domain/verdict.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.verdict import ReportOutcome, Verdict

REGISTERED = "2000"
AT_CARRIER = "3000"
DELIVERED = "4000"
PENDING_CODES = frozenset({REGISTERED, AT_CARRIER})


@dataclass(frozen=True, slots=True)
class StatusCode:
    code: str
    text: str
    """SOLAPI's Korean text, verbatim."""
    send: Verdict
    why: str = ""
    """Why this verdict, where it is not obvious from the text."""

    @property
    def report(self) -> ReportOutcome:
        if self.code in PENDING_CODES:
            return ReportOutcome.PENDING
        return ReportOutcome.DELIVERED if self.code == DELIVERED else ReportOutcome.FAILED

    @property
    def reason(self) -> str:
        return f"{self.code} {self.text}" + (f" ({self.why})" if self.why else "")


_ACCOUNT = "an account-level refusal, not the message's fault: a fixed account must not have rejected every message"
_KAKAO = "the AlimTalk route refused it; the app may send the fallback SMS/LMS instead"
_STALE_IMAGE = "our cached image id expired at SOLAPI: the client forgets it, so the retry uploads again"
_SERVER = "refused at registration by a server error, so not sent: safe to try again"
_SENDER = "sender number not registered: like API Store's 500, fixed by registering it, not by retrying this message"

_R, _T, _F, _A = Verdict.REJECTED, Verdict.RETRY, Verdict.FALLBACK, Verdict.ACCEPTED

_ROWS: tuple[tuple[str, str, Verdict, str], ...] = (
    ("1010", "필수 입력 값 미입력", _R, ""),
    ("1011", "Format Error", _R, ""),
    ("1013", "제목은 문자 타입이 'SMS'일 경우 사용이 불가능합니다.", _R, ""),
    ("1014", "제목은 40byte까지 사용 가능합니다.", _R, ""),
    ("1020", "등록된 계정이 아니거나 패스워드가 틀림", _T, _ACCOUNT),
    ("1021", "해당 메시지가 없음", _R, ""),
    ("1022", "해당 그룹이 없음", _R, ""),
    ("1023", "해당 이미지가 없음", _T, _STALE_IMAGE),
    ("1024", "서버 오류", _T, _SERVER),
    (
        "1025",
        "잘못된 메시지 타입 ['SMS','LMS','MMS','ATA','CTA']중에서 사용 가능하며 대소문자는 구분하지 않습니다.",
        _R,
        "",
    ),
    (
        "1026",
        "중복 수신번호",
        _T,
        "two messages of one batch to the same phone; the client sends allowDuplicates, so only a retry alone can tell",
    ),
    ("1027", "인코딩 방식은 UTF8 형식만 사용 가능합니다.", _R, ""),
    ("1028", "Non Printable Characters는 사용할 수 없습니다.", _R, ""),
    ("1029", "문자메시지의 경우 EUC-KR(완성형 한글) 범위 안에 있는 문자만 사용 합니다.", _R, ""),
    ("1030", "잔액 부족", _T, "balance insufficient: like API Store's 600, sent once the balance is topped up"),
    (
        "1031",
        "SMS는 90byte LMS, MMS는 2000byte ATA, CTA는 한/영포함 1000자 CTI는 한/영포함 400자까지 사용 가능 합니다.",
        _R,
        "",
    ),
    (
        "1032",
        "유효한 커스텀 필드 값이 아닙니다. 필드명은 30자 설정값은 100자까지 가능하며 'String'형식만 지원 합니다.",
        _R,
        "",
    ),
    ("1033", "kakaoOptions은 메시지가 ATA 나 CTA인 경우에만 사용가능합니다.", _R, ""),
    ("1034", "imageId가 존재하지 않습니다.", _T, _STALE_IMAGE),
    ("1041", "유효한 플러스 친구 값이 아닙니다.", _F, _KAKAO),
    ("1042", "유효한 템플릿 아이디가 아닙니다.", _F, _KAKAO),
    ("1043", "등록한 템플릿과 내용이 다릅니다.", _F, _KAKAO),
    ("1044", "유효한 버튼 값이 아닙니다.", _F, _KAKAO),
    ("1045", "유효한 버튼 URL 값이 아닙니다.", _F, _KAKAO),
    ("1046", "버튼이 있는 템플릿입니다. 'buttons'에 값을 넣어주세요.", _F, _KAKAO),
    ("1047", "버튼이 없는 템플릿입니다. 'buttons', 'buttonName', 'buttonUrl'값을 제거해주세요.", _F, _KAKAO),
    ("1048", "버튼 URL 값은 최대 100자까지 사용 가능합니다.", _F, _KAKAO),
    ("1049", "버튼 명은 최대 14자까지 사용 가능합니다.", _F, _KAKAO),
    ("1050", "버튼은 최대 5개까지 사용 가능합니다.", _F, _KAKAO),
    ("1051", "등록되지 않은 친구톡 이미지 아이디입니다.", _R, "FriendTalk only; this product never sends one"),
    ("1052", "버튼은 템플릿에 등록된 순서대로 입력해주셔야 합니다.", _F, _KAKAO),
    ("1053", "친구톡의 경우 버튼 타입 'DS'(배송조회)는 사용할 수 없습니다.", _R, "FriendTalk only"),
    ("1058", "전송경로 없음", _T, "no route on SOLAPI's side for the account: an outage, not the message's fault"),
    ("1060", "차단된 수신번호", _R, ""),
    ("1061", "사용자에 의해 수신거부 됨(080무료수신거부)", _R, ""),
    ("1062", "발신번호 미등록", _R, _SENDER),
    ("1064", "KISA 신고로 인한 차단", _R, ""),
    ("2000", "정상 접수(이통사로 접수 예정)", _A, ""),
    ("2011", "Format Error", _R, ""),
    ("2024", "서버 오류", _T, _SERVER),
    ("2060", "차단된 수신번호", _R, ""),
    ("2061", "사용자에 의해 수신거부 됨(080무료수신거부)", _R, ""),
    ("2062", "발신번호 미등록", _R, _SENDER),
    ("2063", "차단된 계정", _T, _ACCOUNT),
    ("2064", "KISA 신고로 인한 차단", _R, ""),
    ("2230", "잔액 부족", _T, "balance insufficient: sent once the balance is topped up"),
    ("2254", "플랫폼 내부 스팸처리", _R, ""),
    ("3000", "이통사로 접수(리포트를 기다리는 중)", _A, ""),
    ("3010", "수신번호 형식 오류", _R, ""),
    ("3011", "Format Error", _R, ""),
    ("3012", "연동처 서버 오류", _T, _SERVER),
    ("3013", "발신번호 형식 오류(세칙 위반)", _R, ""),
    ("3014", "알 수 없는 메시지 상태", _R, ""),
    ("3024", "서버 오류", _T, _SERVER),
    ("3031", "전송할 수 없음", _R, ""),
    ("3032", "미가입자", _R, ""),
    ("3040", "전송시간 초과", _R, ""),
    ("3041", "단말기 busy", _R, ""),
    ("3042", "음영지역", _R, ""),
    ("3043", "단말기 Power off", _R, ""),
    ("3044", "단말기 메시지 저장갯수 초과", _R, ""),
    ("3045", "단말기 일시 서비스 정지", _R, ""),
    ("3046", "기타 단말기 문제", _R, ""),
    ("3047", "착신거절", _R, ""),
    ("3048", "Unknown Code", _R, ""),
    ("3050", "SMS서비스 불가 단말기", _R, ""),
    ("3051", "착신측의 호불가 상태", _R, ""),
    ("3052", "이통사 서버 운영자 삭제", _R, ""),
    ("3053", "서버 메시지 Que Full", _T, _SERVER),
    ("3054", "SPAM", _R, ""),
    ("3055", "SPAM, nospam.or.kr 에 등록된 번호", _R, ""),
    ("3056", "전송실패(무선망단)", _R, ""),
    ("3057", "전송실패(무선망->단말기단)", _R, ""),
    ("3058", "전송경로 없음", _T, "no route on SOLAPI's side: an outage, not the message's fault"),
    ("3059", "변작된 발신번호.", _R, ""),
    ("3060", "성인 인증 실패", _R, ""),
    ("3101", "발신 프로필 키가 유효하지 않음", _F, _KAKAO),
    ("3102", "친구 관계가 아닌 경우", _F, _KAKAO),
    ("3103", "메시지와 템플릿 불일치", _F, _KAKAO),
    ("3104", "카카오톡 미사용자", _F, _KAKAO),
    ("3105", "미등록 템플릿", _F, _KAKAO),
    ("3106", "유효하지 않은 채널", _F, _KAKAO),
    ("3107", "72시간 이내 카카오톡 미사용자, 알림톡 차단한 사용자", _F, _KAKAO),
    ("3108", "메시지 발송 가능 시간이 아님(오전 8시 ~ 오후 8시 가능)", _F, _KAKAO),
    ("4000", "발송 처리  완료", _A, ""),
)

STATUS_CODES: dict[str, StatusCode] = {code: StatusCode(code, text, send, why) for code, text, send, why in _ROWS}

# Kakao's own refusals of an AlimTalk: SOLAPI's SMS fallback (disableSms false) follows these.
KAKAO_FAILURES = frozenset(code for code in STATUS_CODES if code.startswith("31"))
# A registered message whose image id SOLAPI no longer knows: the client's file-id cache drops it.
STALE_IMAGE = frozenset({"1023", "1034"})


def _text(code: object) -> str:
    # Typed as str, but a JSON body may carry a number or null: a lookup must never crash on that.
    return "" if code is None else str(code).strip()


def status(code: object) -> StatusCode:
    """The row for a statusCode; an unknown code kept verbatim. As a send verdict an unknown code is
    unknown (whether it went out cannot be told); as a report it is a failure, like every code but
    2000, 3000 and 4000."""
    text = _text(code)
    return STATUS_CODES.get(text) or StatusCode(text, "unknown status code", Verdict.UNKNOWN)


# --------------------------------------------------------------------------------------------------
# Request-level errors: the whole request was answered with HTTP 4xx/5xx and no per-message list
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestError:
    code: str
    """The errorCode verbatim, or http-<status> when the body had none."""
    verdict: Verdict
    reason: str


_REFUSED_UNSIGNED = "refused before anything was sent; retried later, as a rotated key or a clock skew must not reject every message forever"

ERROR_CODES: dict[str, tuple[Verdict, str]] = {
    "InvalidAPIKey": (Verdict.RETRY, "유효한 API Key가 아님: " + _REFUSED_UNSIGNED),
    "SignatureDoesNotMatch": (Verdict.RETRY, "생성한 Signature가 일치하지 않음: " + _REFUSED_UNSIGNED),
    "RequestTimeTooSkewed": (Verdict.RETRY, "시간 값이 서버 시간을 15분 이상 벗어남: " + _REFUSED_UNSIGNED),
    "DuplicatedSignature": (
        Verdict.RETRY,
        "15분 안에 동일한 signature 값: the request was refused before processing; the retry signs anew",
    ),
    "ValidationError": (
        Verdict.REJECTED,
        "the request's parameters were refused as a whole, before any message was registered",
    ),
}


def request_error(status_code: int, error_code: object, message: object = None) -> RequestError:
    """What a whole-request error means for every message in the request.

    - documented names: their row (auth refusals retry, validation rejects);
    - a 4-digit errorCode (the overview says the status codes may come back here too): its row,
      and a code that would mean "registered" here is unknown, since nothing says what was;
    - 401/403 (any auth refusal) and 429 (rate limit) refused the request before processing: retry;
    - 503: retry. SOLAPI's own SDKs resend on 503 (the Node SDK's RetryableError "Service
      Unavailable"): the service did not take the request;
    - any other 5xx, or a 4xx with an undocumented errorCode: the request went out and what became
      of it is not documented, so unknown (at most once: never a second SMS).
    """
    code = _text(error_code)
    said = f" (SOLAPI said: {_text(message)})" if _text(message) else ""
    if code in ERROR_CODES:
        verdict, reason = ERROR_CODES[code]
        return RequestError(code, verdict, f"{code}: {reason}{said}")
    if code in STATUS_CODES:
        row = STATUS_CODES[code]
        verdict = Verdict.UNKNOWN if row.send == Verdict.ACCEPTED else row.send
        return RequestError(code, verdict, f"whole request refused: {row.reason}{said}")
    label = code or f"http-{status_code}"
    if status_code in (401, 403, 429, 503):
        return RequestError(label, Verdict.RETRY, f"HTTP {status_code} {label}: refused before processing{said}")
    return RequestError(label, Verdict.UNKNOWN, f"HTTP {status_code} {label}: not documented, outcome unknown{said}")
