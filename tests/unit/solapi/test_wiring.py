"""PROVIDER=solapi in the composition root: the variables it needs, and the ports it builds."""

from __future__ import annotations

import pytest

from notifier.handlers.config import ConfigError, DispatcherConfig, read
from notifier.handlers.wiring import Wiring
from notifier.providers.solapi.provider import SolapiReports, SolapiSender
from notifier.providers.solapi.templates import SolapiTemplates

ENV = {"TABLE_NAME": "t", "PROVIDER_KEY_PARAM": "/k", "DEFAULT_SENDER": "0212345678", "PROVIDER": "solapi"}


def test_solapi_needs_the_secret_parameter_and_not_api_stores_client_id() -> None:
    with pytest.raises(ConfigError, match="PROVIDER_SECRET_PARAM: required when PROVIDER is solapi"):
        read(DispatcherConfig, ENV)
    config = read(DispatcherConfig, {**ENV, "PROVIDER_SECRET_PARAM": "/s"})
    assert config.second_param == "/s"


def test_api_store_still_needs_its_client_id_parameter() -> None:
    env = {**ENV, "PROVIDER": "apistore"}
    with pytest.raises(ConfigError, match="PROVIDER_CLIENT_ID_PARAM: required when PROVIDER is apistore"):
        read(DispatcherConfig, env)


def test_solapi_builds_its_ports_over_one_client_with_alimtalk_only_when_a_channel_is_named() -> None:
    env = {**ENV, "PROVIDER_SECRET_PARAM": "/s", "ALLOW_INSECURE_PROVIDER_URL": "true"}
    with_channel = Wiring.from_env({**env, "SOLAPI_PF_ID": "KA01PF1"}).provider_parts(4)
    assert isinstance(with_channel.messaging, SolapiSender) and with_channel.alimtalk is with_channel.messaging
    assert isinstance(with_channel.reports, SolapiReports) and isinstance(with_channel.templates, SolapiTemplates)
    without = Wiring.from_env(env).provider_parts(4)
    assert (without.alimtalk, without.templates) == (None, None)
