"""The functions refuse, at start, a provider URL that would send the API key, phone numbers and texts
in clear text, unless the deployment says so (template parameter AllowInsecureProviderUrl)."""

from __future__ import annotations

import pytest

from notifier.handlers.poller_wiring import PollerWiring
from notifier.handlers.wiring import ConfigError, Wiring

ENV = {
    "TABLE_NAME": "t",
    "PROVIDER_KEY_PARAM": "/k",
    "PROVIDER_CLIENT_ID_PARAM": "/c",
    "DEFAULT_SENDER": "0212345678",
}


def test_without_a_url_the_provider_is_reached_over_https() -> None:
    assert Wiring.from_env(ENV).base_url == "https://api.apistore.co.kr"


def test_an_https_url_is_taken_as_given() -> None:
    assert Wiring.from_env({**ENV, "PROVIDER_BASE_URL": "https://sandbox.example:8443/x"}).base_url == (
        "https://sandbox.example:8443/x"
    )


@pytest.mark.parametrize("allow", [None, "", "false", "FALSE"])
@pytest.mark.parametrize("build", [Wiring.from_env, PollerWiring.from_env])
def test_a_plain_http_url_is_refused_naming_both_variables(build, allow) -> None:
    # Given a mis-set environment: http:// and no explicit permission
    env = {**ENV, "PROVIDER_BASE_URL": "http://api.apistore.co.kr"}
    if allow is not None:
        env["ALLOW_INSECURE_PROVIDER_URL"] = allow

    # When the function starts, then it refuses, saying which variable and how to fix it
    with pytest.raises(ConfigError) as refused:
        build(env)
    message = str(refused.value)
    assert message.startswith("PROVIDER_BASE_URL: plain http://")
    assert "ALLOW_INSECURE_PROVIDER_URL=true" in message and "AllowInsecureProviderUrl" in message


def test_a_plain_http_url_is_taken_when_explicitly_allowed() -> None:
    env = {**ENV, "PROVIDER_BASE_URL": "http://127.0.0.1:8080", "ALLOW_INSECURE_PROVIDER_URL": "true"}
    assert Wiring.from_env(env).base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ALLOW_INSECURE_PROVIDER_URL": "yes"}, "ALLOW_INSECURE_PROVIDER_URL: must be true or false, not 'yes'"),
        ({"PROVIDER_BASE_URL": "ftp://api.apistore.co.kr"}, "PROVIDER_BASE_URL: must start with https://, not ftp"),
        ({"PROVIDER_BASE_URL": "api.apistore.co.kr"}, "PROVIDER_BASE_URL: must start with https://, not no scheme"),
    ],
)
def test_other_bad_values_are_refused_naming_the_variable(env, expected) -> None:
    with pytest.raises(ConfigError) as refused:
        Wiring.from_env({**ENV, **env})
    assert str(refused.value) == expected
