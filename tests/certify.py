"""Certify the reference system in this process: the helper of the loop test and the CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from tests.conftest import REGISTRATION

from yzw.conformance.run import run_suites
from yzw.conformance.session import Conformance
from yzw.mock.runner import RunningPlatform
from yzw.reference.faults import chosen
from yzw.reference.runner import RunningReference, start_reference
from yzw.run.options import RunOptions
from yzw.run.verdicts import NOT_APPLICABLE, PASS


def pointed_record(reference: RunningReference) -> dict[str, Any]:
    """The record the reference system was registered with: its URLs point where it is served."""
    return reference.registration.as_record()


def write_record(folder: Path, record: dict[str, Any]) -> Path:
    path = folder / "sut.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return path


def certify(
    platform: RunningPlatform,
    folder: Path,
    faults: tuple[str, ...] = (),
    chapters: frozenset[str] = frozenset(),
    wait: float = 3.0,
) -> Conformance:
    """A conformance run (no reports) against a fresh reference system with the given faults."""
    reference = start_reference(platform, REGISTRATION, faults=chosen(list(faults)))
    try:
        options = RunOptions.checked(
            sut=write_record(folder, pointed_record(reference)),
            platform=platform.urls["province"],
            chapters=chapters,
            wait=wait,
        )
        return run_suites(Conformance.start(options))
    finally:
        reference.stop()


def not_passed(conformance: Conformance) -> set[str]:
    """Requirement IDs with a test that did not pass (fail, error or manual)."""
    return {
        rid for test in conformance.results if test.verdict not in (PASS, NOT_APPLICABLE) for rid in test.requirements
    }
