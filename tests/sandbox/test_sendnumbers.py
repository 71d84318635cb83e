"""Sender numbers: ppurio save/list (spec section 5 rules) and AlimTalk's two-call PIN registration."""

from __future__ import annotations

import pytest

from .conftest import SENDER, Api, FakeClock

PPURIO_SAVE = "/ppurio/1/sendnumber/save/{client_id}"
PPURIO_LIST = "/ppurio/1/sendnumber/list/{client_id}"
KKO_SAVE = "/kko/2/sendnumber/save/{client_id}"
KKO_LIST = "/kko/1/sendnumber/list/{client_id}"


@pytest.mark.parametrize("number", ["0232892888", "0311234567", "01012345678", "15881234", "07012345678"])
def test_numbers_following_the_registration_rules_are_saved(api: Api, number: str) -> None:
    reply = api.post(PPURIO_SAVE, {"sendnumber": number, "comment": "대표번호"})
    assert reply == {"result_code": "200", "result_message": "OK", "sendnumber": number}
    assert api.sms(send_phone=number)["result_code"] == "200"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("02-3289-2888", "digits only"),
        ("1234567", "8-11 digits"),
        ("0215881234", "no area code in front of a representative number"),
        ("03116001234", "no area code in front of a representative number"),
        ("158812345", "15xx/16xx/18xx) has 8 digits"),
        ("0101234567", "010: 11"),
        ("09912345678", "landline with area code"),
    ],
)
def test_numbers_breaking_the_registration_rules_are_300(api: Api, number: str, reason: str) -> None:
    reply = api.post(PPURIO_SAVE, {"sendnumber": number, "comment": "x"})
    assert reply["result_code"] == "300"
    assert reason in reply["result_message"]


def test_saving_a_number_twice_is_500(api: Api) -> None:
    assert api.post(PPURIO_SAVE, {"sendnumber": SENDER, "comment": "dup"})["result_code"] == "500"


def test_the_ppurio_list_shows_saved_numbers_and_filters_by_sendnumber(api: Api) -> None:
    api.post(PPURIO_SAVE, {"sendnumber": "15881234", "comment": "콜센터"})
    everything = api.get(PPURIO_LIST)
    assert [n["sendnumber"] for n in everything["numberList"]] == [SENDER, "15881234"]
    one = api.get(PPURIO_LIST, {"sendnumber": "15881234"})
    assert one["numberList"] == [{"client_id": "shop", "comment": "콜센터", "sendnumber": "15881234"}]


def request_pin(api: Api, number: str, pintype: str = "SMS") -> dict:
    return api.post(KKO_SAVE, {"sendnumber": number, "comment": "고객센터", "pintype": pintype})


def confirm_pin(api: Api, number: str, pincode: str, pintype: str = "SMS") -> dict:
    return api.post(KKO_SAVE, {"sendnumber": number, "comment": "고객센터", "pintype": pintype, "pincode": pincode})


def test_pin_flow_registers_the_number_for_alimtalk(api: Api) -> None:
    # Given a PIN requested by SMS
    assert request_pin(api, "0311112222") == {"result_code": "200", "result_message": "OK", "sendnumber": "0311112222"}
    listed = api.get(KKO_LIST)["numberList"]
    assert {"client_id": "shop", "comment": "고객센터", "sendnumber": "0311112222", "USE_YN": "N"} in listed
    pin = api.sandbox.pins()["0311112222"]["pincode"]
    assert len(pin) == 6 and pin.isdigit()
    # When it is confirmed with that PIN
    reply = confirm_pin(api, "0311112222", pin)
    # Then the number is registered (USE_YN Y) and AlimTalk can send from it
    assert reply["result_code"] == "200"
    assert api.get(KKO_LIST, {"sendnumber": "0311112222"})["numberList"][0]["USE_YN"] == "Y"
    assert api.kko(CALLBACK="0311112222")["result_code"] == "200"
    assert api.sandbox.pins() == {}


def test_a_vms_pin_has_two_digits_and_is_readable_through_the_inspection_api(api: Api) -> None:
    request_pin(api, "0311112222", "VMS")
    status, pins = api.inspect("pins")
    assert status == 200
    assert len(pins["0311112222"]["pincode"]) == 2
    assert pins["0311112222"]["pintype"] == "VMS"


def test_a_wrong_pin_is_600_and_leaves_the_number_unconfirmed(api: Api) -> None:
    request_pin(api, "0311112222")
    pin = api.sandbox.pins()["0311112222"]["pincode"]
    wrong = "000000" if pin != "000000" else "111111"
    assert confirm_pin(api, "0311112222", wrong)["result_code"] == "600"
    assert api.kko(CALLBACK="0311112222")["result_code"] == "500"


def test_a_pin_expires_after_three_minutes_with_700(api: Api, clock: FakeClock) -> None:
    # Given a PIN issued, then 3 minutes and 1 second pass on the sandbox's clock
    request_pin(api, "0311112222")
    pin = api.sandbox.pins()["0311112222"]["pincode"]
    clock.advance(181)
    # Then even the right PIN is refused as expired
    reply = confirm_pin(api, "0311112222", pin)
    assert reply["result_code"] == "700"
    assert api.sandbox.pins()["0311112222"]["expired"] is True


def test_a_pin_confirmed_at_exactly_three_minutes_still_works(api: Api, clock: FakeClock) -> None:
    request_pin(api, "0311112222")
    pin = api.sandbox.pins()["0311112222"]["pincode"]
    clock.advance(180)
    assert confirm_pin(api, "0311112222", pin)["result_code"] == "200"


def test_an_already_registered_number_is_500(api: Api) -> None:
    assert request_pin(api, SENDER)["result_code"] == "500"


@pytest.mark.parametrize(
    "fields",
    [
        {"sendnumber": "0311112222", "comment": "x"},
        {"sendnumber": "0311112222", "comment": "x", "pintype": "EMAIL"},
        {"sendnumber": "031-111-2222", "comment": "x", "pintype": "SMS"},
        {"sendnumber": "0311112222", "pintype": "SMS"},
        {"sendnumber": "0399998888", "comment": "x", "pintype": "SMS", "pincode": "123456"},
    ],
    ids=["no pintype", "bad pintype", "hyphens", "no comment", "pincode before any request"],
)
def test_bad_registration_parameters_are_300(api: Api, fields: dict[str, str]) -> None:
    assert api.post(KKO_SAVE, fields)["result_code"] == "300"


# --- version 2 of the SMS API's registration (with a PIN) and of AlimTalk's list --------------------------

PPURIO_SAVE_V2 = "/ppurio/2/sendnumber/save/{client_id}"
KKO_LIST_V2 = "/kko/2/sendnumber/list/{client_id}"


def ppurio_pin(api: Api, number: str, pintype: str = "SMS", pincode: str | None = None) -> dict:
    fields = {"sendnumber": number, "comment": "대표번호", "pintype": pintype}
    if pincode is not None:
        fields["pincode"] = pincode
    return api.post(PPURIO_SAVE_V2, fields)


def test_the_sms_apis_version_2_pin_flow_registers_the_number_for_sms_only(api: Api) -> None:
    # Given a PIN requested for a new number through /ppurio/2/sendnumber/save
    assert ppurio_pin(api, "0311112222") == {"result_code": "200", "result_message": "OK", "sendnumber": "0311112222"}
    pin = api.sandbox.pins()["0311112222"]
    assert (len(pin["pincode"]), pin["pintype"], pin["api"]) == (6, "SMS", "ppurio")
    # Then until it is confirmed the number cannot send and is not in the list
    assert api.sms(send_phone="0311112222")["result_code"] == "500"
    assert api.get(PPURIO_LIST, {"sendnumber": "0311112222"})["numberList"] == []
    # When it is confirmed with the PIN the phone received
    assert ppurio_pin(api, "0311112222", pincode=pin["pincode"])["result_code"] == "200"
    # Then SMS can be sent from it and the list shows it, while AlimTalk's registry does not have it
    assert api.sms(send_phone="0311112222")["result_code"] == "200"
    assert api.get(PPURIO_LIST, {"sendnumber": "0311112222"})["numberList"] == [
        {"client_id": "shop", "comment": "대표번호", "sendnumber": "0311112222"}
    ]
    assert api.kko(CALLBACK="0311112222")["result_code"] == "500"
    assert api.sandbox.pins() == {}
    assert api.sandbox.requests_count()["sendnumber_save_v2"] == 2


def test_the_sms_apis_version_2_answers_the_alimtalk_specs_codes(api: Api, clock: FakeClock) -> None:
    # A VMS PIN has two digits; a wrong one is 600; after 3 minutes the right one is 700
    ppurio_pin(api, "0311112222", "VMS")
    pin = api.sandbox.pins()["0311112222"]["pincode"]
    assert len(pin) == 2
    wrong = "00" if pin != "00" else "11"
    assert ppurio_pin(api, "0311112222", "VMS", wrong)["result_code"] == "600"
    clock.advance(181)
    assert ppurio_pin(api, "0311112222", "VMS", pin)["result_code"] == "700"
    # A registered number is 500, a bad pintype 300, and neither issues a PIN
    assert ppurio_pin(api, SENDER)["result_code"] == "500"
    assert ppurio_pin(api, "0399998888", "EMAIL")["result_code"] == "300"
    assert set(api.sandbox.pins()) == {"0311112222"}


def test_a_pin_confirms_a_number_only_on_the_api_that_issued_it(api: Api) -> None:
    # Given a PIN issued by the AlimTalk API
    request_pin(api, "0311112222")
    pin = api.sandbox.pins()["0311112222"]["pincode"]
    # When it is presented to the SMS API's version 2
    reply = ppurio_pin(api, "0311112222", pincode=pin)
    # Then it is a parameter error there, and the AlimTalk API still takes it
    assert reply["result_code"] == "300"
    assert "no PIN was requested for 0311112222 on this API" in reply["result_message"]
    assert confirm_pin(api, "0311112222", pin)["result_code"] == "200"


def test_the_version_1_save_registers_a_number_that_was_waiting_for_its_pin(api: Api) -> None:
    ppurio_pin(api, "0311112222")
    assert api.post(PPURIO_SAVE, {"sendnumber": "0311112222", "comment": "v1"})["result_code"] == "200"
    assert api.sms(send_phone="0311112222")["result_code"] == "200"
    assert api.sandbox.pins() == {}


def test_alimtalks_version_2_list_answers_as_version_1(api: Api) -> None:
    # Given one registered number and one waiting for its PIN
    request_pin(api, "0311112222")
    # Then /kko/2/sendnumber/list lists both with USE_YN, as /kko/1/sendnumber/list does, filter included
    assert api.get(KKO_LIST_V2) == api.get(KKO_LIST)
    assert [(n["sendnumber"], n["USE_YN"]) for n in api.get(KKO_LIST_V2)["numberList"]] == [
        (SENDER, "Y"),
        ("0311112222", "N"),
    ]
    assert api.get(KKO_LIST_V2, {"sendnumber": SENDER})["numberList"][0]["sendnumber"] == SENDER
