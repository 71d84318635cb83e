"""Every size limit on what a producer sends and on what the dispatcher stores or publishes, in one
place (README, "Limits"), and the one function that keeps a stored string within its limit.

Why these numbers. The largest valid event is about 20 KB even with every character \\u-escaped:
text and fallback text under 2000 EUC-KR bytes each, subject and names under 60 and 32 bytes,
metadata at most 2 KB, five buttons, a template's variables. SQS takes bodies up to 256 KiB, so
64 KiB leaves a valid event three times its room while keeping every copy of a body far from the
limits downstream: a DynamoDB item holds 400 KB (UTF-8 bytes of names and values) and an
EventBridge entry 256 KB. The deepest valid event is four levels (the body, `alimtalk`, `buttons`, a
button); its key count is bounded by its fields and the 2 KB of metadata (about 300 keys).
"""

from __future__ import annotations

MAX_BODY_BYTES = 64 * 1024  # UTF-8 bytes of one SQS message body
MAX_DEPTH = 8  # nested objects and arrays, the body itself counted as 1
MAX_KEYS = 1000  # object keys in the whole body, at any depth
METADATA_MAX_BYTES = 2048  # the event's metadata as JSON (UTF-8), kept on the record and published

# What a record keeps, in characters (at most 4 UTF-8 bytes each): a rejection's reason (also
# `last_error` and the published event's `reason`), the start of a body that was not an event, and
# the text of metadata that could not be kept as a map. A record stays under 40 KB, a tenth of the limit.
REASON_MAX_CHARS = 2000
# A producer's key or value quoted inside a reason: enough to recognise it, short enough that the rule
# after it (and the next error) is never cut off.
QUOTED_MAX_CHARS = 80
RAW_BODY_MAX_CHARS = 1000
METADATA_RAW_MAX_CHARS = 1000

DYNAMODB_ITEM_MAX_BYTES = 400 * 1024
EVENTBRIDGE_ENTRY_MAX_BYTES = 256 * 1024


def encodable(text: str) -> str:
    """`text` with any lone surrogate (which UTF-8 cannot encode, so no write, event or log line could
    carry it) escaped as \\udxxx; everything else unchanged."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def bounded(text: str, limit: int) -> str:
    """`text` as it can be stored and published: encodable, and at most `limit` characters, saying
    where it was cut and how long it was."""
    text = encodable(text)
    if len(text) <= limit:
        return text
    note = f" ... [cut: {len(text)} characters in all]"
    return text[: max(0, limit - len(note))] + note


def shown(text: str, *, quote: bool = False) -> str:
    """A producer's key or value as a reason quotes it: bare when printable (unless `quote`), else
    its repr, so a newline or a control character stays visible on one line; bounded."""
    return bounded(text if text and text.isprintable() and not quote else repr(text), QUOTED_MAX_CHARS)
