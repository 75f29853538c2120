"""Mock nodes as replicas over one real PostgreSQL database (YZW_TEST_PG; .ci/run starts the server)."""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.mock_helpers import MockProcess, System, mock_events, push_histories, register, repeated, wait_until

from yzw.mock.runner import RunningPlatform, start_platform
from yzw.mock.schema import SCHEMA
from yzw.serving.pgstore import PgStore
from yzw.signing import signed_headers

URL = os.environ.get("YZW_TEST_PG", "")
pytestmark = [
    pytest.mark.xdist_group("postgres"),  # one database: one worker (make test: --dist loadfile)
    pytest.mark.skipif(not URL, reason="YZW_TEST_PG names no PostgreSQL server (.ci/run starts one)"),
]


@pytest.fixture(scope="module")
def replicas() -> Iterator[tuple[RunningPlatform, RunningPlatform]]:
    store = PgStore(URL, SCHEMA)
    store.reset(keep=())
    store.close()
    first, second = start_platform(db=URL), start_platform(db=URL)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def systems(
    replicas: tuple[RunningPlatform, RunningPlatform], request: pytest.FixtureRequest
) -> Iterator[tuple[System, System]]:
    first, second = replicas
    httpx.post(first.urls["province"] + "/_mock/reset").raise_for_status()
    # A seed per test: a relay still in flight from the test before may land after the reset, which is harmless
    # only while the tests' application numbers differ.
    seed = zlib.crc32(request.node.name.encode())
    on_first = register(first, seed=seed, app_id=f"pg-system-{seed}")
    on_second = System(on_first.record, on_first.client, on_first.factory, second.urls)
    yield on_first, on_second
    on_first.client.close()


def test_a_registration_and_token_of_one_replica_serve_at_the_other(systems: tuple[System, System]) -> None:
    first, second = systems
    first.client.request("GET", first.urls["province"] + "/idp/v1/keys")
    _, events = first.factory.case_history(("SL",))
    assert second.push(events[0]).status_code == 200  # the token came from the first replica's IdP
    assert first.client.token.requests == 1


def test_dedup_order_and_relay_are_shared(
    systems: tuple[System, System], replicas: tuple[RunningPlatform, RunningPlatform]
) -> None:
    first, second = systems
    application, events = first.factory.case_history()
    for index, event in enumerate(events):
        assert (first if index % 2 else second).push(event).status_code == 200
    again = first.push(events[0])
    assert again.json()["duplicate"] is True
    gap = second.push({**events[-1], "event_id": first.factory._uuid(), "seq": 10})
    assert gap.json()["code"] == "SEQUENCE_INVALID"
    number = application["application_no"]
    assert wait_until(lambda: len(mock_events(replicas[0], "province", number)) == 8, timeout=20)
    assert [e["seq"] for e in mock_events(replicas[1], "province", number)] == list(range(1, 9))


def test_a_nonce_used_at_one_replica_is_a_replay_at_the_other(systems: tuple[System, System]) -> None:
    first, second = systems
    first.client.request("GET", first.urls["province"] + "/idp/v1/keys")
    _, events = first.factory.case_history(("SL",))
    body = httpx.Request("POST", "http://x", json=events[0]).content
    headers = {
        **signed_headers(first.record["app_id"], first.record["app_secret"], "POST", "/exchange/v1/events", "", body),
        "Content-Type": "application/json",
        "Authorization": first.client._bearer()["Authorization"],
    }
    assert httpx.post(first.urls["county"] + "/exchange/v1/events", content=body, headers=headers).status_code == 200
    replay = httpx.post(second.urls["county"] + "/exchange/v1/events", content=body, headers=headers)
    assert (replay.status_code, replay.json()["code"]) == (401, "NONCE_REPLAYED")


def test_parallel_writers_across_replicas_keep_each_applications_order(
    systems: tuple[System, System], replicas: tuple[RunningPlatform, RunningPlatform]
) -> None:
    first, second = systems
    histories = [first.factory.case_history() for _ in range(8)]
    failures: list[str] = []

    def writer(events: list[dict[str, Any]], index: int) -> None:
        for position, event in enumerate(events):
            answer = (first if (index + position) % 2 else second).push(event)
            if answer.status_code != 200:
                failures.append(answer.text)

    threads = [threading.Thread(target=writer, args=(events, i)) for i, (_, events) in enumerate(histories)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for application, _ in histories:
        number = application["application_no"]
        relayed = wait_until(lambda n=number: len(mock_events(replicas[0], "province", n)) == 8, timeout=60)
        pending = {node: httpx.get(url + "/_mock/events").json()["relay_pending"] for node, url in first.urls.items()}
        held = {node: [e["seq"] for e in mock_events(replicas[0], node, number)] for node in first.urls}
        assert relayed, f"{number} not relayed within 60 s (a bound, not a speed); pending: {pending}; seqs: {held}"


def test_the_virtual_clock_is_shared(systems: tuple[System, System]) -> None:
    first, second = systems
    httpx.post(first.urls["county"] + "/_mock/clock", json={"set": "2030-01-01T00:00:00+08:00"}).raise_for_status()
    assert wait_until(lambda: httpx.get(second.urls["county"] + "/_mock/clock").json()["now"].startswith("2030-01-01"))


@pytest.fixture
def replica_processes(tmp_path: Path) -> Iterator[tuple[MockProcess, MockProcess]]:
    """Two `yzw mock up` processes over the one database, each with all three nodes; always stopped."""
    store = PgStore(URL, SCHEMA)
    store.reset()
    store.close()
    first = MockProcess("--db", URL, log=tmp_path / "first.log")
    try:
        second = MockProcess("--db", URL, log=tmp_path / "second.log")
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def test_receipt_ids_are_unique_across_replica_processes(
    replica_processes: tuple[MockProcess, MockProcess], request: pytest.FixtureRequest
) -> None:
    first, second = replica_processes
    seed = zlib.crc32(request.node.name.encode())
    system = register(first, seed=seed, app_id=f"pg-receipts-{seed}")
    try:
        receipts = push_histories(system, [first, second], applications=3)
    finally:
        system.client.close()
    recorded = [event["receipt_id"] for node in first.urls for event in mock_events(first, node)]
    assert len(receipts) == 24
    assert repeated(receipts) == [], "two replica processes answered the same receipt id"
    assert repeated(recorded) == [], "the exchange recorded one receipt id for two events"
