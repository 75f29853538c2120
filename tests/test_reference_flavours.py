"""No false failures: the reference system built from other choices the norm allows passes every check too."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.certify import certify

from yzw.errors import YzwError
from yzw.mock.runner import RunningPlatform
from yzw.reference.flavours import FLAVOURS, Flavour, flavour
from yzw.reference.journal import push_one_at_a_time
from yzw.reference.parts import Parts, assemble
from yzw.register import load_register
from yzw.run.verdicts import FAIL, NOT_APPLICABLE, PASS

SYSTEM_IDS = {r.id for r in load_register().values() if r.applies_to == "system"}


def test_the_alternative_flavour_passes_every_check(running_platform: RunningPlatform, tmp_path: Path) -> None:
    run = certify(running_platform, tmp_path, flavour="alternative")
    wrong = {f"{t.name}: {t.verdict} {t.message[:300]}" for t in run.results if t.verdict not in (PASS, NOT_APPLICABLE)}
    assert wrong == set()
    judged = {rid for t in run.results if t.verdict == PASS for rid in t.requirements}
    assert SYSTEM_IDS - judged <= {"MSG-01", "MSG-05"}  # XML is optional: registered JSON only, those do not apply


def test_a_serial_outbox_resending_refused_bodies_is_caught_though_the_checks_ran_side_by_side(
    running_platform: RunningPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One push at a time, woken at once: the time-out check's held push holds every other push, so a watch for a
    resend beside the others could end before the resend came. The probe sees the queue, no pass beside the others
    is kept, and the resend is caught alone (yzw.conformance.beside)."""
    monkeypatch.setitem(FLAVOURS, "serial", Flavour({"push_round": push_one_at_a_time}))
    run = certify(running_platform, tmp_path, ("resends-refused",), only=frozenset({"EVT-07"}), flavour="serial")
    checks = [t for t in run.results if "EVT-07" in t.requirements]
    assert FAIL in {t.verdict for t in checks}
    assert any("could miss what it pushes" in note for t in checks for note in t.notes)


def test_flavours_replace_only_parts_and_take_faults_on_top() -> None:
    for name, chosen in FLAVOURS.items():
        assert set(chosen.parts) <= set(Parts.__dataclass_fields__), name
    parts = assemble(["retry-without-backoff"], flavour("alternative").parts)
    assert parts.session_cookie_name == "YZW_SESSION"
    assert parts.backoff(3) == 0.0


def test_an_unknown_flavour_is_named() -> None:
    with pytest.raises(YzwError, match="alternative"):
        flavour("exotic")
