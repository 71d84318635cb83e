"""`notifier balance`: the SOLAPI account's prepaid balance. API Store has no balance API."""

from __future__ import annotations

from notifier.providers.solapi.client import SolapiError
from notifier.providers.transport import TransportError

from .aws import Aws
from .errors import CliError


def show(aws: Aws) -> int:
    if aws.provider_name() != "solapi":
        raise CliError("balance: API Store has no balance API (its sends answer result_code 600 when it runs out)")
    try:
        value = aws.solapi().balance()
    except TransportError as exc:
        raise CliError(f"reading SOLAPI's balance: {exc.reason}") from None
    except SolapiError as exc:
        raise CliError(f"reading SOLAPI's balance: {exc.error.reason}") from None
    print(f"SOLAPI balance: {value:,.0f} won")
    return 0
