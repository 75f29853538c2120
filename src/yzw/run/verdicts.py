"""Verdicts (DESIGN §Parts 3): per test, per requirement, and the run's exit code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from yzw.register import Requirement
from yzw.run.waivers import Waiver

PASS, FAIL, NOT_APPLICABLE, MANUAL, ERROR = "pass", "fail", "not-applicable", "manual", "error"
WAIVED = "waived"  # a requirement's verdict, never a test's: it did not pass, and a waiver in force covers it
# The worst verdict of a requirement's tests is its verdict: a definite failure outranks a broken check.
SEVERITY = {NOT_APPLICABLE: 0, PASS: 1, MANUAL: 2, ERROR: 3, FAIL: 4}


@dataclass
class TestResult:
    """One conformance test: its requirement IDs, verdict, the failure text, timing and evidence."""

    nodeid: str
    name: str
    requirements: tuple[str, ...]
    verdict: str
    message: str = ""
    seconds: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    delays: list[dict[str, Any]] = field(default_factory=list)
    clauses: tuple[str, ...] = ()  # the clauses of specs/requirements.yaml the test observes


@dataclass
class RequirementResult:
    """One requirement of the register with the verdict its tests gave."""

    requirement: Requirement
    verdict: str
    tests: list[TestResult]
    waiver: Waiver | None = None  # the waiver that turned the verdict into `waived`

    @property
    def seconds(self) -> float:
        return round(sum(t.seconds for t in self.tests), 3)

    def depth(self, tests: Iterable[TestResult] | None = None) -> dict[str, Any]:
        """How deep the verdict goes: the requirement's clauses a test of the run judged (passed or failed; a
        test of another requirement may observe them, by the norm's attribution rule) out of the clauses in the
        norm, and the clauses left to a person (`manual` in the register, or only a manual test named them)."""
        run = list(self.tests if tests is None else tests)
        own = [c.id for c in self.requirement.clauses]
        judged = {c for t in run if t.verdict in (PASS, FAIL) for c in t.clauses}
        waiting = {c for t in run if t.verdict == MANUAL for c in t.clauses}
        manual = [c.id for c in self.requirement.clauses if c.manual or (c.id in waiting and c.id not in judged)]
        return {"clauses": len(own), "checked": sum(c in judged for c in own), "left_to_person": manual}


def skip_verdict(reason: str) -> str:
    """A skipped test is `manual` or `not-applicable` by its reason's prefix; other skips are not applicable."""
    return MANUAL if reason.startswith("manual:") else NOT_APPLICABLE


def by_requirement(
    tests: Iterable[TestResult], register: dict[str, Requirement], waived: Mapping[str, Waiver] | None = None
) -> list[RequirementResult]:
    """Group test verdicts per requirement, in the register's order; a requirement that did not pass and has a
    waiver in force (`waived`, per requirement ID) is `waived`."""
    grouped: dict[str, list[TestResult]] = {}
    for test in tests:
        for req_id in test.requirements:
            grouped.setdefault(req_id, []).append(test)
    results = []
    for req_id in (r for r in register if r in grouped):
        verdict = max((t.verdict for t in grouped[req_id]), key=SEVERITY.__getitem__)
        waiver = (waived or {}).get(req_id) if verdict not in (PASS, NOT_APPLICABLE) else None
        results.append(RequirementResult(register[req_id], WAIVED if waiver else verdict, grouped[req_id], waiver))
    return results


def passed(results: Iterable[RequirementResult], allow_manual: bool = False) -> bool:
    """The run passes when every MUST passes, does not apply or is waived (manual too with allow_manual);
    SHOULDs warn."""
    accepted = {PASS, NOT_APPLICABLE, WAIVED} | ({MANUAL} if allow_manual else set())
    return all(r.verdict in accepted for r in results if r.requirement.level == "MUST")


def counts(results: Iterable[RequirementResult]) -> dict[str, int]:
    tally = dict.fromkeys([*SEVERITY, WAIVED], 0)
    for result in results:
        tally[result.verdict] += 1
    return tally
