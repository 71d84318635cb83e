"""Per-channel metrics: what each terminal transition and each producer's channel count toward.

Only notifier.metrics is imported here: a handler module builds its Powertools Metrics at import, from
the environment a test process may not have set yet."""

from __future__ import annotations

import json

import pytest

from notifier import metrics as m


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"id": "a", "channel": "alimtalk"}', "alimtalk"),
        ('{"id": "a"}', "auto"),  # the event's default
        ('{"id": "a", "channel": "fax"}', "invalid"),
        ('{"id": "a", "channel": ["sms"]}', "invalid"),
        ("[1, 2]", "invalid"),
        ("not json", "invalid"),
        ("", "invalid"),
    ],
)
def test_accepted_counts_the_channel_asked_for_and_one_value_for_anything_else(body: str, expected: str) -> None:
    assert m.channel_asked(body) == expected


def test_terminal_transitions_count_per_channel_used_and_provider_fallbacks_by_their_route() -> None:
    # Given the per-channel counts the outbox function keeps
    counts = m.ChannelCounts()

    # When it counts the transitions it published
    published = [
        {"status": "delivered", "channel_used": "alimtalk", "fallback_used": True, "delivered_via": "lms"},
        {"status": "delivered", "channel_used": "sms"},
        {"status": "failed", "channel_used": "mms"},
        {"status": "rejected", "channel_requested": "auto"},  # refused before a channel was chosen
        {"status": "rejected"},  # no usable event at all
        {"status": "unknown", "channel_used": "sms"},
        {"status": "sent", "test": True, "channel_used": "alimtalk"},  # a test send's verdict: no outcome
    ]
    for record in published:
        counts.terminal(record)

    # Then each is counted once under the channel it went by, and a test send not at all
    assert counts.snapshot() == {
        ("Delivered", "alimtalk"): 1,
        ("ProviderFallback", "lms"): 1,
        ("Delivered", "sms"): 1,
        ("Failed", "mms"): 1,
        ("Rejected", "auto"): 2,
        ("Unknown", "sms"): 1,
    }
    assert [m.terminal_metric(r) for r in published] == [
        "Delivered", "Delivered", "Failed", "Rejected", "Rejected", "Unknown", None
    ]  # fmt: skip


def test_flush_writes_one_record_per_channel_and_starts_over(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "notifier")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Notifier")
    counts = m.ChannelCounts()
    for channel in ("sms", "sms", "lms"):
        counts.add(m.SENT, channel)
    counts.add(m.ACCEPTED, "sms")

    counts.flush()

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["channel"], r.get("Accepted"), r["Sent"]) for r in lines] == [
        ("lms", None, [1.0]),
        ("sms", [1.0], [2.0]),
    ]
    for record in lines:
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Notifier"
        assert sorted(directive["Dimensions"][0]) == ["channel", "service"] and record["service"] == "notifier"
    assert counts.snapshot() == {}
