"""Provider credentials from SSM Parameter Store, through Powertools Parameters (decrypted, cached)."""

from __future__ import annotations

from ..providers.apistore.client import Credentials

CACHE_SECONDS = 300


class SsmCredentials:
    """Callable returning Credentials; the parameters utility is imported on first use, not at cold start."""

    def __init__(self, key_param: str, client_id_param: str, max_age: int = CACHE_SECONDS) -> None:
        self.key_param = key_param
        self.client_id_param = client_id_param
        self.max_age = max_age

    def __call__(self) -> Credentials:
        from aws_lambda_powertools.utilities import parameters

        values = parameters.get_parameters_by_name(
            {self.key_param: {}, self.client_id_param: {}}, decrypt=True, max_age=self.max_age
        )
        return Credentials(api_key=str(values[self.key_param]), client_id=str(values[self.client_id_param]))

    def __repr__(self) -> str:
        return f"SsmCredentials({self.key_param!r}, {self.client_id_param!r})"
