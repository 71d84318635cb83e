"""The /_sandbox/ API and `python -m devstack.sandbox`."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from devstack.sandbox.__main__ import build_config

from .conftest import PHONE, SENDER, Api


def test_messages_lists_accepted_messages_with_their_fields_and_filters(api: Api) -> None:
    api.sms(msg_body="가" * 50)
    api.kko()
    status, messages = api.inspect("messages")
    assert status == 200
    assert [(m["kind"], m["requested_kind"]) for m in messages] == [("lms", "sms"), ("kko", "kko")]
    sms = messages[0]
    for key in ("cmid", "dest_phone", "send_phone", "msg_body", "subject", "send_time", "files", "accepted_at"):
        assert key in sms
    assert "template_code" not in sms
    for key in ("template_code", "buttons", "failed_type", "failed_subject", "failed_msg", "template_matched"):
        assert key in messages[1]
    _, only_kko = api.inspect("messages?kind=kko")
    assert [m["kind"] for m in only_kko] == ["kko"]


def test_requests_counts_each_endpoint_kind_even_refused_calls(api: Api) -> None:
    api.sms()
    api.sms(send_phone="0311112222")
    api.kko()
    api.get("/kko/1/template/list/{client_id}")
    api.get("/ppurio/1/message/report/{client_id}", {"cmid": "1"})
    api.get("/kko/1/report/{client_id}", {"CMID": "1"})
    Api(api.sandbox, key="bad").kko()
    _, counts = api.inspect("requests")
    assert counts == {"sms": 2, "kko_msg": 2, "template_list": 1, "report": 1, "kko_report": 1}
    assert api.sandbox.requests_count() == counts


def test_reset_forgets_messages_counters_pins_and_forced_outcomes_but_keeps_seeds(api: Api) -> None:
    # Given some history and a template added on top of the seed
    api.sandbox.add_template({"template_code": "Z1", "template_msg": "z"})
    api.sandbox.register_sender("0311112222")
    api.sandbox.force_outcome(PHONE, call_status="4410")
    api.sandbox.set_balance(5)
    api.sms()
    # When the sandbox is reset
    status, _ = api.inspect("reset", {})
    # Then the history is gone and the balance is back, while templates and senders stay
    assert status == 200
    assert api.sandbox.messages() == []
    assert api.sandbox.requests_count() == {}
    assert api.sandbox.outcomes()["forced"] == {}
    assert api.sandbox.balance == 1_000_000
    assert "Z1" in [t["template_code"] for t in api.sandbox.templates()]
    assert api.sms(send_phone="0311112222")["result_code"] == "200"


def test_balance_is_readable_and_settable(api: Api) -> None:
    assert api.inspect("balance") == (200, {"balance": 1_000_000})
    assert api.inspect("balance", {"balance": 0}) == (200, {"balance": 0})
    assert api.sms()["result_code"] == "600"
    assert api.inspect("balance", {"balance": -1})[0] == 400


def test_senders_can_be_added_per_api_and_removed(api: Api) -> None:
    status, senders = api.inspect("senders", {"add": "0311112222", "api": "kko"})
    assert status == 200
    assert [s["sendnumber"] for s in senders["kko"]] == [SENDER, "0311112222"]
    assert [s["sendnumber"] for s in senders["ppurio"]] == [SENDER]
    assert api.kko(CALLBACK="0311112222")["result_code"] == "200"
    assert api.sms(send_phone="0311112222")["result_code"] == "500"
    api.inspect("senders", {"remove": SENDER})
    assert api.sms()["result_code"] == "500"


def test_profiles_can_be_removed_and_restored(api: Api) -> None:
    assert api.inspect("profiles") == (200, {"profiles": ["shop"]})
    api.inspect("profiles", {"profiles": []})
    assert api.kko()["result_code"] == "900"
    api.inspect("profiles", {"profiles": ["shop"]})
    assert api.kko()["result_code"] == "200"


def test_outcome_mix_and_forced_outcomes_are_visible_and_clearable(api: Api) -> None:
    status, outcomes = api.inspect("outcomes", {"mix": {"sms": {"4100": 1}}, "phone": PHONE, "rslt": "A"})
    assert status == 200
    assert outcomes["mix"]["sms"] == {"4100": 1.0}
    assert outcomes["forced"] == {PHONE: {"rslt": "A"}}
    _, outcomes = api.inspect("outcomes", {"phone": PHONE, "clear": True})
    assert outcomes["forced"] == {}
    assert api.inspect("outcomes", {"phone": PHONE, "colour": "red"})[0] == 400
    assert api.inspect("outcomes", {"mix": {"fax": {"1": 1}}})[0] == 400


def test_settings_change_the_report_delay_for_new_messages(api: Api) -> None:
    status, settings = api.inspect("config", {"report_delay_s": 0})
    assert (status, settings["report_delay_s"]) == (200, 0.0)
    cmid = api.sms()["cmid"]
    assert "call_status" in api.get("/ppurio/1/message/report/{client_id}", {"cmid": cmid})


def test_test_messages_are_listed_apart(api: Api) -> None:
    api.kko("msg_test")
    assert api.inspect("messages") == (200, [])
    status, tests = api.inspect("test_messages")
    assert status == 200
    assert [t["kind"] for t in tests] == ["kko_test"]


def test_unknown_inspection_paths_and_bad_json_are_client_errors(api: Api) -> None:
    assert api.inspect("nothing")[0] == 404
    response = api.http.request("POST", f"{api.sandbox.url}/_sandbox/balance", body=b"{oops")
    assert response.status == 400


def test_the_index_tells_the_url_and_client_but_never_the_key(api: Api) -> None:
    status, index = api.inspect("")
    assert status == 200
    assert index["client_id"] == "shop"
    assert "test-key" not in json.dumps(index)


def test_a_seed_file_may_be_a_template_list_or_an_object(tmp_path: Path) -> None:
    listed = tmp_path / "templates.json"
    listed.write_text(json.dumps([{"template_code": "S1", "template_msg": "하나"}]), encoding="utf-8")
    config = build_config(["--seed-file", str(listed), "--api-key", "K", "--client-id", "C", "--port", "0"])
    assert (config.api_key, config.client_id, config.port) == ("K", "C", 0)
    assert config.templates == [{"template_code": "S1", "template_msg": "하나"}]
    full = tmp_path / "seed.json"
    full.write_text(json.dumps({"templates": [], "senders": ["15881234"], "balance": 3}), encoding="utf-8")
    config = build_config(["--seed-file", str(full), "--report-delay", "1"])
    assert (config.templates, config.registered_senders, config.balance) == ([], ("15881234",), 3)
    assert config.report_delay_s == 1.0


def test_running_the_module_prints_the_url_and_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.sandbox", "--port", "0", "--api-key", "K", "--client-id", "C"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/_sandbox/") as response:
            assert json.loads(response.read())["client_id"] == "C"
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
