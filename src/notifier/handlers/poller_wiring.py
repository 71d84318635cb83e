"""Composition root of the report poller: its configuration from the environment, adapters built once
per container.

A module of its own beside wiring.py: it reuses the dispatcher's configuration (table, provider,
secrets) through Wiring, and only adds what the poller needs: its own pools, sized to its own
concurrency, so its threads never wait for (or discard) a connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from ..aws.dynamo import DynamoRecords
from ..ports import ProviderParts
from ..usecases.poll import Poller, PollSettings
from .config import PollerConfig, read
from .wiring import Wiring


@dataclass
class PollerWiring:
    base: Wiring
    settings: PollSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PollerWiring:
        config = read(PollerConfig, env)
        base = Wiring.from_config(config)
        settings = PollSettings(
            shards=base.settings.poll_shards,  # the same value the dispatcher writes records with
            concurrency=config.poll_concurrency,
            page_size=config.poll_page_size,
            expiry_hours=config.report_expiry_hours,
            # A report call started just before the margin must still end (and be written) in time.
            call_budget_s=base.call_budget_s,
        )
        return cls(base, settings)

    def warm_up(self) -> None:
        self.base.warm_up()

    @cached_property
    def provider(self) -> ProviderParts:
        return self.base.provider_parts(self.settings.concurrency)

    @cached_property
    def records(self) -> DynamoRecords:
        return DynamoRecords(self.base.client("dynamodb", self.settings.concurrency), self.base.table_name)

    def poller(self) -> Poller:
        return Poller(
            records=self.records,
            reports=self.provider.reports,
            settings=self.settings,
        )
