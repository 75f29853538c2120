"""Every seeded fault over its requirement's chapter: the loop test's body, run in shards.

`pytest -n 2 --dist loadfile` runs a module on one worker; the faults are split over a few modules
(tests/test_loop_shard_*.py) so that both workers take a share.
"""

from __future__ import annotations

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


def _chapter(fault: Fault) -> frozenset[str]:
    return frozenset({fault.requirement.split("-")[0]})


def judge(platform: RunningPlatform, folder: Path, name: str) -> None:
    """The fault fails its own requirement and nothing but its declared collaterals (a concurrency fault
    nothing: tests/test_load.py shows `yzw load --with-checks` does)."""
    judge_fault(platform, folder, name, _chapter(catalogue()[name]))


def shard_test(index: int) -> object:
    """The parametrized test of one shard, for a shard module to hold."""

    @pytest.mark.parametrize("name", shard_of(index))
    def test_each_fault_fails_its_own_requirement_and_no_other(
        running_platform: RunningPlatform, tmp_path: Path, name: str
    ) -> None:
        judge(running_platform, tmp_path, name)

    return test_each_fault_fails_its_own_requirement_and_no_other
