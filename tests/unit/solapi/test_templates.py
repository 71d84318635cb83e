"""SOLAPI's templates behind the TemplateSource port: cached, refreshed on a miss at most so often,
and served stale through a failed refresh."""

from __future__ import annotations

from typing import Any

import pytest

from notifier.domain.alimtalk import Template
from notifier.ports import TemplatesUnavailable
from notifier.providers.solapi.client import SolapiError
from notifier.providers.solapi.codes import request_error
from notifier.providers.solapi.templates import SolapiTemplates
from notifier.providers.transport import TransportError


class Client:
    """SolapiClient.templates(), answering from a script."""

    def __init__(self, *answers: dict[str, Template] | Exception) -> None:
        self.answers = list(answers)
        self.asked: list[Any] = []

    def templates(self, pf_id: str | None = None) -> dict[str, Template]:
        self.asked.append(pf_id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


A = Template("A1", "배송", "#{name}님", "승인")
B = Template("B2", "결제", "#{name}님 결제", "승인")


def source(client: Client, clock: Clock) -> SolapiTemplates:
    return SolapiTemplates(client, "PF1", clock=clock)  # type: ignore[arg-type]


def test_a_batch_of_lookups_costs_one_listing_of_the_channels_templates() -> None:
    client, clock = Client({"A1": A}), Clock()
    templates = source(client, clock)
    assert [templates.get("A1") for _ in range(100)] == [A] * 100
    assert client.asked == ["PF1"]


def test_an_unknown_code_refreshes_at_most_once_per_half_minute() -> None:
    client, clock = Client({"A1": A}, {"A1": A, "B2": B}), Clock()
    templates = source(client, clock)
    assert templates.get("B2") is None
    assert templates.get("B2") is None  # too soon: no second listing
    clock.now += 31
    assert templates.get("B2") == B and templates.fetches == 2


def test_a_failed_refresh_serves_the_previous_list_for_an_hour_then_says_unavailable() -> None:
    refused = SolapiError(request_error(403, "SignatureDoesNotMatch"))
    lost = TransportError("timeout", "no answer", surely_not_sent=False)
    client, clock = Client({"A1": A}, refused, lost), Clock()
    templates = source(client, clock)
    templates.get("A1")
    clock.now += 301
    assert templates.get("A1") == A  # stale, but serving
    clock.now += 3600
    with pytest.raises(TemplatesUnavailable, match="no answer"):
        templates.get("A1")


def test_with_no_list_yet_a_failure_is_unavailable_naming_solapis_code() -> None:
    templates = source(Client(SolapiError(request_error(403, "InvalidAPIKey"))), Clock())
    with pytest.raises(TemplatesUnavailable, match="InvalidAPIKey"):
        templates.get("A1")
