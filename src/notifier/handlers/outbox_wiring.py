"""Composition root of the outbox function: the bus from the environment, the client built once per container."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws.dynamo import deserialize
from ..aws.eventbridge import EventBridgePublisher
from ..metrics import ChannelCounts
from ..usecases.outbox import Outbox, Write
from .config import OutboxConfig, read


@dataclass
class OutboxWiring:
    event_bus: str
    outbox: Outbox
    channel_counts: ChannelCounts = field(default_factory=ChannelCounts)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OutboxWiring:
        import boto3

        config = read(OutboxConfig, env)
        return cls(config.event_bus_name, Outbox(EventBridgePublisher(boto3.client("events"), config.event_bus_name)))


def write_of(stream_record: Mapping[str, Any]) -> Write:
    """A DynamoDB stream record (Lambda's event shape: typed images) -> the plain record before and after."""
    images = stream_record.get("dynamodb") or {}
    old, new = images.get("OldImage"), images.get("NewImage")
    return Write(
        key=str(images.get("SequenceNumber")),
        old=deserialize(old) if old else None,
        new=deserialize(new) if new else None,
    )
