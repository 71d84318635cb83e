"""Each function's configuration: one pydantic model per function, read from the environment.

Field aliases are the variables' names, so a wrong value fails the cold start with a message that
names the variable and the rule, before any message is taken. An empty variable counts as unset
(the template passes "" for an optional parameter left blank).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Each provider's own address, used when PROVIDER_BASE_URL is unset (template.yaml's ProviderUrls
# mapping says the same for a deployment that leaves ProviderBaseUrl empty).
DEFAULT_BASE_URLS = {"apistore": "https://api.apistore.co.kr", "solapi": "https://api.solapi.com"}

# The providers this build can talk to; handlers/providers.py builds the one a deployment names.
ProviderName = Literal["apistore", "solapi"]


class ConfigError(RuntimeError):
    pass


class DispatcherConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=False)

    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    key_param: str = Field(alias="PROVIDER_KEY_PARAM", min_length=1)
    # The provider's second SSM parameter: API Store's client id (PROVIDER_CLIENT_ID_PARAM) or SOLAPI's
    # API secret (PROVIDER_SECRET_PARAM); which one a deployment needs follows PROVIDER.
    client_id_param: str = Field("", alias="PROVIDER_CLIENT_ID_PARAM")
    secret_param: str = Field("", alias="PROVIDER_SECRET_PARAM")
    # SOLAPI's KakaoTalk channel id (pfId) for AlimTalk: not a secret; empty means no AlimTalk.
    solapi_pf_id: str = Field("", alias="SOLAPI_PF_ID")
    default_sender: str = Field(alias="DEFAULT_SENDER", min_length=1)
    provider: ProviderName = Field("apistore", alias="PROVIDER")
    base_url_override: str = Field("", alias="PROVIDER_BASE_URL")
    # Read as text and checked by wiring's URL rule, whose message says how to fix a refused URL.
    allow_insecure_provider_url: str = Field("false", alias="ALLOW_INSECURE_PROVIDER_URL")
    poll_shards: int = Field(4, alias="POLL_SHARDS", ge=1)
    max_receive_count: int = Field(5, alias="MAX_RECEIVE_COUNT", ge=1)
    record_ttl_days: int = Field(90, alias="RECORD_TTL_DAYS", ge=1)
    attachment_bucket: str = Field("", alias="ATTACHMENT_BUCKET")
    send_concurrency: int = Field(10, alias="SEND_CONCURRENCY", ge=1)
    provider_connect_timeout: float = Field(3.0, alias="PROVIDER_CONNECT_TIMEOUT", gt=0)
    provider_read_timeout: float = Field(10.0, alias="PROVIDER_READ_TIMEOUT", gt=0)

    @model_validator(mode="after")
    def _second_parameter(self) -> DispatcherConfig:
        needed = {"apistore": ("PROVIDER_CLIENT_ID_PARAM", self.client_id_param),
                  "solapi": ("PROVIDER_SECRET_PARAM", self.secret_param)}  # fmt: skip
        name, value = needed[self.provider]
        if not value:
            raise ValueError(f"{name}: required when PROVIDER is {self.provider}")
        return self

    @property
    def provider_base_url(self) -> str:
        """PROVIDER_BASE_URL, else the chosen provider's own address."""
        return self.base_url_override or DEFAULT_BASE_URLS[self.provider]

    @property
    def second_param(self) -> str:
        """The SSM parameter read beside the API key: API Store's client id, or SOLAPI's API secret."""
        return self.secret_param if self.provider == "solapi" else self.client_id_param


class PollerConfig(DispatcherConfig):
    """The poller reads the dispatcher's variables too: the same table, provider and shard count."""

    poll_concurrency: int = Field(32, alias="POLL_CONCURRENCY", ge=1)
    poll_page_size: int = Field(200, alias="POLL_PAGE_SIZE", ge=1)
    report_expiry_hours: float = Field(72.0, alias="REPORT_EXPIRY_HOURS", gt=0)


class OutboxConfig(BaseModel):
    """The outbox function needs only the bus: its records come in the stream's images."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=False)

    # template.yaml's EventBusName pattern: a bus name in this account.
    event_bus_name: str = Field("default", alias="EVENT_BUS_NAME", pattern=r"^[A-Za-z0-9._\-/]{1,256}$")


def read[M: BaseModel](model: type[M], env: Mapping[str, str]) -> M:
    """The model from the environment, or a ConfigError naming every variable that is wrong."""
    try:
        return model.model_validate({k: v for k, v in env.items() if v != ""})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "configuration"
            if not error["loc"]:  # a rule across variables: its message names them
                problems.append(str(error["msg"]).removeprefix("Value error, "))
            elif error["type"] == "missing":
                problems.append(f"{name}: required")
            else:
                problems.append(f"{name}: {error['msg'].lower()}, not {str(error.get('input'))[:80]!r}")
        raise ConfigError("configuration: " + "; ".join(problems)) from None
