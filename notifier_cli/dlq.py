"""The dead-letter queue: look without consuming, and move messages back to the main queue.

Listing receives with a short visibility time-out and makes every message visible again at once,
so nothing is deleted and nothing stays hidden for long.

Redrive, two ways:
- SQS StartMessageMoveTask (--all on AWS): SQS moves everything itself; an interrupted CLI changes
  nothing, the task runs on.
- receive / send / delete (--id, and endpoints without move tasks such as moto): a message is sent to
  the main queue BEFORE it is deleted from the DLQ, so an interruption can leave a copy in both
  queues but never in neither. The copy is harmless: the dispatcher sends each id at most once.
  A journal of "sent, not yet deleted" DLQ message ids avoids even the copy: a rerun deletes those
  instead of sending them again. (Only a crash between SQS taking the send and the journal line
  being written, or a rerun from another machine, still leaves a copy.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from notifier.aws.dynamo import deserialize

from .aws import Aws
from .errors import INTERRUPTED, CliError
from .output import mask_numbers, mask_phone, one_line, table

MOVE_TASK_POLL_S = 2.0
_MAX = 10  # ReceiveMessage / SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch
_MOVE_TASK_MISSING = ("UnsupportedOperation", "InvalidAction", "AWS.SimpleQueueService.UnsupportedOperation")


def _event_id(body: str) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    rid = parsed.get("id") if isinstance(parsed, dict) else None
    return rid if isinstance(rid, str) else None


def _records(aws: Aws, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The records of these ids (BatchGetItem, 100 at a time); an unreadable table yields none."""
    out: dict[str, dict[str, Any]] = {}
    ddb = aws.client("dynamodb")
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 100):
        keys = [{"id": {"S": i}} for i in unique[start : start + 100]]
        request: dict[str, Any] = {aws.table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            resp = ddb.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(aws.table, []):
                rec = deserialize(item)
                out[str(rec["id"])] = rec
            request = resp.get("UnprocessedKeys") or {}
    return out


def _release(sqs: Any, url: str, handles: list[str]) -> None:
    for start in range(0, len(handles), _MAX):
        chunk = handles[start : start + _MAX]
        with contextlib.suppress(ClientError):  # an expired handle is visible again anyway
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)],
            )


def _receive(sqs: Any, url: str, visibility: int) -> list[dict[str, Any]]:
    # A one-second long poll asks every SQS server, so an empty answer means an empty queue.
    resp = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=_MAX,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=1,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(resp.get("Messages", []))


def _peek(sqs: Any, url: str, limit: int, visibility: int) -> Iterator[list[dict[str, Any]]]:
    """Batches of DLQ messages, each seen once, all made visible again when the caller is done."""
    seen: set[str] = set()
    handles: list[str] = []
    try:
        while len(seen) < limit:
            fresh = [m for m in _receive(sqs, url, visibility) if m["MessageId"] not in seen]
            if not fresh:
                return
            fresh = fresh[: limit - len(seen)]
            seen.update(m["MessageId"] for m in fresh)
            handles += [m["ReceiptHandle"] for m in fresh]
            yield fresh
    finally:
        _release(sqs, url, handles)


# ------------------------------------------------------------------------------------ list


def list_(aws: Aws, limit: int, as_json: bool) -> int:
    sqs = aws.client("sqs")
    url = aws.dlq_url
    depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    messages = [m for batch in _peek(sqs, url, limit, visibility=30) for m in batch]
    ids = [i for i in (_event_id(m["Body"]) for m in messages) if i]
    records = _records(aws, ids) if ids else {}
    rows = []
    for m in messages:
        rid = _event_id(m["Body"])
        rec = records.get(rid or "", {})
        try:
            to = json.loads(m["Body"]).get("to")
        except (ValueError, AttributeError):
            to = None
        if rid is None:
            reason = "body has no usable id (the dispatcher records such a body rejected, under the SQS message id)"
        elif not rec:
            reason = "no record: the dispatcher never got as far as writing one (e.g. DynamoDB unavailable)"
        else:
            reason = str(rec.get("reason") or rec.get("last_error") or "")
        rows.append(
            {
                "id": rid,
                "sqs_message_id": m["MessageId"],
                "to": mask_phone(to) if to else None,
                "status": rec.get("status"),
                "dead_lettered": bool(rec.get("dead_lettered")),
                "attempts": rec.get("attempts"),
                "receive_count": int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
                "reason": mask_numbers(reason),
            }
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    total = int(depth["Attributes"].get("ApproximateNumberOfMessages", 0))
    print(f"{len(rows)} message(s) listed from the dead-letter queue (about {total} in it); none consumed")
    if rows:
        cells = [["id", "to", "record", "attempts", "reason"]]
        for r in rows:
            status = (r["status"] or "-") + (" (dead-lettered)" if r["dead_lettered"] else "")
            cells.append(
                [
                    str(r["id"] or f"(SQS {r['sqs_message_id']})"),
                    str(r["to"] or "-"),
                    status,
                    str(r["attempts"] if r["attempts"] is not None else "-"),
                    one_line(r["reason"], 120),
                ]
            )
        print(table(cells))
    return 0


# ------------------------------------------------------------------------------------ redrive


class Journal:
    """DLQ message ids whose copy is in the main queue but whose delete is not confirmed.

    One line per event, fsynced: "+id" after SQS took the copy, "-id" after the delete.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("+"):
                    self.pending.add(line[1:])
                elif line.startswith("-"):
                    self.pending.discard(line[1:])
        self._file: Any = None

    @staticmethod
    def default_path(dlq_url: str) -> Path:
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        return state / "kr-notifier" / f"redrive-{hashlib.sha256(dlq_url.encode()).hexdigest()[:16]}.journal"

    def _write(self, lines: list[str]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write("".join(f"{line}\n" for line in lines))
        self._file.flush()
        os.fsync(self._file.fileno())

    def sent(self, ids: list[str]) -> None:
        self.pending.update(ids)
        self._write([f"+{i}" for i in ids])

    def deleted(self, ids: list[str]) -> None:
        self.pending.difference_update(ids)
        self._write([f"-{i}" for i in ids])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self.pending:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


@dataclass
class Moved:
    moved: int = 0
    already_copied: int = 0  # copies an interrupted run had sent; only deleted from the DLQ now
    ids: set[str] = field(default_factory=set)  # event ids moved (or whose copy was already moved)
    failed: list[str] = field(default_factory=list)
    interrupted: bool = False


class _DeferredInterrupt:
    """Ctrl-C waits for the batch in hand (send, then delete) and stops the loop after it."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _DeferredInterrupt:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: no handler, Ctrl-C behaves as usual
            self._previous = None
        return self

    def _handle(self, *_: object) -> None:
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _copy_attributes(m: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, attr in (m.get("MessageAttributes") or {}).items():
        kept = {k: attr[k] for k in ("DataType", "StringValue", "BinaryValue") if k in attr}
        out[name] = kept
    return out


def move_by_hand(
    aws: Aws,
    *,
    select: Callable[[str | None], bool],
    journal: Journal,
    visibility: int,
) -> Moved:
    """receive -> send to the main queue -> journal -> delete from the DLQ, ten at a time."""
    sqs = aws.client("sqs")
    dlq, main = aws.dlq_url, aws.queue_url
    result = Moved()
    passed_over: set[str] = set()  # left in the DLQ (not chosen, or refused): not received twice
    # Everything received and not deleted is made visible again at the end, whatever ended the loop,
    # so a rerun finds it at once rather than after the visibility time-out.
    in_hand: dict[str, str] = {}
    with _DeferredInterrupt() as interrupt:
        try:
            # No early stop once the wanted ids were seen: the DLQ may hold a second copy of one.
            while not interrupt.requested:
                fresh = [m for m in _receive(sqs, dlq, visibility) if m["MessageId"] not in passed_over]
                if not fresh:
                    break
                in_hand.update((m["MessageId"], m["ReceiptHandle"]) for m in fresh)
                copied = [m for m in fresh if m["MessageId"] in journal.pending]
                chosen = [m for m in fresh if m not in copied and select(_event_id(m["Body"]))]
                passed_over.update(m["MessageId"] for m in fresh if m not in copied and m not in chosen)
                if chosen:
                    resp = sqs.send_message_batch(
                        QueueUrl=main,
                        Entries=[
                            {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": _copy_attributes(m)}
                            for i, m in enumerate(chosen)
                        ],
                    )
                    for f in resp.get("Failed", []):
                        m = chosen[int(f["Id"])]
                        result.failed.append(f"{_event_id(m['Body']) or m['MessageId']}: {f.get('Code')}")
                        passed_over.add(m["MessageId"])
                    ok = {int(s["Id"]) for s in resp.get("Successful", [])}
                    chosen = [m for i, m in enumerate(chosen) if i in ok]
                    journal.sent([m["MessageId"] for m in chosen])
                to_delete = copied + chosen
                if to_delete:
                    resp = sqs.delete_message_batch(
                        QueueUrl=dlq,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(to_delete)],
                    )
                    gone = {to_delete[int(s["Id"])]["MessageId"] for s in resp.get("Successful", [])}
                    # A copy whose delete failed stays journalled: the next run deletes it without resending.
                    passed_over.update(m["MessageId"] for m in to_delete if m["MessageId"] not in gone)
                    journal.deleted(sorted(gone))
                    for m in to_delete:
                        if m["MessageId"] in gone:
                            del in_hand[m["MessageId"]]
                            result.ids.add(_event_id(m["Body"]) or m["MessageId"])
                    result.already_copied += sum(1 for m in copied if m["MessageId"] in gone)
                    result.moved += sum(1 for m in chosen if m["MessageId"] in gone)
            result.interrupted = interrupt.requested
        finally:
            _release(sqs, dlq, list(in_hand.values()))
            journal.close()
    return result


def move_task(aws: Aws) -> int:
    """StartMessageMoveTask to the queues the messages came from; waits and returns how many moved."""
    sqs = aws.client("sqs")
    arn = aws.queue_arn(aws.dlq_url)
    # One attempt: an endpoint without move tasks (moto) answers 500, and retrying it only delays the fallback.
    handle = aws.client("sqs", attempts=1).start_message_move_task(SourceArn=arn)["TaskHandle"]
    print("SQS move task started; it runs on AWS even if this command is interrupted")
    try:
        while True:
            tasks = sqs.list_message_move_tasks(SourceArn=arn, MaxResults=10).get("Results", [])
            task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
            status = task.get("Status")
            if status in ("COMPLETED", "CANCELLED", "FAILED"):
                if status != "COMPLETED":
                    raise CliError(f"the SQS move task ended {status}: {task.get('FailureReason', '')}".rstrip(": "))
                return int(task.get("ApproximateNumberOfMessagesMoved", 0))
            time.sleep(MOVE_TASK_POLL_S)
    except KeyboardInterrupt:
        print("stopped waiting; the move task goes on (see the DLQ's depth in the SQS console)")
        raise


def redrive(
    aws: Aws,
    *,
    ids: list[str] | None,
    all_: bool,
    method: str,
    journal_path: Path | None,
    visibility: int,
) -> int:
    use_task = all_ and (method == "move-task" or (method == "auto" and not aws.target.endpoint_url))
    if use_task:
        try:
            moved = move_task(aws)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if method == "move-task" or (code not in _MOVE_TASK_MISSING and status < 500):
                raise
            print(f"this endpoint has no SQS move tasks ({code or status}); moving the messages one batch at a time")
        else:
            print(f"moved {moved} message(s) from the dead-letter queue back to the main queue")
            return 0
    wanted = set(ids or [])
    journal = Journal(journal_path or Journal.default_path(aws.dlq_url))
    result = move_by_hand(
        aws,
        select=(lambda rid: True) if all_ else (lambda rid: rid in wanted),
        journal=journal,
        visibility=visibility,
    )
    print(f"moved {result.moved} message(s) from the dead-letter queue back to the main queue")
    if result.already_copied:
        print(
            f"and removed {result.already_copied} from the dead-letter queue that an interrupted redrive "
            "had already copied to the main queue"
        )
    if result.interrupted:
        print("interrupted after the batch in hand; run the same command again to move the rest")
        return INTERRUPTED
    if result.failed:
        raise CliError(f"SQS refused {len(result.failed)} message(s), left in the DLQ: {', '.join(result.failed[:10])}")
    missing = sorted(wanted - result.ids)
    if missing:
        # Moved earlier, or never dead-lettered: said, so the operator assumes nothing.
        raise CliError(f"not in the dead-letter queue: {', '.join(missing[:20])}")
    return 0
