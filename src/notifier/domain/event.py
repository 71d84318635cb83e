"""The event contract: what producers put on the queue (DESIGN.md, "The event").

Every rule that can be checked without I/O lives here, so a producer gets the same answer from
the JSON Schema, from this model, and from the dispatcher's recorded rejection.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from . import phone
from . import text as euckr
from .limits import METADATA_MAX_BYTES, shown
from .timefmt import KST

Channel = Literal["sms", "lms", "mms", "alimtalk", "auto"]
Fallback = Literal["auto", "sms", "lms", "none"]

# KakaoTalk's button types (the same words whatever provider carries the AlimTalk).
BUTTON_TYPES: tuple[str, ...] = ("웹링크", "앱링크", "봇키워드", "메시지전달", "배송조회")
# Only these take a URL (API Store sends the others as an empty slot in BTN_URLS<n>).
LINK_BUTTON_TYPES: tuple[str, ...] = ("웹링크", "앱링크")
MAX_ATTACHMENTS = 3
MAX_BUTTONS = 5
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(?P<key>.+)$")
_PLACEHOLDER = re.compile(r"#\{([^{}]+)\}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _storable_number(x: int | float) -> bool:
    if isinstance(x, int):
        return abs(x) < 10**38
    return math.isfinite(x) and (x == 0 or 1e-130 <= abs(x) < 1e126)


def metadata_problem(v: Any) -> str | None:
    """Why `v` cannot be kept as a record's metadata (flat, storable in DynamoDB, small), or None.
    Not a dict at all is left to pydantic's own type error."""
    if not isinstance(v, dict):
        return None
    for k, x in v.items():
        if x is not None and not isinstance(x, str | int | float | bool):
            # One clear reason instead of one line per member of the value union (str, int, float, bool).
            return f"value of {shown(k, quote=True)} must be a string, number, boolean or null (metadata is flat)"
        if isinstance(k, str) and not k:
            return "keys must not be empty"
        if isinstance(x, int | float) and not isinstance(x, bool) and not _storable_number(x):
            # The record keeps metadata in DynamoDB, whose numbers are finite with 38 digits.
            return f"value of {shown(k, quote=True)} is not a storable number (finite, at most 38 significant digits); send it as a string"
    n = len(json.dumps(v, ensure_ascii=False).encode())
    if n > METADATA_MAX_BYTES:
        return f"{n} bytes as JSON; metadata must be at most {METADATA_MAX_BYTES} bytes"
    return None


def _recipient(v: str) -> str:
    return phone.recipient(v)


def _sender(v: str) -> str:
    return phone.sender(v)


Recipient = Annotated[str, AfterValidator(_recipient), Field(description="Korean mobile or landline number")]
Sender = Annotated[str, AfterValidator(_sender), Field(description="registered sender number (spec §5)")]


def _check_text(value: str, field: str, limit: int | None) -> None:
    bad = euckr.first_unsendable(value)
    if bad is not None:
        raise ValueError(
            f"{bad.describe()} is not in EUC-KR (KS X 1001) and cannot be sent"
            f' (set "on_unsendable": "replace" to send "?" instead)'
        )
    if limit is not None:
        n = euckr.euckr_len(value)
        if n >= limit:
            raise ValueError(f"{n} bytes in EUC-KR; {field} must be under {limit} bytes")


class _Strict(BaseModel):
    # No populate_by_name: "from_" is not a field of the contract and must be rejected like any typo.
    model_config = ConfigDict(extra="forbid")


class Button(_Strict):
    type: Literal[BUTTON_TYPES] = Field(description="웹링크, 앱링크, 봇키워드, 메시지전달 or 배송조회")  # type: ignore[valid-type]
    name: str = Field(min_length=1, max_length=28)
    url: str | None = Field(default=None, description="first link (mobile web / Android scheme)")
    url2: str | None = Field(default=None, description="second link (PC web / iOS scheme)")

    @field_validator("name")
    @classmethod
    def _no_comma(cls, v: str) -> str:
        # BTN_TXTS is a comma list on the wire: a comma inside a name would shift every button.
        if "," in v:
            raise ValueError("must not contain a comma (button names travel as a comma list)")
        return v

    @model_validator(mode="after")
    def _links(self) -> Button:
        if self.type in LINK_BUTTON_TYPES and not self.url:
            raise ValueError(f"a {self.type} button needs a url")
        if self.type not in LINK_BUTTON_TYPES and (self.url or self.url2):
            raise ValueError(f"a {self.type} button takes no url")
        for u in (self.url, self.url2):
            if u and "," in u:
                raise ValueError("urls must not contain a comma (BTN_URLS is a comma list on the wire)")
        return self


class AlimTalk(_Strict):
    template_code: str = Field(min_length=1, max_length=30)
    variables: dict[str, str] = Field(default_factory=dict)
    buttons: list[Button] = Field(default_factory=list, max_length=MAX_BUTTONS)
    fallback: Fallback = "auto"
    fallback_text: str | None = Field(default=None, min_length=1)
    fallback_subject: str | None = Field(default=None, min_length=1)


class Attachment(_Strict):
    s3: str = Field(description="s3://bucket/key.jpg (JPG only, at most 20 KB)")

    @field_validator("s3")
    @classmethod
    def _uri(cls, v: str) -> str:
        m = _S3_URI.match(v)
        if not m:
            raise ValueError("must look like s3://bucket/key.jpg")
        if not m["key"].lower().endswith((".jpg", ".jpeg")):
            raise ValueError("only JPG attachments can be sent (.jpg or .jpeg)")
        return v

    @property
    def bucket(self) -> str:
        return _S3_URI.match(self.s3)["bucket"]  # type: ignore[index]

    @property
    def key(self) -> str:
        return _S3_URI.match(self.s3)["key"]  # type: ignore[index]


class Event(_Strict):
    """One notification. Unknown fields are errors, so a typo never silently drops an option."""

    id: str = Field(min_length=1, max_length=128, description="idempotency key: sent at most once")
    channel: Channel = "auto"
    to: Recipient
    text: str = Field(min_length=1)
    subject: str | None = Field(default=None, min_length=1)
    from_: Sender | None = Field(default=None, alias="from")
    to_name: str | None = None
    from_name: str | None = None
    send_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with offset; past = now")
    alimtalk: AlimTalk | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    test: StrictBool = False  # strict: "yes" or 1 is not a boolean in the JSON Schema either
    on_unsendable: Literal["reject", "replace"] = Field(
        default="reject", description='"replace" sends "?" for characters outside EUC-KR'
    )
    metadata: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _printable(cls, v: str) -> str:
        if not v.isprintable() or v != v.strip():
            raise ValueError("must be printable with no leading or trailing spaces")
        return v

    @field_validator("send_at", mode="before")
    @classmethod
    def _iso_string(cls, v: Any) -> Any:
        # Pydantic alone would also take 1764547200 or "1764547200" as a Unix time; the JSON Schema says
        # a date-time string, and the model must not accept more than the schema.
        if v is None or isinstance(v, datetime):
            return v
        if not isinstance(v, str) or not _ISO_DATE.match(v):
            raise ValueError(
                "must be an ISO 8601 date-time string with a timezone offset, e.g. 2026-12-01T09:00:00+09:00"
            )
        return v

    @field_validator("send_at")
    @classmethod
    def _representable(cls, v: datetime | None) -> datetime | None:
        # The provider takes yyyyMMddHHmmss in Korea time; a moment that has no such date would crash
        # the conversion later, so it is an invalid event now.
        if v is not None:
            try:
                v.astimezone(KST)
            except OverflowError:
                raise ValueError("out of range: in Korea time it must fall within the years 1 to 9999") from None
        return v

    @field_validator("metadata", mode="before")
    @classmethod
    def _storable(cls, v: Any) -> Any:
        problem = metadata_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="before")
    @classmethod
    def _replace(cls, data: Any) -> Any:
        # Replacement happens before the byte rules so they judge what will actually be sent.
        if isinstance(data, dict) and data.get("on_unsendable") == "replace":
            data = dict(data)
            for f in ("text", "subject", "to_name", "from_name"):
                if isinstance(data.get(f), str):
                    data[f] = euckr.replace_unsendable(data[f])
            if isinstance(data.get("alimtalk"), dict):
                data["alimtalk"] = alimtalk = dict(data["alimtalk"])
                for f in ("fallback_text", "fallback_subject"):
                    if isinstance(alimtalk.get(f), str):
                        alimtalk[f] = euckr.replace_unsendable(alimtalk[f])
        return data

    @model_validator(mode="after")
    def _rules(self) -> Event:
        errors: list[tuple[str, str]] = []

        def check(field: str, value: str | None, limit: int | None) -> None:
            if value is None:
                return
            try:
                _check_text(value, field, limit)
            except ValueError as exc:
                errors.append((field, str(exc)))

        if self.channel != "alimtalk":
            check("text", self.text, euckr.LONG_MAX_BYTES)
        check("subject", self.subject, euckr.SUBJECT_MAX_BYTES)
        check("to_name", self.to_name, euckr.NAME_MAX_BYTES)
        check("from_name", self.from_name, euckr.NAME_MAX_BYTES)

        if self.channel == "alimtalk" and self.alimtalk is None:
            errors.append(("alimtalk", "required when channel is alimtalk (template_code at least)"))
        if self.channel != "alimtalk" and self.alimtalk is not None:
            errors.append(("alimtalk", f'only allowed with channel "alimtalk", not "{self.channel}"'))
        if self.channel == "mms" and not self.attachments:
            errors.append(("attachments", "channel mms needs 1 to 3 JPG attachments"))
        if self.channel != "mms" and self.attachments:
            errors.append(("attachments", f'only allowed with channel "mms", not "{self.channel}"'))
        if self.test and self.channel != "alimtalk":
            errors.append(("test", "only AlimTalk has a provider test mode; SMS/LMS/MMS would really be sent"))
        if self.alimtalk is not None:
            fallback_limit = euckr.LONG_MAX_BYTES if self.alimtalk.fallback != "sms" else euckr.SMS_MAX_BYTES
            check("alimtalk.fallback_text", self.alimtalk.fallback_text, fallback_limit)
            if self.alimtalk.fallback != "none" and self.alimtalk.fallback_text is None:
                # The fallback SMS carries the AlimTalk text itself, so it must be sendable too.
                check("text", self.text, fallback_limit)
            check("alimtalk.fallback_subject", self.alimtalk.fallback_subject, euckr.SUBJECT_MAX_BYTES)
        if errors:
            raise ValueError("; ".join(f"{f}: {m}" for f, m in errors))
        return self

    @property
    def sender(self) -> str | None:
        return self.from_


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def format_errors(exc: ValidationError) -> str:
    """One line naming each field and the rule it broke, for the record and the producer."""
    parts: list[str] = []
    for err in exc.errors(include_url=False):
        # A producer's key may hold a newline or a control character, or be 60 000 characters long.
        loc = ".".join(shown(str(p)) for p in err["loc"] if not str(p).startswith(("function-after", "literal")))
        msg = err["msg"]
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = "unknown field (a typo? unknown fields are rejected)"
        elif kind == "missing":
            msg = "required"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif kind == "timezone_aware":
            msg = "needs a timezone offset, e.g. 2026-12-01T09:00:00+09:00"
        if not loc:
            parts.append(msg)  # model-level rules already name their fields
        else:
            parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def parse(body: dict[str, Any]) -> Event:
    return Event.model_validate(body)


def json_schema() -> dict[str, Any]:
    schema = Event.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/kr-notifier/schema/event.schema.json"
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
