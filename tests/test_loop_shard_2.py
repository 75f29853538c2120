"""Shard 2 of the loop test over the seeded faults (tests/fault_loop.py)."""

from tests.fault_loop import shard_test

test_each_fault_fails_its_own_requirement_and_no_other = shard_test(2)
