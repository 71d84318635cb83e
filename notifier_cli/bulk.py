"""send-bulk: a spreadsheet (xlsx or csv) in the spec's smsExcel layout, one event per row.

Two passes, neither holding the file in memory. The first streams the rows (openpyxl read-only,
or csv), builds each event and validates it with the dispatcher's own model (plus the AlimTalk
template check), lists the invalid rows and spools the valid bodies to a temporary file. Only if
every row is valid (or --skip-invalid) does the second pass stream the spool to SQS,
SendMessageBatch ten at a time, a few batches in flight.

Ids are `bulk-<first 16 hex of the file's SHA-256>-<row number>`: the same file sent twice gives
the same ids, and the dispatcher sends each id at most once.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from notifier.domain import phone
from notifier.domain.alimtalk import CheckFailure, Template, check, fill
from notifier.domain.event import Event, format_errors
from notifier.domain.timefmt import KST

from .aws import Aws
from .errors import INTERRUPTED, CliError, UsageError
from .output import Progress

SPEC_ORDER = ("send_time", "to", "to_name", "from", "from_name", "subject", "text")  # smsExcel, spec 3.1
EXTRA_ORDER = ("channel", "template", "variables")
ALIASES: dict[str, tuple[str, ...]] = {
    "send_time": ("발송시간", "예약시간", "send time", "send_time", "send_at"),
    "to": ("수신자번호", "수신번호", "to", "recipient", "dest_phone"),
    "to_name": ("수신자이름", "수신자명", "to_name", "recipient name", "dest_name"),
    "from": ("발신자번호", "발신번호", "from", "sender", "send_phone"),
    "from_name": ("발신자이름", "발신자명", "from_name", "sender name", "send_name"),
    "subject": ("제목", "subject"),
    "text": ("내용", "본문", "text", "message", "msg_body"),
    "channel": ("채널", "channel"),
    "template": ("템플릿코드", "템플릿", "template", "template_code"),
    "variables": ("변수", "variables", "vars"),
}
_VAR_HEADER = re.compile(r"^#\{([^{}]+)\}$")
MAX_LISTED_ERRORS = 1000
MAX_ID_PREFIX = 100
_BATCH = 10  # SendMessageBatch's limit
_RETRIES = 3


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header.strip().lower())


_BY_ALIAS = {_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}


class RowProblem(ValueError):
    pass


# ------------------------------------------------------------------------------------ reading


@dataclass
class Sheet:
    rows: Iterator[tuple[int, Sequence[Any]]]  # (row number as the spreadsheet shows it, cells)
    size_hint: int | None
    close: Callable[[], None]


def digest(path: Path) -> tuple[str, bool]:
    """SHA-256 of the bytes, and whether they are valid UTF-8 (else a CSV is read as CP949, what
    Korean Excel writes)."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return sha.hexdigest(), utf8


def open_sheet(path: Path, *, sheet: str | None, encoding: str, utf8: bool) -> Sheet:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            import openpyxl
        except ImportError:
            raise UsageError("reading .xlsx needs openpyxl: pip install 'kr-notifier[cli]'") from None
        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors alike
            raise UsageError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__})") from None
        if sheet is not None and sheet not in wb.sheetnames:
            wb.close()
            raise UsageError(f"{path.name} has no sheet {sheet!r} (it has {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        hint = ws.max_row
        # A wrong <dimension> in the file would make openpyxl stop early; read to the real end.
        ws.reset_dimensions()
        rows = enumerate(ws.iter_rows(values_only=True), 1)
        return Sheet(rows, hint, wb.close)
    if suffix in (".csv", ".tsv", ".txt"):
        if sheet is not None:
            raise UsageError("--sheet is for .xlsx files")
        enc = ("utf-8-sig" if utf8 else "cp949") if encoding == "auto" else encoding
        f = path.open("r", encoding=enc, newline="")
        delimiter = "," if suffix == ".csv" else "\t"
        return Sheet(_csv_rows(f, delimiter, enc, path.name), None, f.close)
    if suffix == ".xls":
        raise UsageError(f"{path.name}: the old .xls format is not read; save it as .xlsx or .csv")
    raise UsageError(f"{path.name}: expected a .xlsx or .csv file")


def _csv_rows(f: IO[str], delimiter: str, enc: str, name: str) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        yield from enumerate(csv.reader(f, delimiter=delimiter), 1)
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not {enc} text; give --encoding (utf-8 or cp949)") from None
    except csv.Error as exc:
        raise UsageError(f"{name}: broken CSV ({exc})") from None


# ------------------------------------------------------------------------------------ layout


@dataclass
class Layout:
    fields: dict[int, str]  # column index -> event field (SPEC_ORDER / EXTRA_ORDER names)
    variables: dict[int, str] = field(default_factory=dict)  # column index -> #{variable} name
    header: bool = False


POSITIONAL = Layout(dict(enumerate(SPEC_ORDER + EXTRA_ORDER)))


def layout_of(first: Sequence[Any]) -> Layout:
    """A header row names the columns (Korean or English, any order, #{name} for a variable);
    without one the columns are the spec's smsExcel order, then channel, template, variables."""
    cells = [str(c).strip() if c is not None else "" for c in first]
    if not any(_key(c) in _BY_ALIAS or _VAR_HEADER.match(c) for c in cells if c):
        return POSITIONAL
    fields: dict[int, str] = {}
    variables: dict[int, str] = {}
    for i, c in enumerate(cells):
        if not c:
            continue
        m = _VAR_HEADER.match(c)
        name = _BY_ALIAS.get(_key(c))
        if m:
            variables[i] = m[1]
        elif name is None:
            known = ", ".join(a for aliases in ALIASES.values() for a in aliases[:2])
            raise UsageError(f"unknown column {c!r} in the header row; known: {known}, and #{{name}} for a variable")
        elif name in fields.values():
            raise UsageError(f"column {c!r} appears twice in the header row")
        else:
            fields[i] = name
    if "to" not in fields.values():
        raise UsageError("the header row has no recipient column (수신자번호 / to)")
    return Layout(fields, variables, header=True)


# ------------------------------------------------------------------------------------ cells -> event


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = v.isoformat() if isinstance(v, datetime | date) else str(v)
    return s if s.strip() else None


@dataclass
class Converter:
    id_prefix: str
    file_label: str
    zeros_restored: int = 0

    def phone(self, v: Any) -> str | None:
        s = _text(v)
        if s is None:
            return None
        s = s.strip()
        # Excel stores 01012345678 typed into a number cell as 1012345678: the 0 is restored when
        # only that makes it a Korean number.
        if s.isdigit() and not s.startswith("0") and phone.kind(s) is None and phone.kind("0" + s):
            self.zeros_restored += 1
            return "0" + s
        return s

    def body(self, row: int, cells: Sequence[Any], layout: Layout) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for i, cell in enumerate(cells):
            name = layout.fields.get(i)
            if name is not None:
                values[name] = cell
            elif i not in layout.variables and _text(cell) is not None:
                raise RowProblem(f"column {i + 1}: a value in a column this layout does not have")
        body: dict[str, Any] = {"id": f"{self.id_prefix}-{row}"}
        channel = _text(values.get("channel"))
        template = _text(values.get("template"))
        for name in ("to", "from"):
            number = self.phone(values.get(name))
            if number is not None:
                body[name] = number
        for name in ("to_name", "from_name", "subject"):
            value = _text(values.get(name))
            if value is not None:
                body[name] = value.strip()
        text = _text(values.get("text"))
        if text is not None:
            body["text"] = text
        send_at = _send_at(values.get("send_time"))
        if send_at is not None:
            body["send_at"] = send_at
        variables = _variables(values.get("variables"))
        for i, var in layout.variables.items():
            value = _text(cells[i]) if i < len(cells) else None
            if value is not None:
                variables[var] = value
        if template is not None or variables:
            body["alimtalk"] = {"template_code": template or "", "variables": variables}
            channel = channel or "alimtalk"
        if channel is not None:
            body["channel"] = channel.strip().lower()
        body["metadata"] = {"source": "send-bulk", "file": self.file_label, "row": row}
        return body


def _send_at(v: Any) -> str | None:
    """The spec's send time (yyyyMMddHHmmss, Korea time), an Excel date-time, or an ISO time."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=KST)).isoformat()
    if isinstance(v, date):
        raise RowProblem("send_time: a date without a time of day")
    s = _text(v) or ""
    s = s.strip()
    try:
        if re.fullmatch(r"\d{14}", s):
            moment = datetime.strptime(s, "%Y%m%d%H%M%S")
        elif re.fullmatch(r"\d{12}", s):
            moment = datetime.strptime(s, "%Y%m%d%H%M")
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", s):
            moment = datetime.fromisoformat(s.replace("Z", "+00:00"))
        else:
            raise ValueError
    except ValueError:
        raise RowProblem(f"send_time: {s!r} is neither yyyyMMddHHmmss (Korea time) nor an ISO date-time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=KST)).isoformat()


def _variables(v: Any) -> dict[str, str]:
    s = _text(v)
    if s is None:
        return {}
    s = s.strip()
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except ValueError:
            raise RowProblem("variables: not a JSON object") from None
        if not isinstance(obj, dict) or any(isinstance(x, dict | list) for x in obj.values()):
            raise RowProblem("variables: a JSON object of names to plain values")
        return {str(k): "" if x is None else str(x) for k, x in obj.items()}
    out = {}
    for part in re.split(r"[;\n]", s):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise RowProblem(f"variables: {part.strip()!r} is not name=value (pairs separated by ';')")
        out[name.strip()] = value.strip()
    return out


# ------------------------------------------------------------------------------------ pass 1


@dataclass
class Validation:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # the first MAX_LISTED_ERRORS
    first_id: str | None = None
    zeros_restored: int = 0

    def fail(self, row: int, reason: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append((row, reason))


TemplateLookup = Callable[[str], Template | None]


def validate(
    sheet: Sheet,
    converter: Converter,
    spool: IO[bytes],
    templates: Callable[[], TemplateLookup] | None,
    progress: Progress,
) -> Validation:
    result = Validation()
    layout: Layout | None = None
    lookup: TemplateLookup | None = None
    for row, cells in sheet.rows:
        if not any(_text(c) is not None for c in cells):
            continue  # blank rows (Excel keeps formatted empty rows at the end of a sheet)
        if layout is None:
            layout = layout_of(cells)
            if layout.header:
                continue
        result.rows += 1
        progress.advance()
        try:
            body = converter.body(row, cells, layout)
            alimtalk = body.get("alimtalk")
            template = None
            if alimtalk is not None and templates is not None:
                lookup = lookup or templates()
                template = lookup(alimtalk["template_code"])
                if "text" not in body and template is not None:
                    # The text of an AlimTalk is its template filled in: the column may stay empty.
                    body["text"] = fill(template.text, alimtalk["variables"])
            event = Event.model_validate(body)
            if event.alimtalk is not None and templates is not None:
                checked = check(event.alimtalk, event.text, template)
                if isinstance(checked, CheckFailure):
                    raise RowProblem(f"template check: {checked.reason}")
        except RowProblem as exc:
            result.fail(row, str(exc))
            continue
        except ValidationError as exc:
            result.fail(row, format_errors(exc))
            continue
        result.valid += 1
        result.first_id = result.first_id or body["id"]
        spool.write(json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n")
    result.zeros_restored = converter.zeros_restored
    return result


# ------------------------------------------------------------------------------------ pass 2


@dataclass
class Enqueued:
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, SQS's reason)
    interrupted: bool = False


def _send_batch(sqs: Any, queue_url: str, bodies: list[str]) -> tuple[int, list[tuple[str, str]]]:
    entries = {str(i): b for i, b in enumerate(bodies)}
    sent = 0
    given_up: list[dict[str, Any]] = []
    for attempt in range(_RETRIES):
        resp = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": k, "MessageBody": b} for k, b in entries.items()]
        )
        sent += len(resp.get("Successful", []))
        failures = resp.get("Failed", [])
        # Entries SQS blames on the sender would fail the same way again.
        given_up += [f for f in failures if f.get("SenderFault")]
        retry = [f for f in failures if not f.get("SenderFault")]
        if not retry or attempt == _RETRIES - 1:
            given_up += retry
            break
        entries = {f["Id"]: entries[f["Id"]] for f in retry}
        time.sleep(0.2 * (attempt + 1))
    failed = [(json.loads(bodies[int(f["Id"])])["id"], f"{f.get('Code')}: {f.get('Message', '')}") for f in given_up]
    return sent, failed


def enqueue(sqs: Any, queue_url: str, spool: IO[bytes], concurrency: int, progress: Progress) -> Enqueued:
    result = Enqueued()
    in_flight: set[Future[tuple[int, list[tuple[str, str]]]]] = set()

    def settle(done: set[Future[tuple[int, list[tuple[str, str]]]]]) -> None:
        for fut in done:
            sent, failed = fut.result()
            result.sent += sent
            result.failed += failed
            progress.advance(sent + len(failed))

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="send-bulk") as pool:
        try:
            batch: list[str] = []
            for line in spool:
                batch.append(line.decode("utf-8").rstrip("\n"))
                if len(batch) == _BATCH:
                    in_flight.add(pool.submit(_send_batch, sqs, queue_url, batch))
                    batch = []
                    # Bounded: the spool is read no faster than SQS takes it.
                    if len(in_flight) >= 2 * concurrency:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        settle(done)
            if batch:
                in_flight.add(pool.submit(_send_batch, sqs, queue_url, batch))
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            # Batches already handed to SQS are waited for, so the summary counts what really went.
            done, _ = wait(in_flight)
            try:
                settle(done)
            finally:
                in_flight.clear()
    return result


# ------------------------------------------------------------------------------------ the command


@dataclass
class Options:
    path: Path
    skip_invalid: bool = False
    dry_run: bool = False
    quiet: bool = False
    sheet: str | None = None
    encoding: str = "auto"
    id_prefix: str | None = None
    template_check: bool = True
    concurrency: int = 8


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM first: ru_maxrss also counts the memory of the
    process that started this one (Linux carries it over fork and exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(aws: Aws, opts: Options) -> int:
    path = opts.path
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    started = time.monotonic()
    sha, utf8 = digest(path)
    prefix = opts.id_prefix or f"bulk-{sha[:16]}"
    if not (prefix.isprintable() and prefix == prefix.strip() and 0 < len(prefix) <= MAX_ID_PREFIX):
        raise UsageError(f"--id-prefix must be 1-{MAX_ID_PREFIX} printable characters without outer spaces")
    converter = Converter(prefix, path.name[:100])

    def templates() -> TemplateLookup:
        from . import templates as tpl

        try:
            book = tpl.fetch(aws)
        except CliError as exc:
            raise CliError(
                f"AlimTalk rows are checked against the template list, which could not be read:\n  {exc.message}\n"
                "  (--no-template-check skips the check; the dispatcher still checks before sending)",
                exc.exit_code,
            ) from None
        return book.get

    with tempfile.TemporaryFile(prefix="notifier-send-bulk-") as spool:
        sheet = open_sheet(path, sheet=opts.sheet, encoding=opts.encoding, utf8=utf8)
        progress = Progress("validating", sheet.size_hint, enabled=Progress.wanted(opts.quiet))
        try:
            checked = validate(sheet, converter, spool, templates if opts.template_check else None, progress)
        finally:
            progress.close()
            sheet.close()
        _report_validation(path, sha, prefix, checked)
        if checked.rows == 0:
            raise UsageError(f"{path.name} has no rows to send")
        if checked.invalid and not opts.skip_invalid:
            raise UsageError(
                f"nothing enqueued: fix the {checked.invalid:,} invalid row(s), or pass --skip-invalid "
                f"to send the {checked.valid:,} valid one(s)"
            )
        if checked.valid == 0:
            raise UsageError("nothing enqueued: no valid rows")
        if opts.dry_run:
            print(f"dry run: {checked.valid:,} row(s) would be enqueued; nothing was sent")
            return 0
        queue_url = aws.queue_url
        _note_if_sent_before(aws, checked.first_id)
        spool.seek(0)
        progress = Progress("enqueueing", checked.valid, enabled=Progress.wanted(opts.quiet))
        try:
            done = enqueue(aws.client("sqs"), queue_url, spool, opts.concurrency, progress)
        except BaseException:
            progress.close()
            print(
                "stopped by the error below; rows already enqueued stay enqueued, and running the same "
                "file again is safe: the dispatcher sends each id at most once"
            )
            raise
        progress.close()
    elapsed = time.monotonic() - started
    queue_name = queue_url.rsplit("/", 1)[-1]
    print(
        f"enqueued {done.sent:,} of {checked.valid:,} valid row(s) to {queue_name} "
        f"in {elapsed:.1f} s (peak memory {peak_mb():.0f} MB)"
    )
    if checked.invalid:
        print(f"skipped {checked.invalid:,} invalid row(s) (--skip-invalid)")
    print(f"ids: {prefix}-<row number>, e.g. `notifier status {checked.first_id}`")
    for rid, reason in done.failed[:20]:
        print(f"  not enqueued: {rid}: {reason}")
    if done.interrupted:
        print("interrupted: running the same file again is safe, the dispatcher sends each id at most once")
        return INTERRUPTED
    if done.failed:
        raise CliError(f"SQS refused {len(done.failed):,} message(s); run the same file again to retry them")
    return 0


def _report_validation(path: Path, sha: str, prefix: str, v: Validation) -> None:
    print(f"{path.name}: {v.rows:,} row(s), {v.valid:,} valid, {v.invalid:,} invalid (sha256 {sha[:16]}…)")
    if v.zeros_restored:
        print(f"note: {v.zeros_restored:,} phone number(s) had lost their leading 0 (number cells); read with it")
    if v.errors:
        print("invalid rows:")
        for row, reason in v.errors:
            print(f"  row {row}: {reason}")
        if v.invalid > len(v.errors):
            print(f"  … and {v.invalid - len(v.errors):,} more")


def _note_if_sent_before(aws: Aws, first_id: str | None) -> None:
    """One GetItem: tell the operator this file went out before. Re-enqueueing is harmless, so a
    table that cannot be read only costs the note."""
    if first_id is None:
        return
    try:
        from .status import get

        rec = get(aws, first_id)
    except Exception:
        return
    if rec is not None:
        print(
            f"note: this file was enqueued before (record {first_id} is {rec.get('status')}, accepted "
            f"{rec.get('accepted_at')}); rows already sent are not sent again"
        )
