"""The command line against a local stack over real HTTP: moto server (SQS, DynamoDB, SSM,
CloudFormation) and the provider sandbox, both on loopback. main(argv) runs in-process so a test
can read its output and steer the sandbox; every AWS and provider call still crosses a socket."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from devstack.localaws import STACK_NAME
from devstack.stack import CLIENT_ID_PARAM, KEY_PARAM, LocalStack
from notifier_cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def start_stack() -> LocalStack:
    # Two receives before the DLQ keeps the dead-letter tests short.
    return LocalStack.start(parameters={"MaxReceiveCount": "2"}, log_stream=io.StringIO())


def explicit(stack: LocalStack) -> list[str]:
    """Every resource named on the command line: no CloudFormation involved."""
    return [
        "--endpoint-url", stack.aws.endpoint_url, "--region", stack.aws.region,
        "--queue-url", stack.queue_url, "--dlq-url", stack.dlq_url, "--table", stack.env["TABLE_NAME"],
        "--provider-url", stack.sandbox.url, "--key-param", KEY_PARAM, "--client-id-param", CLIENT_ID_PARAM,
    ]  # fmt: skip


def by_stack(stack: LocalStack) -> list[str]:
    """Resources found the way an operator finds them on AWS: DescribeStacks Outputs and Parameters."""
    return ["--endpoint-url", stack.aws.endpoint_url, "--region", stack.aws.region, "--stack-name", STACK_NAME]


Cli = Callable[..., Result]


@pytest.fixture
def cli(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str, resolve: str = "explicit") -> Result:
        capsys.readouterr()
        where = explicit(stack) if resolve == "explicit" else by_stack(stack)
        code = main([*where, *argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
