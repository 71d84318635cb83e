"""`notifier sendnumber` and `notifier templates` against the provider sandbox over HTTP, with the
API key read from moto's SSM as the stack names it."""

from __future__ import annotations

import pytest

from devstack.stack import LocalStack
from notifier_cli.main import build_parser, main

from .conftest import start_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    s = start_stack()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def clean(stack):
    stack.sandbox.reset()
    yield
    stack.sandbox.clock = __import__("time").time


def requests(stack: LocalStack, kind: str) -> int:
    return stack.sandbox.requests_count().get(kind, 0)


# ------------------------------------------------------------------ the command tree


def _leaf_commands() -> list[list[str]]:
    def walk(parser, path):  # type: ignore[no-untyped-def]
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            return [path]
        return [p for name, sub in subs[0].choices.items() for p in walk(sub, [*path, name])]

    return walk(build_parser(), [])


@pytest.mark.parametrize("command", _leaf_commands(), ids=" ".join)
def test_every_subcommand_has_help(command, capsys):
    # When an operator asks any subcommand for help
    code = main([*command, "--help"])
    # Then it explains itself and the exit codes, and exits 0
    out = capsys.readouterr().out
    assert code == 0
    assert f"notifier {' '.join(command)}" in out and "exit codes:" in out


def test_a_missing_argument_is_bad_usage(capsys):
    # Given a redrive with neither --id nor --all / When it runs / Then argparse's usage error: exit 2
    assert main(["dlq", "redrive"]) == 2
    assert "one of the arguments --id --all is required" in capsys.readouterr().err


# ------------------------------------------------------------------ SMS route


def test_a_sender_number_is_registered_and_listed(stack, cli):
    # When an operator registers a Seoul number written with dashes
    r = cli("sendnumber", "save", "02-3289-2888", "--comment", "대표번호")
    # Then it is registered under its digits and the list shows it with its comment
    assert r.code == 0, r.err
    assert "registered 0232892888" in r.out
    listed = cli("sendnumber", "list", "0232892888")
    assert listed.code == 0 and "0232892888" in listed.out and "대표번호" in listed.out


def test_registering_a_number_twice_explains_the_500(stack, cli):
    # Given a registered number
    assert cli("sendnumber", "save", "0312345678", "--comment", "경기 지점").code == 0
    # When it is registered again
    r = cli("sendnumber", "save", "031-234-5678", "--comment", "경기 지점")
    # Then the refusal is exit 1 with the code, the spec's meaning and what to do
    assert r.code == 1
    assert "result_code 500: 중복등록" in r.err and "already registered" in r.err


@pytest.mark.parametrize(
    "number, why",
    [
        ("0215881234", "takes no area code"),  # spec section 5: no area code in front of 15xx
        ("1234567", "8 to 11 digits"),
        ("0991234567", "not a valid sender number"),
    ],
)
def test_a_number_breaking_the_spec_rules_never_reaches_the_provider(stack, cli, number, why):
    # When an operator tries to register a number spec section 5 forbids
    r = cli("sendnumber", "save", number, "--comment", "x")
    # Then it is bad usage, said why, and no call was made
    assert r.code == 2 and why in r.err and "spec section 5" in r.err
    assert requests(stack, "sendnumber_save") == 0


def test_looking_up_a_number_that_is_not_registered_is_exit_1(stack, cli):
    r = cli("sendnumber", "list", "0511234567")
    assert r.code == 1 and "not on the SMS sender list" in r.err


# ------------------------------------------------------------------ AlimTalk route (PIN)


def test_the_pin_flow_registers_a_number_for_alimtalk(stack, cli):
    # Given a PIN requested by SMS for a number
    r = cli("sendnumber", "request-pin", "0421234567", "--comment", "대전 지점", "--pin-by", "sms")
    assert r.code == 0, r.err
    assert "expires in 3 minutes" in r.out
    # Then the AlimTalk list shows it awaiting its PIN
    assert "awaiting PIN" in cli("sendnumber", "list", "--kakao", "0421234567").out
    # When the PIN the phone received is confirmed (its type read from its 6 digits)
    pin = stack.sandbox.pins()["0421234567"]["pincode"]
    r = cli("sendnumber", "confirm", "0421234567", "--pin", pin)
    # Then the number is registered, and listed so
    assert r.code == 0, r.err
    listed = cli("sendnumber", "list", "--kakao", "0421234567")
    assert "registered" in listed.out and "awaiting" not in listed.out and "대전 지점" in listed.out


def test_a_vms_pin_has_two_digits(stack, cli):
    assert cli("sendnumber", "request-pin", "0621234567", "--comment", "광주", "--pin-by", "vms").code == 0
    pin = stack.sandbox.pins()["0621234567"]["pincode"]
    assert len(pin) == 2
    assert cli("sendnumber", "confirm", "0621234567", "--pin", pin, "--pin-by", "vms").code == 0


def test_a_pin_of_the_wrong_length_is_bad_usage_without_a_call(stack, cli):
    r = cli("sendnumber", "confirm", "0421234567", "--pin", "1234", "--pin-by", "sms")
    assert r.code == 2 and "has 6 digits" in r.err
    assert requests(stack, "kko_sendnumber_save") == 0


def test_a_wrong_pin_is_explained_and_the_number_stays_unconfirmed(stack, cli):
    # Given a PIN request
    assert cli("sendnumber", "request-pin", "0531234567", "--comment", "대구", "--pin-by", "sms").code == 0
    pin = stack.sandbox.pins()["0531234567"]["pincode"]
    wrong = f"{(int(pin) + 1) % 1_000_000:06d}"
    # When another PIN is confirmed
    r = cli("sendnumber", "confirm", "0531234567", "--pin", wrong)
    # Then 600 with its meaning, and the number still awaits its PIN
    assert r.code == 1 and "result_code 600: 일치 하지 않는 인증번호" in r.err and "wrong PIN" in r.err
    assert "awaiting PIN" in cli("sendnumber", "list", "--kakao", "0531234567").out


def test_a_pin_confirmed_after_three_minutes_has_expired(stack, cli):
    # Given a PIN requested at a time the sandbox's clock controls
    now = [1_800_000_000.0]
    stack.sandbox.clock = lambda: now[0]
    assert cli("sendnumber", "request-pin", "0641234567", "--comment", "제주", "--pin-by", "sms").code == 0
    pin = stack.sandbox.pins()["0641234567"]["pincode"]
    # When it is confirmed three minutes and a second later
    now[0] += 181
    r = cli("sendnumber", "confirm", "0641234567", "--pin", pin)
    # Then 700, explained with what to do: request a new PIN
    assert r.code == 1 and "result_code 700" in r.err and "request-pin" in r.err
    # And a new PIN confirmed in time registers it
    assert cli("sendnumber", "request-pin", "0641234567", "--comment", "제주", "--pin-by", "sms").code == 0
    now[0] += 179
    assert cli("sendnumber", "confirm", "0641234567", "--pin", stack.sandbox.pins()["0641234567"]["pincode"]).code == 0


def test_a_pin_for_an_already_registered_number_is_explained(stack, cli):
    # Given the seeded sender, registered for AlimTalk already
    r = cli("sendnumber", "request-pin", "0212345678", "--comment", "본사", "--pin-by", "sms")
    # Then 500 with its meaning
    assert r.code == 1 and "result_code 500: 이미 등록된 번호" in r.err and "nothing to do" in r.err


# ------------------------------------------------------------------ templates


def test_templates_are_listed_with_their_variables_and_buttons(stack, cli):
    r = cli("templates", "list")
    assert r.code == 0, r.err
    assert "4 template(s)" in r.out
    assert "A1111  승인 (3, approved)  배송 안내" in r.out
    assert "#{name}님, 주문하신 상품이 발송되었습니다." in r.out
    assert "variables: #{name}, #{order}" in r.out
    assert "1. 웹링크 '배송조회'  https://shop.example/o/#{order}" in r.out


@pytest.mark.parametrize("status", ["반려", "4", "rejected"])
def test_templates_are_filtered_by_status_name_or_code(stack, cli, status):
    r = cli("templates", "list", "--status", status)
    assert r.code == 0 and "1 template(s)" in r.out and "R3333" in r.out and "A1111" not in r.out


def test_an_unknown_status_is_bad_usage(stack, cli):
    r = cli("templates", "list", "--status", "done")
    assert r.code == 2 and "unknown status" in r.err


def test_templates_are_filtered_by_code(stack, cli):
    r = cli("templates", "list", "--code", "A2222")
    assert "1 template(s)" in r.out and "[#{service}] 인증번호는 #{code} 입니다." in r.out


def test_a_filled_template_passes_the_pre_send_check(stack, cli):
    # When an operator renders A1111 with its two variables
    r = cli("templates", "check", "A1111", "--vars", "name=홍길동", "order=1234")
    # Then the message and its filled button are shown, and it would be sent
    assert r.code == 0, r.err
    assert "| 홍길동님, 주문하신 상품이 발송되었습니다." in r.out
    assert "https://shop.example/o/1234" in r.out
    assert "passes the dispatcher's pre-send check" in r.out


def test_a_missing_variable_fails_the_check_and_would_be_rejected(stack, cli):
    r = cli("templates", "check", "A1111", "--vars", "name=홍길동")
    assert r.code == 1
    assert "would NOT pass" in r.err and "missing 'order'" in r.err and "rejected" in r.err


def test_a_text_that_differs_from_the_template_fails_the_check(stack, cli):
    r = cli("templates", "check", "A2222", "--vars", "service=Shop", "code=123456", "--text", "[Shop] 인증번호 123456")
    assert r.code == 1 and "differs from template 'A2222'" in r.err and "fallback SMS/LMS" in r.err


def test_a_template_not_approved_would_go_out_as_the_fallback_sms(stack, cli):
    r = cli("templates", "check", "R3333", "--vars", "name=홍길동")
    assert r.code == 1 and "is 반려, not 승인" in r.err and "fallback SMS/LMS" in r.err


def test_a_bad_vars_pair_is_bad_usage(stack, cli):
    r = cli("templates", "check", "A1111", "--vars", "name")
    assert r.code == 2 and "name=value" in r.err


# ------------------------------------------------------------------ credentials and resolution


def test_the_provider_is_found_through_the_stack_parameters(stack, cli):
    # When only the stack name is given, the provider URL, key and client id come from the stack + SSM
    r = cli("templates", "list", "--code", "A1111", resolve="stack")
    assert r.code == 0, r.err
    assert "A1111" in r.out


def test_a_wrong_api_key_is_explained_as_a_credentials_problem(stack, cli):
    # Given the SSM parameter holds a key the provider does not know
    stack.aws.put_secret("/notifier/test/wrong-key", "not-the-key")
    # When an operator uses it
    r = cli("sendnumber", "list", "--key-param", "/notifier/test/wrong-key")
    # Then the refusal says 100 and points at the credentials
    assert r.code == 1 and "result_code 100" in r.err and "API key" in r.err


def test_an_unknown_stack_names_the_options_that_replace_it(stack, capsys):
    code = main(["status", "x", "--endpoint-url", stack.aws.endpoint_url, "--region", stack.aws.region])
    err = capsys.readouterr().err
    assert code == 1 and "stack 'kr-notifier-dev' not found" in err and "--table" in err
