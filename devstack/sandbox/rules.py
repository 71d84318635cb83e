"""Parameter rules shared by both provider APIs, each failing with result_code 300 and a clear reason."""

from __future__ import annotations

from collections.abc import Mapping

from .euckr import NotSendable, euckr_len
from .store import ProviderError, parse_kst_stamp

# Limits from the spec: "미만" (strictly under) for text, "이하" (at most) for files.
SMS_BODY_LIMIT = 90
LONG_BODY_LIMIT = 2000
SUBJECT_LIMIT = 60
NAME_LIMIT = 32
COMMENT_LIMIT = 200
ALIMTALK_MSG_CHARS = 1000

MESSAGES = {
    "ppurio": {
        "100": "User Error",
        "200": "OK",
        "300": "Parameter Error",
        "400": "Etc Error",
        "500": "발신번호 사전 등록제에 의한 미등록 차단",
        "600": "선불제 충전요금 부족",
    },
    "ppurio_sendnumber": {
        "100": "User Error",
        "200": "OK",
        "300": "Parameter Error",
        "400": "Etc Error",
        "500": "중복등록",
    },
    "kko": {
        "100": "User Error",
        "200": "OK",
        "300": "Parameter Error",
        "301": "failed_type 이 N 이 아닌 경우에 실패SMS 제목과 내용이 없으면 에러",
        "302": "버튼 정보가 없는 템플릿에 대한 에러",
        "400": "Etc Error",
        "500": "발신번호 사전 등록제에 의한 미등록 차단",
        "600": "충전요금 부족",
        "700": "템플릿코드 사전 승인제에 의한 미승인 차단",
        "800": "템플릿코드에러",
        "900": "프로파일이 존재하지 않음",
    },
    # Version 2 sender-number registration with a PIN (both APIs): the AlimTalk spec's section 3.4.
    "sendnumber_pin": {
        "100": "User Error",
        "200": "성공",
        "300": "파라메터 에러",
        "400": "인증 업데이트 중 에러",
        "500": "이미 등록된 번호",
        "600": "일치 하지 않는 인증번호",
        "700": "핀코드 인증 시간 만료(3분 이후 만료이며 재등록 요청해야 함.)",
    },
}


def fail(table: str, code: str, detail: str) -> ProviderError:
    return ProviderError(code, f"{MESSAGES[table].get(code, 'Error')}: {detail}")


def param_error(detail: str) -> ProviderError:
    return ProviderError("300", f"Parameter Error: {detail}")


def required(params: Mapping[str, str], name: str, label: str | None = None) -> str:
    value = params.get(name, "")
    if not value.strip():
        raise param_error(f"{label or name} is required")
    return value


def digits(label: str, value: str, low: int = 8, high: int = 12) -> str:
    if not value.isascii() or not value.isdigit():
        raise param_error(f"{label} must be digits only, without '-' or spaces (got {value!r})")
    if not low <= len(value) <= high:
        raise param_error(f"{label} must be {low}-{high} digits (got {len(value)})")
    return value


def byte_len(label: str, value: str) -> int:
    try:
        return euckr_len(value)
    except NotSendable as exc:
        raise param_error(f"{label} cannot be sent: {exc}") from None


def under(label: str, value: str | None, limit: int) -> int:
    """EUC-KR byte length of value, which must be strictly under limit bytes."""
    if value is None:
        return 0
    size = byte_len(label, value)
    if size >= limit:
        raise param_error(f"{label} must be under {limit} bytes in EUC-KR (got {size} bytes)")
    return size


def send_time(label: str, value: str | None) -> float | None:
    if not value:
        return None
    moment = parse_kst_stamp(value)
    if moment is None:
        raise param_error(f"{label} must be yyyyMMddHHmmss in Korea time (got {value!r})")
    return moment


_AREA_CODES = (
    *("031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055"),
    *("061", "062", "063", "064", "070", "080"),
)
_MOBILE_PREFIXES = ("010", "011", "016", "017", "018", "019")


def sendnumber_problem(number: str) -> str | None:
    """Why a number breaks the sender-number registration rules (spec section 5), or None."""
    if not number.isascii() or not number.isdigit():
        return "sendnumber must be digits only, without '-'"
    if not 8 <= len(number) <= 11:
        return "sendnumber must be 8-11 digits"
    if number[:2] in ("15", "16", "18"):
        if len(number) != 8:
            return "a representative number (15xx/16xx/18xx) has 8 digits and no area code"
        return None
    if number.startswith(_MOBILE_PREFIXES):
        if len(number) not in (10, 11) or (number.startswith("010") and len(number) != 11):
            return "a mobile number has 10-11 digits (010: 11)"
        return None
    area = "02" if number.startswith("02") else number[:3] if number.startswith(_AREA_CODES) else None
    if area is None:
        return "sendnumber must be a landline with area code, a mobile number or a 15xx/16xx/18xx number"
    if number[len(area) :][:2] in ("15", "16", "18"):
        return "no area code in front of a representative number (15xx/16xx/18xx)"
    if area == "02" and len(number) not in (9, 10):
        return "a Seoul (02) number has 9-10 digits including the area code"
    if area != "02" and len(number) not in (10, 11):
        return "a landline number has 10-11 digits including the area code"
    return None


def sendnumber(params: Mapping[str, str]) -> tuple[str, str]:
    number = required(params, "sendnumber")
    problem = sendnumber_problem(number)
    if problem:
        raise param_error(problem)
    comment = required(params, "comment")
    if len(comment) > COMMENT_LIMIT:
        raise param_error(f"comment must be at most {COMMENT_LIMIT} characters")
    return number, comment
