"""What an event says, as one short string: two events with the same id and different fingerprints
are a producer bug (the first one wins and the second is never sent, but it is counted and logged).

A valid event is fingerprinted from the model, not from its bytes: key order, white space, a phone
number written 010-1234-5678 or 01012345678, and fields left at their defaults do not change what
would be sent, so they do not change the fingerprint either (and a field added later with a
default does not make every in-flight duplicate look different across a deploy). A body the model
refuses is fingerprinted from its parsed JSON, or from its text when it is not JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .event import Event

PREFIX = "sha256:"


def _digest(canonical: str) -> str:
    # surrogatepass: a lone surrogate in a hostile body must still hash (json.dumps escapes them
    # anyway; a raw, unparseable body may carry them as they came).
    return PREFIX + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def of_event(event: Event) -> str:
    content = event.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude={"id"})
    return _digest(json.dumps(content, sort_keys=True, separators=(",", ":")))


def of_body(body: Any) -> str:
    """A parsed JSON body the model refused (its id is part of the key, not of the content)."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "id"}
    return _digest(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str))


def of_text(raw: str) -> str:
    """A body that is not JSON at all."""
    return _digest(raw)
