"""EVT-03 order and EVT-04 times over case histories."""

from __future__ import annotations

import pytest

from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.spec.events import History, first_violation, judge, order_findings

VALID = [
    ("BZ", "BZJ", "SL", "CB", "SH", "PZ", "BJ", "SD"),
    ("SL", "CB", "SH", "PZ", "BJ"),
    ("BZ", "BZJ", "BZ", "BZJ", "SL"),
    ("SL", "GQ", "HF", "CB", "GQ", "HF", "SH", "PZ", "GQ", "HF", "BJ", "SD", "FK"),
    ("SL", "CB", "GQ", "CH"),
    ("BZ", "BYSL"),
    ("BZ", "CH"),
    ("BYSL",),
    ("SL", "FK", "CB", "FK"),
    ("SL", "CB"),
    ("SL", "GQ", "HF", "GQ", "HF", "CB", "GQ", "HF", "GQ", "HF", "SH"),
]
INVALID = [
    (("SL", "BJ"), 1, "EVT-03"),
    (("SL", "CB", "SH", "BJ"), 3, "EVT-03"),
    (("SL", "CB", "GQ", "HF", "PZ"), 4, "EVT-03"),
    (("BYSL", "SL"), 1, "ACC-06"),  # 2026.2: an event after BYSL is ACC-06's (the norm's attribution rule)
    (("FK", "SL"), 0, "EVT-03"),
    (("BZ", "SL"), 1, "EVT-03"),
    (("SL", "CB", "SH", "PZ", "BJ", "SD", "SD"), 6, "EVT-03"),
    (("SL", "HF"), 1, "EVT-03"),
]


@pytest.mark.parametrize("steps", VALID, ids=["-".join(s) for s in VALID])
def test_valid_history_has_no_violation(steps: tuple[str, ...]) -> None:
    application, events = MessageFactory(make_faker(1)).case_history(steps)
    assert order_findings(events, {application["application_no"]: application["submitted_at"]}) == []


@pytest.mark.parametrize(("steps", "index", "requirement"), INVALID, ids=["-".join(s) for s, _, _ in INVALID])
def test_first_violation_is_named(steps: tuple[str, ...], index: int, requirement: str) -> None:
    _, events = MessageFactory(make_faker(1)).case_history(steps)
    violation = first_violation(events)
    assert violation is not None
    assert (violation.path.split("/")[1], violation.requirement) == (str(index), requirement)


def test_gap_in_seq_is_named() -> None:
    _, events = MessageFactory(make_faker(2)).case_history()
    events[3]["seq"] = 5
    violation = first_violation(events)
    assert violation is not None
    assert (violation.path, violation.requirement) == ("/3/seq", "EVT-03")


def test_time_running_backwards_or_before_submission_or_in_the_future_is_evt_04() -> None:
    application, events = MessageFactory(make_faker(3)).case_history()
    backwards = [dict(e) for e in events]
    backwards[4]["occurred_at"] = backwards[2]["occurred_at"]
    assert first_violation(backwards) == first_violation(backwards)  # deterministic
    found = first_violation(backwards)
    assert found is not None
    assert (found.path, found.requirement) == ("/4/occurred_at", "EVT-04")
    early = first_violation(events, {application["application_no"]: "2099-01-01T00:00:00+08:00"})
    assert early is not None
    assert early.requirement == "EVT-04"
    future = [dict(e) for e in events]
    future[0]["received_at"] = "2000-01-01T00:00:00+08:00"
    found = first_violation(future)
    assert found is not None
    assert "arrival" in found.reason


def test_histories_of_several_applications_are_judged_apart() -> None:
    factory = MessageFactory(make_faker(4))
    _, first = factory.case_history(("SL", "CB"))
    _, second = factory.case_history(("SL", "BJ"))
    interleaved = [first[0], second[0], first[1], second[1]]
    assert [(f.path, f.requirement) for f in order_findings(interleaved)] == [("/3/step", "EVT-03")]


def test_fk_counts_in_the_time_order_too() -> None:
    _, events = MessageFactory(make_faker(6)).case_history(("SL", "FK", "CB"))
    events[2]["occurred_at"] = events[0]["occurred_at"]  # CB before the FK that preceded it
    violation = first_violation([events[0], events[1], events[2]])
    assert violation is not None
    assert (violation.path, violation.requirement) == ("/2/occurred_at", "EVT-04")


def test_judge_leaves_the_history_unchanged_when_it_refuses() -> None:
    _, events = MessageFactory(make_faker(7)).case_history(("SL", "CB"))
    after_sl = judge(History(), events[0]).history
    refused = judge(after_sl, {**events[1], "seq": 9})
    assert (refused.requirement, refused.history) == ("EVT-03", after_sl)
    assert judge(after_sl, events[1]).history.step == "CB"
