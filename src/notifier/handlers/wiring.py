"""Composition root: configuration from the environment, adapters built once per container."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from ..aws.dynamo import DynamoRecords
from ..aws.ssm import SsmSecrets
from ..metrics import ChannelCounts
from ..observability import register_secret
from ..ports import ProviderConnection, ProviderParts
from ..usecases.dispatch import Dispatcher, Settings
from . import providers
from .config import ConfigError, DispatcherConfig, read


def _provider_base_url(config: DispatcherConfig) -> str:
    """The provider URL, refused at start if it would put the API key, numbers and texts on the wire
    in clear text without the deployment saying so."""
    url = config.provider_base_url
    allow = config.allow_insecure_provider_url.strip().lower()
    if allow not in ("true", "false"):
        raise ConfigError(f"ALLOW_INSECURE_PROVIDER_URL: must be true or false, not {allow!r}")
    scheme = urlsplit(url).scheme.lower()
    if scheme == "http" and allow != "true":
        raise ConfigError(
            "PROVIDER_BASE_URL: plain http:// would send the API key, phone numbers and texts in clear text; "
            "use https://, or set ALLOW_INSECURE_PROVIDER_URL=true (template parameter AllowInsecureProviderUrl) "
            "for a local stack or a sandbox"
        )
    if scheme not in ("http", "https"):
        raise ConfigError(f"PROVIDER_BASE_URL: must start with https://, not {scheme or 'no scheme'}")
    return url


@dataclass
class Wiring:
    table_name: str
    base_url: str
    key_param: str
    second_param: str  # API Store's client id, or SOLAPI's API secret
    settings: Settings
    concurrency: int
    connect_timeout: float
    read_timeout: float
    solapi_pf_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Wiring:
        return cls.from_config(read(DispatcherConfig, env))

    @classmethod
    def from_config(cls, c: DispatcherConfig) -> Wiring:
        return cls(
            table_name=c.table_name,
            base_url=_provider_base_url(c),
            key_param=c.key_param,
            second_param=c.second_param,
            solapi_pf_id=c.solapi_pf_id,
            settings=Settings(
                default_sender=c.default_sender,
                poll_shards=c.poll_shards,
                max_receive_count=c.max_receive_count,
                ttl_days=c.record_ttl_days,
                attachment_bucket=c.attachment_bucket,
                provider=c.provider,
            ),
            concurrency=c.send_concurrency,
            connect_timeout=c.provider_connect_timeout,
            read_timeout=c.provider_read_timeout,
        )

    @property
    def call_budget_s(self) -> float:
        """Enough for the slowest provider call plus the record writes around it."""
        return self.connect_timeout + self.read_timeout + 2

    @property
    def time_needed_ms(self) -> int:
        return int(self.call_budget_s * 1000)

    def client(self, service: str, concurrency: int | None = None) -> Any:
        """A boto3 client whose pool has a connection for every worker thread (and a few spare)."""
        import boto3
        from botocore.config import Config

        pool = (concurrency or self.concurrency) + 4
        return boto3.client(service, config=Config(max_pool_connections=pool))

    @cached_property
    def ssm_secrets(self) -> SsmSecrets:
        return SsmSecrets(self.key_param, self.second_param)

    def credentials(self) -> Any:
        """The provider's own credentials type, from its two SecureStrings (cached by SsmSecrets)."""
        key, second = self.ssm_secrets()
        register_secret(key)
        if self.settings.provider == "solapi":
            register_secret(second)  # SOLAPI's API secret; API Store's client id is not a secret
        return providers.credentials(self.settings.provider, key, second)

    def warm_up(self) -> None:
        self.credentials()

    def provider_parts(self, pool_size: int) -> ProviderParts:
        """The deployment's provider, its pool sized to the calling function's concurrency."""
        connection = ProviderConnection(
            self.base_url, self.credentials, pool_size, self.connect_timeout, self.read_timeout
        )
        return providers.build(self.settings.provider, connection, solapi_pf_id=self.solapi_pf_id)

    @cached_property
    def provider(self) -> ProviderParts:
        # One per container: the template cache in it makes a batch of AlimTalks cost one list call.
        return self.provider_parts(self.concurrency)

    @cached_property
    def records(self) -> DynamoRecords:
        return DynamoRecords(self.client("dynamodb"), self.table_name)

    @cached_property
    def channel_counts(self) -> ChannelCounts:
        """Per-channel metrics of the current invocation; the handler flushes them at its end."""
        return ChannelCounts()

    def dispatcher(self) -> Dispatcher:
        attachments = None
        if self.settings.attachment_bucket:
            from ..aws.s3 import S3Attachments

            attachments = S3Attachments(self.client("s3"))
        return Dispatcher(
            records=self.records,
            provider=self.provider.messaging,
            settings=self.settings,
            attachments=attachments,
            alimtalk=self.provider.alimtalk,
            templates=self.provider.templates,
        )
