"""Provider secrets from SSM Parameter Store, through Powertools Parameters (decrypted, cached)."""

from __future__ import annotations

CACHE_SECONDS = 300


class SsmSecrets:
    """Callable returning the values of two SecureStrings (the provider's API key, then its client id
    or API secret); the parameters utility is imported on first use, not at cold start."""

    def __init__(self, key_param: str, second_param: str, max_age: int = CACHE_SECONDS) -> None:
        self.key_param = key_param
        self.second_param = second_param
        self.max_age = max_age

    def __call__(self) -> tuple[str, str]:
        from aws_lambda_powertools.utilities import parameters

        values = parameters.get_parameters_by_name(
            {self.key_param: {}, self.second_param: {}}, decrypt=True, max_age=self.max_age
        )
        return str(values[self.key_param]), str(values[self.second_param])

    def __repr__(self) -> str:
        return f"SsmSecrets({self.key_param!r}, {self.second_param!r})"
