"""Record statuses (DESIGN.md, "The record") and the moves allowed between them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.domain.status import ALLOWED, TERMINAL, Status, can_move, is_terminal

# DESIGN.md's table, transcribed: status -> terminal?
DESIGN_TABLE = {
    "sending": False,
    "sent": False,
    "delivered": True,
    "failed": True,
    "rejected": True,
    "unknown": True,
}

# Every move the dispatcher and the poller make, and why.
EXPECTED_MOVES = {
    ("sending", "sending"),  # a released claim is taken again for a safe retry
    ("sending", "sent"),  # the provider accepted it (cmid)
    ("sending", "rejected"),  # the provider refused its parameters
    ("sending", "failed"),  # retries exhausted, the message goes to the DLQ
    ("sending", "unknown"),  # the claim's owner vanished after the provider call
    ("sent", "delivered"),  # the report says delivered
    ("sent", "failed"),  # the report says it cannot be delivered
    ("sent", "unknown"),  # the report never came
    ("failed", "sending"),  # an operator redrove it from the DLQ
}


def test_the_statuses_are_exactly_those_of_the_design_table():
    # Given the design's status table
    # When the enum's values are listed
    # Then they are the same six strings
    assert {s.value for s in Status} == set(DESIGN_TABLE)


@pytest.mark.parametrize(("status", "terminal"), DESIGN_TABLE.items())
def test_terminal_statuses_are_delivered_failed_rejected_and_unknown(status, terminal):
    # Given a status string from the design's table
    # When it is asked whether it is terminal
    # Then the answer is the table's
    assert is_terminal(status) is terminal
    assert (Status(status) in TERMINAL) is terminal


def test_every_status_has_an_entry_in_the_move_table():
    # Given the move table
    # When its keys are listed
    # Then every status has one (so can_move never meets a missing key)
    assert set(ALLOWED) == set(Status)


@pytest.mark.parametrize(("src", "dst"), sorted(itertools.product(DESIGN_TABLE, DESIGN_TABLE)))
def test_only_the_expected_moves_are_allowed(src, dst):
    # Given any pair of statuses
    # When a move from one to the other is asked for
    # Then it is allowed exactly when it is one of the moves the system makes
    assert can_move(src, dst) is ((src, dst) in EXPECTED_MOVES)


@pytest.mark.parametrize("terminal", ["delivered", "rejected", "unknown"])
def test_a_final_status_never_moves_again(terminal):
    # Given a terminal status other than failed (which a DLQ redrive may reopen)
    # When any move out of it is asked for
    # Then none is allowed
    assert not any(can_move(terminal, dst) for dst in DESIGN_TABLE)


@pytest.mark.parametrize(
    ("src", "dst"),
    [("bogus", "sent"), ("sending", "bogus"), ("", ""), ("SENT", "delivered"), ("sent", "Delivered")],
)
def test_a_move_from_or_to_an_unknown_status_string_is_refused_without_raising(src, dst):
    # Given a pair where one side is not a status string (case matters)
    # When the move is asked for
    # Then the answer is simply no
    assert can_move(src, dst) is False


@pytest.mark.parametrize("bogus", ["bogus", "", "SENT", "Delivered", " failed", "done"])
def test_an_unknown_status_string_is_not_terminal(bogus):
    # Given a string that is not one of the six statuses
    # When it is asked whether it is terminal
    # Then the answer is no, and nothing raises
    assert is_terminal(bogus) is False


@given(st.text(), st.text())
def test_any_pair_of_strings_gets_a_boolean_answer_and_never_raises(src, dst):
    # Given any two strings
    # When the move and terminal questions are asked
    moved = can_move(src, dst)
    terminal = is_terminal(src)
    # Then both answers are booleans, True only for real statuses
    assert isinstance(moved, bool)
    assert isinstance(terminal, bool)
    assert moved == ((src, dst) in EXPECTED_MOVES)
    assert terminal == DESIGN_TABLE.get(src, False)
