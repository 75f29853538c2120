"""Every seeded fault against the checks: the loop test's body, run in shards.

`pytest -n 2 --dist loadfile` runs a module on one worker; the faults are split over a few modules
(tests/test_loop_shard_*.py) so that both workers take a share.

Two scopes (YZW_LOOP_SCOPE): `requirement`, the default of `make test` and CI, runs the checks of the fault's
own requirement, proving that no faulty system passes and that the finding carries the right ID (≈ 6 s a
fault); `chapter`, `make loop`, runs the fault's whole chapter and also proves that nothing else fails but the
declared collaterals (≈ 16 s a fault: with 500+ faults, over an hour on two cores, too long for CI).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.certify import judge_fault

from yzw.mock.runner import RunningPlatform
from yzw.reference.faults import Fault, catalogue

FAULTS = list(catalogue().values())
SHARDS = 4


def shard_of(index: int) -> list[str]:
    """The faults of one shard: every SHARDS-th, so that each shard holds every chapter's share."""
    return [fault.name for fault in FAULTS[index::SHARDS]]


SCOPE = os.environ.get("YZW_LOOP_SCOPE", "requirement")


def _chapter(fault: Fault) -> frozenset[str]:
    return frozenset({fault.requirement.split("-")[0]})


def judge(platform: RunningPlatform, folder: Path, name: str) -> None:
    """The fault fails its own requirement (and, scope `chapter`, nothing but its declared collaterals); a
    concurrency fault fails nothing in a sequential run (tests/test_load.py shows `yzw load` does)."""
    fault = catalogue()[name]
    if SCOPE == "chapter":
        judge_fault(platform, folder, name, _chapter(fault))
    else:
        judge_fault(platform, folder, name, only=frozenset({fault.requirement}))


def shard_test(index: int) -> object:
    """The parametrized test of one shard, for a shard module to hold."""

    @pytest.mark.parametrize("name", shard_of(index))
    def test_each_fault_fails_its_own_requirement_and_no_other(
        running_platform: RunningPlatform, tmp_path: Path, name: str
    ) -> None:
        judge(running_platform, tmp_path, name)

    return test_each_fault_fails_its_own_requirement_and_no_other
