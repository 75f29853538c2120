"""The side-by-side runner of ROB-01's slow services (conformance.checks.side_by_side)."""

from __future__ import annotations

import threading

import httpx
import pytest

from yzw.conformance.checks import side_by_side as module
from yzw.conformance.checks.side_by_side import queued, side_by_side


def _scene() -> tuple[dict[str, module.Action], list[str]]:
    """A guide answered and a hand-off that times out the first time, both waiting for each other (a barrier that
    breaks unless they run at once)."""
    together = threading.Barrier(2, timeout=5)
    tries: list[str] = []

    def guide() -> httpx.Response:
        together.wait()
        tries.append("guide")
        return httpx.Response(503)

    def hand_off() -> httpx.Response:
        tries.append("hand-off")
        if tries.count("hand-off") == 1:
            together.wait()
            raise httpx.ReadTimeout("no answer within the kit's budget")
        return httpx.Response(503)

    return {"guide": guide, "hand-off": hand_off}, tries


def test_a_time_out_among_queued_answers_is_asked_again_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    actions, tries = _scene()
    monkeypatch.setattr(module, "queued", lambda answered_at: True)
    answers = side_by_side(actions)
    assert {name: answer.status_code for name, answer in answers.items()} == {"guide": 503, "hand-off": 503}
    assert (tries.count("guide"), tries.count("hand-off")) == (1, 2)


def test_a_time_out_of_a_system_that_hangs_is_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    actions, tries = _scene()
    monkeypatch.setattr(module, "queued", lambda answered_at: False)
    with pytest.raises(httpx.ReadTimeout):
        side_by_side(actions)
    assert tries.count("hand-off") == 1


def test_answers_queued_when_spread_beyond_one_and_a_half_call_budgets() -> None:
    assert queued([0.0, 3.1, 6.2])  # one at a time, 3 s each
    assert not queued([3.0, 3.1, 3.2])  # side by side
    assert not queued([4.5])  # one answer tells nothing
