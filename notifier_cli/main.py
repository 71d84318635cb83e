"""`notifier`: the command tree, the global options, and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from . import balance, bulk, dlq, sendnumber, status, templates
from .aws import DEFAULT_STACK, Aws, Target
from .errors import INTERRUPTED, REFUSED, USAGE, CliError

EXIT_CODES = """exit codes:
  0  done
  1  the provider or AWS refused (the code and its meaning are printed), or could not be reached
  2  bad usage or bad input: options, a number that breaks the sender rules, invalid spreadsheet rows
  130 interrupted (Ctrl-C); every command can be run again safely"""

GLOBAL_HELP = """Resources come from the CloudFormation stack (--stack-name): its Outputs QueueUrl,
DeadLetterQueueUrl and TableName, and its parameters ProviderBaseUrl, ProviderKeyParameterName and
ProviderClientIdParameterName (the API key and client id are read from SSM, decrypted; the key is
never printed). Any of them can be given directly instead, and then no stack is needed."""

Handler = Callable[[Aws, argparse.Namespace], int]


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Given to the top parser and to every subcommand, so they can stand before or after the
    # subcommand as with the AWS CLI; in the subcommands SUPPRESS keeps the earlier value.
    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    g = parser.add_argument_group("AWS and provider (before or after the subcommand)", GLOBAL_HELP)
    g.add_argument("--profile", default=d(None), help="AWS named profile (as the AWS CLI)")
    g.add_argument("--region", default=d(None), help="AWS region (as the AWS CLI)")
    g.add_argument(
        "--endpoint-url", default=d(None), help="AWS endpoint, e.g. make serve's embedded AWS http://127.0.0.1:PORT"
    )
    g.add_argument(
        "--stack-name",
        default=d(os.environ.get("NOTIFIER_STACK_NAME", DEFAULT_STACK)),
        help=f"CloudFormation stack to read resources from (default $NOTIFIER_STACK_NAME or {DEFAULT_STACK}; "
        "make serve's is kr-notifier-local)",
    )
    g.add_argument("--queue-url", default=d(None), help="the notification queue (instead of the stack's QueueUrl)")
    g.add_argument("--dlq-url", default=d(None), help="the dead-letter queue (instead of DeadLetterQueueUrl)")
    g.add_argument("--table", default=d(None), help="the records table (instead of TableName)")
    g.add_argument("--provider-url", default=d(None), help="provider base URL (instead of ProviderBaseUrl)")
    g.add_argument("--key-param", default=d(None), help="SSM parameter holding the provider API key")
    g.add_argument("--client-id-param", default=d(None), help="SSM parameter holding the provider client id")
    g.add_argument("--client-id", default=d(None), help="the provider client id itself (not a secret)")
    g.add_argument(
        "--provider", choices=("apistore", "solapi"), default=d(None), help="instead of the stack's Provider"
    )
    g.add_argument("--secret-param", default=d(None), help="SSM parameter holding SOLAPI's API secret")
    g.add_argument("--pf-id", default=d(None), help="SOLAPI's KakaoTalk channel id (instead of SolapiPfId)")


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    top = argparse.ArgumentParser(
        prog="notifier",
        description="Operate kr-notifier: sender numbers, AlimTalk templates, bulk sends from a spreadsheet, "
        "record status, the dead-letter queue.",
        epilog=EXIT_CODES,
        formatter_class=fmt,
    )
    _global_options(top, suppress=False)
    commands = top.add_subparsers(title="commands", metavar="COMMAND")

    def command(parent: Any, name: str, help_: str, description: str, run: Handler | None) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(
            name, help=help_, description=description, epilog=EXIT_CODES, formatter_class=fmt
        )
        if run is not None:
            _global_options(p, suppress=True)
            p.set_defaults(run=run)
        return p

    # ---------------------------------------------------------------- sendnumber
    sn = command(
        commands,
        "sendnumber",
        "register and list sender numbers (SMS route, and AlimTalk with a PIN)",
        "Sender numbers. The SMS route registers at once (save); the AlimTalk route takes a PIN sent to the "
        "number (request-pin), confirmed within 3 minutes (confirm).\nEvery number is checked against spec "
        "section 5 before any call: 8-11 digits; a landline with its area code; a mobile number; or a "
        "15xx/16xx/18xx representative number with no area code in front.",
        None,
    )
    sn_cmds = sn.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    p = command(
        sn_cmds,
        "save",
        "register a number for SMS/LMS/MMS (/ppurio/1/sendnumber/save)",
        "Register NUMBER as an SMS/LMS/MMS sender number. A number registered already is refused with "
        "result_code 500 (중복등록), explained.",
        lambda aws, a: sendnumber.save(aws, a.number, a.comment),
    )
    p.add_argument("number", metavar="NUMBER", help="e.g. 02-1234-5678 (separators are dropped)")
    p.add_argument("--comment", required=True, help="what the number is, up to 200 characters")
    p = command(
        sn_cmds,
        "list",
        "list registered numbers (SMS route, or --kakao for AlimTalk)",
        "List the registered sender numbers, or look up one (exit 1 when it is not on the list). With --kakao "
        "the AlimTalk list, showing USE_YN as 'registered' (Y) or 'awaiting PIN' (N).",
        lambda aws, a: sendnumber.list_(aws, a.number, a.kakao, a.json),
    )
    p.add_argument("number", metavar="NUMBER", nargs="?", help="only this number")
    p.add_argument("--kakao", action="store_true", help="the AlimTalk route's list (/kko/1/sendnumber/list)")
    p.add_argument("--json", action="store_true", help="the provider's entries as JSON")
    p = command(
        sn_cmds,
        "request-pin",
        "AlimTalk step 1: have the provider send a PIN to the number",
        "AlimTalk sender registration, step 1 (/kko/2/sendnumber/save without pincode): the provider sends a "
        "PIN to NUMBER, by SMS (6 digits) or by a voice call (VMS, 2 digits). It expires after 3 minutes. "
        "Then run `notifier sendnumber confirm NUMBER --pin CODE`.",
        lambda aws, a: sendnumber.request_pin(aws, a.number, a.comment, a.pin_by),
    )
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--comment", required=True, help="what the number is, up to 200 characters")
    p.add_argument("--pin-by", choices=("sms", "vms"), required=True, help="sms: a 6-digit text; vms: a 2-digit call")
    p = command(
        sn_cmds,
        "confirm",
        "AlimTalk step 2: confirm the PIN the number received",
        "AlimTalk sender registration, step 2 (/kko/2/sendnumber/save with pincode). Answers explained: 700 the "
        "PIN expired (3 minutes: request a new one), 600 wrong PIN, 500 already registered.",
        lambda aws, a: sendnumber.confirm(aws, a.number, a.pin, a.pin_by, a.comment),
    )
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--pin", required=True, metavar="CODE", help="the PIN the number received")
    p.add_argument("--pin-by", choices=("sms", "vms"), help="how it came; by default from its length (6 SMS, 2 VMS)")
    p.add_argument("--comment", help="by default the comment given with request-pin")

    # ---------------------------------------------------------------- balance
    command(
        commands,
        "balance",
        "the provider account's balance (SOLAPI; API Store has no balance API)",
        "The prepaid balance of the deployment's SOLAPI account (GET /cash/v1/balance), in won. API Store has "
        "no balance API: its sends answer result_code 600 when the balance runs out.",
        lambda aws, a: balance.show(aws),
    )

    # ---------------------------------------------------------------- templates
    tp = command(
        commands, "templates", "list AlimTalk templates and check a message against one", "AlimTalk templates.", None
    )
    tp_cmds = tp.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    p = command(
        tp_cmds,
        "list",
        "templates with their status, text, #{variables} and buttons",
        "List the provider's AlimTalk templates (/kko/1/template/list): code, status, name, the text with its "
        "#{variables}, and the buttons.",
        lambda aws, a: templates.list_(aws, a.code, a.status, a.json),
    )
    p.add_argument("--code", help="only this template code")
    p.add_argument(
        "--status",
        type=templates.status_code,
        help="only this status, by name or code: 등록 1, 검수요청 2, 승인 3, 반려 4, 승인중단 5 "
        "(or registered, requested, approved, rejected, suspended)",
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p = command(
        tp_cmds,
        "check",
        "render a message from a template and say whether it would pass the pre-send check",
        "Fill template CODE with --vars and run the dispatcher's own pre-send check: the template exists and is "
        "승인 (approved), every #{variable} is given and no other, the text is exactly the filled template, the "
        "buttons are the template's. Exit 0 if it would be sent as AlimTalk, 1 if not (and what the dispatcher "
        "would do instead).",
        lambda aws, a: templates.check_(aws, a.code, a.vars, a.text, a.fallback),
    )
    p.add_argument("code", metavar="CODE")
    p.add_argument("--vars", nargs="+", action="extend", metavar="NAME=VALUE", help="template variables")
    p.add_argument("--text", help="check this text instead of the filled template (what a producer would send)")
    p.add_argument(
        "--fallback", choices=("auto", "sms", "lms", "none"), default="auto", help="the event's alimtalk.fallback"
    )

    # ---------------------------------------------------------------- send-bulk
    p = command(
        commands,
        "send-bulk",
        "enqueue one notification per spreadsheet row (xlsx or csv)",
        """Enqueue one event per row of FILE (.xlsx or .csv), in the spec's smsExcel layout:

  send time | recipient number | recipient name | sender number | sender name | subject | text
  (발송시간    수신자번호          수신자이름        발신자번호       발신자이름     제목       내용)

then optionally channel | template code | variables (name=value; name=value, or a JSON object).
A header row may name the columns instead, in any order: the Korean or English names above, and
#{name} for one template variable per column. Send time: yyyyMMddHHmmss in Korea time (the
spec's), an Excel date-time, or ISO; empty means now. An empty sender uses the stack's default.
A template code makes the row an AlimTalk; an empty text is then the filled template.

Every row is validated with the dispatcher's own event model (and AlimTalk rows with its
template check) BEFORE anything is enqueued. Invalid rows are listed with their row number and
reason, and nothing is enqueued unless --skip-invalid. Ids are bulk-<file hash>-<row number>:
the same file sent twice sends nothing twice (the dispatcher sends an id at most once; a record
keeps the id for RecordTtlDays). An edited file is a new file: every row gets a new id, unless
--id-prefix is given the same again.

The file is read twice as a stream (never whole in memory); progress on stderr when it is a
terminal; a summary at the end.""",
        lambda aws, a: bulk.run(
            aws,
            bulk.Options(
                path=Path(a.file),
                skip_invalid=a.skip_invalid,
                dry_run=a.dry_run,
                quiet=a.quiet,
                sheet=a.sheet,
                encoding=a.encoding,
                id_prefix=a.id_prefix,
                template_check=not a.no_template_check,
                concurrency=a.concurrency,
            ),
        ),
    )
    p.add_argument("file", metavar="FILE", help=".xlsx or .csv")
    p.add_argument("--skip-invalid", action="store_true", help="enqueue the valid rows even if some are invalid")
    p.add_argument("--dry-run", action="store_true", help="validate only; enqueue nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--sheet", help="the worksheet to read (default: the first)")
    p.add_argument(
        "--encoding", default="auto", help="CSV encoding: auto (UTF-8 if it decodes, else CP949), utf-8, cp949 ..."
    )
    p.add_argument("--id-prefix", help="ids become PREFIX-<row number> instead of bulk-<file hash>-<row number>")
    p.add_argument(
        "--no-template-check",
        action="store_true",
        help="do not read the template list (AlimTalk rows then need their text; the dispatcher still checks)",
    )
    p.add_argument("--concurrency", type=_positive, default=8, help="SendMessageBatch calls in flight (default 8)")

    # ---------------------------------------------------------------- status
    p = command(
        commands,
        "status",
        "one record by id, or counts per status since a time",
        "status ID: the record (status, channel asked and used, route and fallback, cmid, reasons, report, times, "
        "attempts, metadata), read with a consistent GetItem.\n"
        "status --since 1h: records accepted since then, counted per status. This is a Scan of the whole table "
        "with a filter on accepted_at (it reads, and is billed for, every item, and prints how many): fine for an "
        "operator now and then, not for a dashboard or a hot path.",
        lambda aws, a: _status(aws, a),
    )
    p.add_argument("id", metavar="ID", nargs="?", help="the event id")
    p.add_argument("--since", metavar="WHEN", help="30m, 1h, 2d, 1w, or an ISO time (UTC without an offset)")
    p.add_argument("--json", action="store_true", help="as JSON")

    # ---------------------------------------------------------------- dlq
    dq = command(
        commands, "dlq", "look into the dead-letter queue and move messages back", "The dead-letter queue.", None
    )
    dq_cmds = dq.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    p = command(
        dq_cmds,
        "list",
        "messages in the DLQ with the reason their record gives, without consuming them",
        "List the messages in the dead-letter queue with their record's status and reason. Messages are received "
        "with a 30-second visibility time-out and made visible again at once: nothing is deleted (their receive "
        "count goes up by one).",
        lambda aws, a: dlq.list_(aws, a.max, a.json),
    )
    p.add_argument("--max", type=_positive, default=100, help="list at most this many (default 100)")
    p.add_argument("--json", action="store_true", help="as JSON")
    p = command(
        dq_cmds,
        "redrive",
        "move messages back to the main queue (--id ... or --all)",
        """Move messages from the dead-letter queue back to the main queue, and say how many moved.

--all on AWS uses SQS StartMessageMoveTask (SQS moves them; interrupting this command does not
stop it). --id, and endpoints without move tasks (moto, make serve), receive / send / delete: each
message is sent to the main queue before it is deleted from the DLQ, so an interruption never
loses one. A journal of copies sent but not yet deleted lets a rerun finish those without a second
copy; and a copy that is left anyway is harmless, because the dispatcher sends each id at most
once. The dispatcher marks a record failed with dead_lettered when it gives up; a redriven message
claims such a record again and is retried.""",
        lambda aws, a: dlq.redrive(
            aws,
            ids=a.id,
            all_=a.all,
            method=a.method,
            journal_path=Path(a.journal) if a.journal else None,
            visibility=a.visibility_timeout,
        ),
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", nargs="+", action="extend", metavar="ID", help="the event ids to move")
    which.add_argument("--all", action="store_true", help="every message in the DLQ")
    p.add_argument(
        "--method",
        choices=("auto", "move-task", "manual"),
        default="auto",
        help="auto: a move task for --all without --endpoint-url, else receive/send/delete",
    )
    p.add_argument("--journal", help="where copies in flight are noted (default ~/.local/state/kr-notifier/)")
    p.add_argument(
        "--visibility-timeout",
        type=_positive,
        default=30,
        help="seconds a received DLQ message stays hidden if this command dies (default 30)",
    )
    return top


def _status(aws: Aws, a: argparse.Namespace) -> int:
    if (a.id is None) == (a.since is None):
        raise _Usage("status takes an ID or --since WHEN (one of them)")
    if a.id is not None:
        return status.show(aws, a.id, a.json)
    return status.counts(aws, a.since, a.json)


class _Usage(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)


def _target(a: argparse.Namespace) -> Target:
    return Target(
        profile=a.profile,
        region=a.region,
        endpoint_url=a.endpoint_url,
        stack_name=a.stack_name,
        queue_url=a.queue_url,
        dlq_url=a.dlq_url,
        table=a.table,
        provider_url=a.provider_url,
        key_param=a.key_param,
        client_id_param=a.client_id_param,
        client_id=a.client_id,
        provider=a.provider,
        secret_param=a.secret_param,
        pf_id=a.pf_id,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) and argparse's usage errors (2), as a return value for callers
        return int(exc.code or 0) if not isinstance(exc.code, str) else USAGE
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return USAGE
    aws = Aws(_target(args))
    try:
        return int(args.run(aws, args))
    except CliError as exc:
        _error(exc.message)
        return exc.exit_code
    except ClientError as exc:
        err = exc.response.get("Error", {})
        _error(f"AWS refused {exc.operation_name}: {err.get('Code', '?')}: {err.get('Message', '')}".rstrip(": "))
        return REFUSED
    except (NoCredentialsError, PartialCredentialsError, NoRegionError, ProfileNotFound) as exc:
        _error(f"{exc} (give --profile / --region, or set them up as for the AWS CLI)")
        return USAGE
    except BotoCoreError as exc:
        _error(f"AWS could not be reached: {exc}")
        return REFUSED
    except KeyboardInterrupt:
        _error("interrupted")
        return INTERRUPTED


def _error(message: str) -> None:
    sys.stdout.flush()
    print(f"notifier: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
