"""Template list: Korean status words out, status codes 1-5 in; seeding by config and inspection API."""

from __future__ import annotations

import pytest

from devstack.sandbox import Sandbox, SandboxConfig

from .conftest import CLIENT, KEY, Api

LIST = "/kko/1/template/list/{client_id}"


def test_the_default_seed_has_each_kind_of_template_the_product_meets(api: Api) -> None:
    reply = api.get(LIST)
    assert reply["result_code"] == "200"
    by_code = {t["template_code"]: t for t in reply["templateList"]}
    assert {code: t["status"] for code, t in by_code.items()} == {
        "A1111": "승인",
        "A2222": "승인",
        "R3333": "반려",
        "P4444": "검수요청",
    }
    assert "#{name}" in by_code["A1111"]["template_msg"]
    assert by_code["A1111"]["btnList"] == [
        {
            "template_btn_type": "웹링크",
            "template_btn_name": "배송조회",
            "template_btn_url": "https://shop.example/o/#{order}",
            "template_btn_url2": None,
        }
    ]
    assert by_code["A2222"]["btnList"] == []
    assert set(by_code["A2222"]) == {"template_code", "template_name", "template_msg", "status", "btnList"}


@pytest.mark.parametrize(
    ("status", "codes"), [("3", ["A1111", "A2222"]), ("4", ["R3333"]), ("2", ["P4444"]), ("5", [])]
)
def test_the_status_filter_takes_codes_1_to_5(api: Api, status: str, codes: list[str]) -> None:
    reply = api.get(LIST, {"STATUS": status})
    assert [t["template_code"] for t in reply["templateList"]] == codes


def test_the_status_filter_also_works_in_lower_case_as_in_the_spec_example(api: Api) -> None:
    reply = api.get(LIST, {"status": "4"})
    assert [t["template_code"] for t in reply["templateList"]] == ["R3333"]


def test_a_korean_word_is_not_a_status_filter(api: Api) -> None:
    reply = api.get(LIST, {"STATUS": "승인"})
    assert reply["result_code"] == "300"
    assert "STATUS must be a code 1-5" in reply["result_message"]


def test_template_code_filters_to_that_template(api: Api) -> None:
    reply = api.get(LIST, {"TEMPLATE_CODE": "R3333"})
    assert [t["template_code"] for t in reply["templateList"]] == ["R3333"]
    assert api.get(LIST, {"TEMPLATE_CODE": "NOPE"})["templateList"] == []


def test_templates_can_be_seeded_by_config_with_status_codes_or_words() -> None:
    config = SandboxConfig(
        api_key=KEY,
        client_id=CLIENT,
        templates=[
            {"template_code": "T1", "template_msg": "하나", "status": "5"},
            {"template_code": "T2", "template_msg": "둘", "status": "등록"},
        ],
    )
    with Sandbox(config) as sb:
        listed = Api(sb).get(LIST)["templateList"]
    assert [(t["template_code"], t["status"]) for t in listed] == [("T1", "승인중단"), ("T2", "등록")]


def test_posting_a_template_to_the_inspection_api_makes_it_sendable(api: Api) -> None:
    # Given a template added through /_sandbox/templates
    status, _ = api.inspect(
        "templates",
        {"template_code": "N9999", "template_msg": "#{name}님 안녕하세요", "status": "승인", "buttons": []},
    )
    assert status == 200
    # Then the list shows it and a matching message is accepted
    assert api.get(LIST, {"TEMPLATE_CODE": "N9999"})["templateList"][0]["status"] == "승인"
    assert api.kko(TEMPLATE_CODE="N9999", MSG="김철수님 안녕하세요")["result_code"] == "200"
    assert api.sandbox.messages()[0]["template_matched"] is True


def test_a_broken_template_seed_is_refused_with_400(api: Api) -> None:
    status, body = api.inspect("templates", {"template_code": "X", "template_msg": "x", "status": "보류"})
    assert status == 400
    assert "status must be one of" in body["error"]
