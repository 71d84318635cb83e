"""Each function's configuration model (handlers/config.py): a wrong environment fails the cold
start with a message naming the variable."""

from __future__ import annotations

import pytest

from notifier.handlers.config import ConfigError, DispatcherConfig, OutboxConfig, PollerConfig, read
from notifier.handlers.poller_wiring import PollerWiring
from notifier.handlers.wiring import Wiring

ENV = {
    "TABLE_NAME": "t",
    "PROVIDER_KEY_PARAM": "/k",
    "PROVIDER_CLIENT_ID_PARAM": "/c",
    "DEFAULT_SENDER": "0212345678",
}
FUNCTIONS = [(DispatcherConfig, Wiring.from_env), (PollerConfig, PollerWiring.from_env)]


@pytest.mark.parametrize("model", [DispatcherConfig, PollerConfig])
def test_the_defaults_fill_every_optional_variable(model):
    # Given only the required variables
    # When the function's configuration is read
    config = read(model, ENV)
    # Then the optional ones have their documented defaults
    assert (config.provider, config.poll_shards, config.send_concurrency) == ("apistore", 4, 10)


def test_the_outbox_publishes_to_the_default_bus_unless_told_and_refuses_an_empty_name():
    # Given no EVENT_BUS_NAME, then one that is only blanks
    # When the outbox function's configuration is read
    # Then the account's default bus is used, and a blank name is refused naming the variable
    assert read(OutboxConfig, {}).event_bus_name == "default"
    assert read(OutboxConfig, {"EVENT_BUS_NAME": "orders"}).event_bus_name == "orders"
    with pytest.raises(ConfigError, match="EVENT_BUS_NAME"):
        read(OutboxConfig, {"EVENT_BUS_NAME": " "})


@pytest.mark.parametrize(("model", "build"), FUNCTIONS)
def test_a_missing_required_variable_is_named(model, build):
    # Given an environment without DEFAULT_SENDER and TABLE_NAME (one of them empty)
    env = {**{k: v for k, v in ENV.items() if k != "DEFAULT_SENDER"}, "TABLE_NAME": ""}
    # When the function starts
    with pytest.raises(ConfigError) as refused:
        build(env)
    # Then both are named as required
    assert "TABLE_NAME: required" in str(refused.value) and "DEFAULT_SENDER: required" in str(refused.value)


@pytest.mark.parametrize(("model", "build"), FUNCTIONS)
@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("SEND_CONCURRENCY", "ten", "valid integer"),
        ("POLL_SHARDS", "0", "greater than or equal to 1"),
        ("PROVIDER_READ_TIMEOUT", "-1", "greater than 0"),
        ("MAX_RECEIVE_COUNT", "2.5", "valid integer"),
    ],
)
def test_a_bad_number_is_refused_naming_the_variable_and_the_rule(model, build, name, value, rule):
    # Given a variable that is not a number of the right kind
    # When the function starts
    with pytest.raises(ConfigError) as refused:
        build({**ENV, name: value})
    # Then the message names it, the rule and the value
    message = str(refused.value)
    assert f"{name}: " in message and rule in message and repr(value) in message


@pytest.mark.parametrize("build", [Wiring.from_env, PollerWiring.from_env])
def test_a_bad_url_is_refused_naming_the_variable(build):
    # Given a provider URL with no scheme
    # When the function starts
    with pytest.raises(ConfigError, match=r"^PROVIDER_BASE_URL: must start with https://"):
        build({**ENV, "PROVIDER_BASE_URL": "api.apistore.co.kr"})


@pytest.mark.parametrize("build", [Wiring.from_env, PollerWiring.from_env])
def test_an_unknown_provider_is_refused_naming_the_variable(build):
    # Given a deployment naming a provider this build does not have
    # When the function starts
    with pytest.raises(ConfigError, match="PROVIDER: input should be 'apistore'"):
        build({**ENV, "PROVIDER": "bizppurio"})


def test_the_poller_reads_its_own_variables():
    # Given the poller's variables
    config = read(PollerConfig, {**ENV, "POLL_CONCURRENCY": "8", "REPORT_EXPIRY_HOURS": "1.5"})
    # Then they are typed
    assert (config.poll_concurrency, config.report_expiry_hours, config.poll_page_size) == (8, 1.5, 200)


@pytest.mark.parametrize(
    ("provider", "second", "url"),
    [
        ("apistore", {"PROVIDER_CLIENT_ID_PARAM": "/c"}, "https://api.apistore.co.kr"),
        ("solapi", {"PROVIDER_SECRET_PARAM": "/s"}, "https://api.solapi.com"),
    ],
)
def test_without_a_base_url_each_provider_is_reached_at_its_own_address(provider, second, url):
    # Given a function of either provider whose PROVIDER_BASE_URL is unset (or left empty)
    env = {**{k: v for k, v in ENV.items() if k != "PROVIDER_CLIENT_ID_PARAM"}, **second, "PROVIDER": provider,
           "PROVIDER_BASE_URL": ""}  # fmt: skip
    # When its configuration is read
    config = read(DispatcherConfig, env)
    # Then it calls that provider's own https address, as the template's ProviderUrls mapping does
    assert config.provider_base_url == url


def test_the_templates_provider_urls_are_the_functions_defaults():
    # Given the template's ProviderUrls mapping (used when ProviderBaseUrl is left empty)
    from pathlib import Path

    import yaml

    from notifier.handlers.config import DEFAULT_BASE_URLS

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((Path(__file__).parents[2] / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    # Then it names the same address per provider as the functions' own defaults
    assert {p: m["BaseUrl"] for p, m in template["Mappings"]["ProviderUrls"].items()} == DEFAULT_BASE_URLS
