"""`notifier balance`, `templates` and `sendnumber` against a stack deployed with Provider=solapi:
SOLAPI's key and secret read from moto's SSM as the stack names them, the SOLAPI sandbox over HTTP."""

from __future__ import annotations

import io

import pytest

from devstack.stack import LocalStack
from notifier_cli.main import main

from .conftest import by_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    s = LocalStack.start(parameters={"Provider": "solapi"}, log_stream=io.StringIO())
    yield s
    s.stop()


def run(stack: LocalStack, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*by_stack(stack), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_balance_is_solapis(stack, capsys):
    stack.sandbox.set_solapi_balance(12345)
    code, out, err = run(stack, capsys, "balance")
    assert code == 0, err
    assert out.strip() == "SOLAPI balance: 12,345 won"


def test_templates_are_solapis_in_the_same_shape_and_check(stack, capsys):
    code, out, err = run(stack, capsys, "templates", "list", "--code", "A1111")
    assert code == 0, err
    assert "1 template(s)" in out and "A1111  승인 (3, approved)  배송 안내" in out
    assert "1. 웹링크 '배송조회'  https://shop.example/o/#{order}" in out
    code, out, err = run(stack, capsys, "templates", "check", "A1111", "--vars", "name=홍길동", "order=1")
    assert code == 0, err


def test_sendnumber_says_it_works_with_api_store_only(stack, capsys):
    code, _, err = run(stack, capsys, "sendnumber", "list")
    assert code == 1 and "API Store only" in err


def test_balance_with_api_store_says_it_has_no_balance_api(stack, capsys):
    code, _, err = run(stack, capsys, "balance", "--provider", "apistore")
    assert code == 1 and "API Store has no balance API" in err
