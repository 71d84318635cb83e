"""Where the resources are: explicit options first, else the CloudFormation stack's Outputs and
Parameters; and the provider, reached with the credentials the stack names in SSM.

Nothing is looked up until a command needs it, so `status` needs no provider credentials and
`templates list` no queue.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from notifier.providers.apistore.client import ApiStoreHttp, Credentials
from notifier.providers.solapi.auth import Credentials as SolapiCredentials
from notifier.providers.solapi.auth import Signer
from notifier.providers.solapi.client import SolapiClient, SolapiHttp

from .errors import CliError, UsageError

DEFAULT_STACK = "kr-notifier-dev"
LOCAL_STACK = "kr-notifier-local"  # what devstack.localaws (make run / make serve) creates
DEFAULT_PROVIDER_URL = "http://api.apistore.co.kr"

_AWS_QUEUE_URL = re.compile(r"https://sqs\.[a-z0-9-]+\.amazonaws\.com/(\d{12})/(.+)")


@dataclass(frozen=True)
class Target:
    """The global options, as given."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    stack_name: str = DEFAULT_STACK
    queue_url: str | None = None
    dlq_url: str | None = None
    table: str | None = None
    provider_url: str | None = None
    key_param: str | None = None
    client_id_param: str | None = None
    client_id: str | None = None
    provider: str | None = None  # apistore | solapi; else the stack's Provider parameter, else apistore
    secret_param: str | None = None  # SOLAPI's API secret (instead of ProviderSecretParameterName)
    pf_id: str | None = None  # SOLAPI's KakaoTalk channel (instead of SolapiPfId)


def make_client(session: boto3.session.Session, service: str, endpoint_url: str | None, attempts: int = 5) -> Any:
    # Standard retry mode backs off on throttling, which a 100 000-row send-bulk will meet on AWS.
    config = Config(retries={"mode": "standard", "max_attempts": attempts}, max_pool_connections=32)
    return session.client(service, endpoint_url=endpoint_url, config=config)


class Aws:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._stack: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._http: ApiStoreHttp | None = None
        self._solapi: SolapiClient | None = None

    # ---------------------------------------------------------------- AWS
    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            session = boto3.session.Session(profile_name=self.target.profile, region_name=self.target.region)
            if self.target.endpoint_url and session.get_credentials() is None:
                # A local endpoint (make serve) takes any credentials; a laptop may have none set up.
                session = boto3.session.Session(
                    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.target.region
                )
            self._session = session
        return self._session

    def client(self, service: str, attempts: int = 5) -> Any:
        """One client per service (and retry budget); boto3 clients are safe to share between threads."""
        with self._lock:
            key = f"{service}/{attempts}"
            if key not in self._clients:
                self._clients[key] = make_client(self.session, service, self.target.endpoint_url, attempts)
            return self._clients[key]

    @property
    def where(self) -> str:
        region = self.session.region_name or "(no region)"
        return f"{region} at {self.target.endpoint_url}" if self.target.endpoint_url else region

    def stack(self) -> dict[str, Any]:
        if self._stack is None:
            name = self.target.stack_name
            try:
                found = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
            except ClientError as exc:
                if "does not exist" not in str(exc.response.get("Error", {}).get("Message", "")):
                    raise
                found = []
            if not found:
                hint = " (make serve's stack is named kr-notifier-local)" if self.target.endpoint_url else ""
                raise CliError(
                    f"stack {name!r} not found in {self.where}{hint}; pass --stack-name, or the resources "
                    "themselves: --queue-url, --dlq-url, --table, --provider-url, --key-param, --client-id-param"
                )
            self._stack = found[0]
        return self._stack

    def _output(self, key: str, option: str) -> str:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in self.stack().get("Outputs", [])}
        if key not in outputs:
            raise CliError(f"stack {self.target.stack_name!r} has no output {key}; pass {option}")
        return str(outputs[key])

    def stack_parameter(self, key: str) -> str | None:
        params = {p["ParameterKey"]: p.get("ParameterValue") for p in self.stack().get("Parameters", [])}
        value = params.get(key)
        return None if value is None else str(value)

    def _local(self, queue_url: str) -> str:
        # CloudFormation outputs AWS's own queue URL; a local endpoint serves it under its own host.
        m = _AWS_QUEUE_URL.fullmatch(queue_url)
        if self.target.endpoint_url and m:
            return f"{self.target.endpoint_url.rstrip('/')}/{m[1]}/{m[2]}"
        return queue_url

    @property
    def queue_url(self) -> str:
        return self._local(self.target.queue_url or self._output("QueueUrl", "--queue-url"))

    @property
    def dlq_url(self) -> str:
        return self._local(self.target.dlq_url or self._output("DeadLetterQueueUrl", "--dlq-url"))

    @property
    def table(self) -> str:
        return self.target.table or self._output("TableName", "--table")

    def queue_arn(self, url: str) -> str:
        attrs = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        return str(attrs["QueueArn"])

    def default_sender(self) -> str | None:
        try:
            return self.stack_parameter("DefaultSender")
        except CliError:
            return None

    # ---------------------------------------------------------------- the provider
    def _ssm(self, name: str, what: str) -> str:
        try:
            resp = self.client("ssm").get_parameter(Name=name, WithDecryption=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise CliError(f"SSM parameter {name} ({what}) not found in {self.where}") from None
            raise
        return str(resp["Parameter"]["Value"])

    def _provider_setting(self, given: str | None, parameter: str, option: str) -> str:
        if given:
            return given
        try:
            value = self.stack_parameter(parameter)
        except CliError as exc:
            raise UsageError(f"{exc.message}\n  (or give {option})") from None
        if not value:
            raise CliError(f"stack {self.target.stack_name!r} has no parameter {parameter}; pass {option}")
        return value

    def provider_base_url(self) -> str:
        """--provider-url, else the stack's ProviderBaseUrl parameter, else (left empty: the provider's
        own URL) the stack's output ProviderBaseUrl, the URL its functions use."""
        if self.target.provider_url:
            return self.target.provider_url
        try:
            given = self.stack_parameter("ProviderBaseUrl")
        except CliError as exc:
            raise UsageError(f"{exc.message}\n  (or give --provider-url)") from None
        return given or self._output("ProviderBaseUrl", "--provider-url")

    def provider(self) -> ApiStoreHttp:
        """The API Store client. The key is read once, decrypted, and only ever goes into the auth header."""
        if self.provider_name() == "solapi":
            # SOLAPI registers sender numbers in its console; this product calls no such API of it.
            raise CliError("this command works with API Store only; the stack's provider is SOLAPI")
        if self._http is None:
            t = self.target
            base_url = self.provider_base_url()
            key_name = self._provider_setting(t.key_param, "ProviderKeyParameterName", "--key-param")
            if t.client_id:
                client_id = t.client_id
            else:
                id_name = self._provider_setting(
                    t.client_id_param, "ProviderClientIdParameterName", "--client-id-param"
                )
                client_id = self._ssm(id_name, "the provider client id")
            creds = Credentials(api_key=self._ssm(key_name, "the provider API key"), client_id=client_id)
            self._http = ApiStoreHttp(base_url, lambda: creds)
        return self._http

    def provider_name(self) -> str:
        """The deployment's provider: --provider, else the stack's Provider parameter, else API Store
        (a stack without the parameter predates SOLAPI; resources named by options alone are API Store's)."""
        if self.target.provider:
            return self.target.provider
        if not (self.target.provider_url and self.target.key_param):
            return self.stack_parameter("Provider") or "apistore"
        return "apistore"

    def solapi(self) -> SolapiClient:
        """The SOLAPI client. Key and secret are read once, decrypted, and only ever sign requests."""
        if self._solapi is None:
            t = self.target
            base_url = self.provider_base_url()
            key_name = self._provider_setting(t.key_param, "ProviderKeyParameterName", "--key-param")
            secret_name = self._provider_setting(t.secret_param, "ProviderSecretParameterName", "--secret-param")
            creds = SolapiCredentials(
                self._ssm(key_name, "SOLAPI's API key"), self._ssm(secret_name, "SOLAPI's API secret")
            )
            self._solapi = SolapiClient(SolapiHttp(base_url, Signer(lambda: creds)))
        return self._solapi

    def solapi_pf_id(self) -> str | None:
        return self.target.pf_id or self.stack_parameter("SolapiPfId") or None
