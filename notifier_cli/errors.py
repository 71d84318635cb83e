"""Failures the command line reports with an exit code instead of a traceback."""

from __future__ import annotations

OK = 0
REFUSED = 1  # the provider or AWS said no (or could not be reached)
USAGE = 2  # the operator's input: options, a number that breaks the sender rules, invalid rows
INTERRUPTED = 130


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)


class ProviderRefusal(CliError):
    """A result_code other than 200, with its meaning from the spec's table and what to do about it."""

    def __init__(self, what: str, code: str, meaning: str, hint: str = "", said: str = "") -> None:
        text = f"{what}: the provider refused it, result_code {code}: {meaning}"
        if hint:
            text += f"\n  {hint}"
        if said and said not in meaning:
            text += f"\n  (provider said: {said})"
        super().__init__(text, REFUSED)
        self.code = code
        self.meaning = meaning
