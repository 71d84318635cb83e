"""Records in DynamoDB. Every write that matters is conditional: the record is the claim."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..domain.record import Change
from ..ports import DuePage

_ser = TypeSerializer()
_des = TypeDeserializer()


def _to_ddb(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_ddb(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_ddb(v) for v in value]
    return value


def _from_ddb(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_ddb(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_ddb(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(_to_ddb(v)) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _from_ddb(_des.deserialize(v)) for k, v in item.items()}


class DynamoRecords:
    """The RecordStore port over one table (key `id`)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._conditional_failed = client.exceptions.ConditionalCheckFailedException

    def create(self, item: Mapping[str, Any]) -> dict[str, Any] | None:
        """Write the item if no record has its id; otherwise return the record that is there."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except self._conditional_failed as exc:
            old = exc.response.get("Item")
            return deserialize(old) if old else (self.get(str(item["id"])) or {})

    def get(self, record_id: str) -> dict[str, Any] | None:
        resp = self._client.get_item(TableName=self._table, Key={"id": {"S": record_id}}, ConsistentRead=True)
        item = resp.get("Item")
        return deserialize(item) if item else None

    def apply(self, record_id: str, change: Change) -> bool:
        """Apply the change only if every `expect` attribute has its value and every
        `expect_absent` attribute is missing. False when that condition did not hold."""
        set_, remove, add, expect = change.set, change.remove, change.add, change.expect
        names: dict[str, str] = {}
        values: dict[str, Any] = {}

        def name(attr: str) -> str:
            key = f"#n{len(names)}"
            names[key] = attr
            return key

        def value(v: Any) -> str:
            key = f":v{len(values)}"
            values[key] = _ser.serialize(_to_ddb(v))
            return key

        sets = [f"{name(k)} = {value(v)}" for k, v in set_.items() if v is not None]
        removes = [name(k) for k in remove] + [name(k) for k, v in set_.items() if v is None]
        adds = [f"{name(k)} {value(v)}" for k, v in (add or {}).items()]
        expr = []
        if sets:
            expr.append("SET " + ", ".join(sets))
        if removes:
            expr.append("REMOVE " + ", ".join(removes))
        if adds:
            expr.append("ADD " + ", ".join(adds))
        conds = ["attribute_exists(id)"]
        conds += [f"{name(k)} = {value(v)}" for k, v in (expect or {}).items()]
        conds += [f"attribute_not_exists({name(k)})" for k in change.expect_absent]
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"id": {"S": record_id}},
            "UpdateExpression": " ".join(expr),
            "ConditionExpression": " AND ".join(conds),
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.update_item(**kwargs)
            return True
        except self._conditional_failed:
            return False

    # -- the report poller ------------------------------------------------------------------------

    def due(self, shard: str, now: int, limit: int, cursor: Any = None) -> DuePage:
        """One page of records waiting for a report in `shard` whose next poll is due by `now`, oldest
        first, from the sparse index `pending` (only records in `sent` carry its keys)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "pending",
            "KeyConditionExpression": "poll_shard = :shard AND next_poll_at <= :now",
            "ExpressionAttributeValues": {":shard": {"S": shard}, ":now": {"N": str(int(now))}},
            "Limit": limit,
        }
        if cursor is not None:
            kwargs["ExclusiveStartKey"] = cursor
        resp = self._client.query(**kwargs)
        items = [deserialize(i) for i in resp.get("Items", [])]
        return DuePage(items, int(resp.get("ScannedCount", len(items))), resp.get("LastEvaluatedKey"))
