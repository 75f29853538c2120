"""EVT-08 receipt ids stay unique when a node restarts on the same SQLite file (real `yzw mock up` processes).

The same across replica processes on one PostgreSQL database is in tests/test_mock_postgres.py (one database,
one test module, so that `--dist loadfile` keeps its tests on one worker).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.mock_helpers import MockProcess, mock_events, push_histories, register, repeated


@pytest.fixture
def node_on_a_file(tmp_path: Path) -> Iterator[tuple[Path, MockProcess]]:
    """A platform process on a SQLite file; the test may stop it and start another on the same file."""
    database = tmp_path / "platform.sqlite"
    first = MockProcess("--db", str(database), log=tmp_path / "mock.log")
    try:
        yield database, first
    finally:
        first.stop()


def test_receipt_ids_stay_unique_when_a_node_restarts_on_its_file(
    node_on_a_file: tuple[Path, MockProcess], tmp_path: Path
) -> None:
    database, first = node_on_a_file
    system = register(first, seed=41, app_id="receipts-restart")
    try:
        before = push_histories(system, [first], applications=2)
        first.stop()
        again = MockProcess("--db", str(database), log=tmp_path / "mock.log", port_base=first.port_base)
        try:
            after = push_histories(system, [again], applications=2)
            recorded = [event["receipt_id"] for node in again.urls for event in mock_events(again, node)]
        finally:
            again.stop()
    finally:
        system.client.close()
    assert len(before) == len(after) == 16
    assert repeated(before + after) == [], "receipt ids of the first run were handed out again after the restart"
    assert repeated(recorded) == [], "the exchange recorded one receipt id for two events"
    assert all(receipt.startswith("R-county-") for receipt in before + after)
