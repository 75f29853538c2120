"""The exchange's one-read, multi-row intake answers and records exactly what the event-at-a-time intake did
(tests/exchange_oracle.py), on good and bad events, single and in batches; the catalogue's item cache follows
every change of the catalogue (CAT-01)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests import exchange_oracle
from tests.mock_helpers import DEPT_USCC, FOOD_ITEM, System, register

from yzw.codes.times import CN_TZ
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.mock import intake
from yzw.mock.platform import Platform
from yzw.mock.runner import RunningPlatform
from yzw.mock.schema import SCHEMA
from yzw.mock.topology import load_topology
from yzw.serving.store import open_store
from yzw.spec.findings import Finding

Given = tuple[dict[str, Any], list[Finding]]
Step = tuple[str, str, list[Given]] | Callable[[Platform], None]  # (node, origin, events), or a change first
Ingest = Callable[[Platform, Any, list[Given], str], list[tuple[int, dict[str, Any]]]]
NOW = dt.datetime.now(CN_TZ).replace(microsecond=0).isoformat()
TABLES = {
    "events": "SELECT * FROM events ORDER BY node, event_id",
    "histories": "SELECT node, application_no, state FROM histories ORDER BY node, application_no",
    "cases": "SELECT node, application_no, next_check, body FROM cases ORDER BY node, application_no",
    "outbox": "SELECT id, node, target, body FROM outbox ORDER BY id",
    "cards": "SELECT node, card_id, body FROM cards ORDER BY node, card_id",
}


def _factory(seed: int) -> MessageFactory:
    factory = MessageFactory(make_faker(seed))
    factory.dept = {**factory.dept, "uscc": DEPT_USCC, "dept_seq": "021", "division_code": "330106"}
    factory.item_code = FOOD_ITEM
    return factory


def _ok(*events: dict[str, Any]) -> list[Given]:
    return [(event, []) for event in events]


def _card_for(event: dict[str, Any]) -> Callable[[Platform], None]:
    """A yellow card on the event's case at the county, as the supervision engine would have raised it."""

    def raise_card(platform: Platform) -> None:
        card = {"card_id": f"C-county-{event['application_no']}-yellow", "case_no": event["case_no"], "level": "yellow"}
        platform.store.execute(
            "INSERT INTO cards (node, card_id, case_no, body) VALUES ('county', ?, ?, ?)",
            card["card_id"],
            card["case_no"],
            json.dumps(card),
        )

    return raise_card


def _submitted(number: str, at: str) -> Callable[[Platform], None]:
    def keep(platform: Platform) -> None:
        platform.store.execute(
            "INSERT INTO records (node, kind, key, body) VALUES ('*', 'submitted_at', ?, ?)", number, json.dumps(at)
        )

    return keep


def _script() -> list[Step]:
    """Good and bad events: in order, duplicated, changed, out of order, early, late, with code findings, in
    batches that hold one application's events (and the same event twice), from systems and other nodes."""
    factory = _factory(5)
    _, first = factory.case_history()
    _, second = factory.case_history()
    _, third = factory.case_history(("SL", "CB", "SH", "PZ", "BJ"))
    _, fourth = factory.case_history(("SL", "GQ", "HF", "CB"))
    _, fifth = factory.case_history(("SL", "CB"))
    _, down = factory.case_history(("SL", "CB"))
    _, done = factory.case_history(("SL", "CB", "SH", "PZ", "BJ"))
    code = [Finding("/case_no", "case_no", "check character wrong", "CODE-06")]
    late = {**fourth[1], "occurred_at": (dt.datetime.fromisoformat(NOW) + dt.timedelta(hours=2)).isoformat()}
    early = {**fifth[1], "occurred_at": "2000-01-01T00:00:00+08:00"}
    return [
        *[("county", "system", _ok(event)) for event in first[:4]],
        ("county", "system", _ok(first[3])),  # the same again: a duplicate
        ("county", "system", _ok({**first[3], "opinion": "changed"})),  # EVT-07 conflict
        ("county", "system", [(first[4], code)]),  # 422 CODE_INVALID, nothing kept
        ("county", "system", _ok(first[5])),  # seq gap: SEQUENCE_INVALID
        ("county", "system", _ok(*first[4:], first[4], {**first[5], "opinion": "changed"})),
        ("county", "system", _ok(second[1], second[0], second[1], second[3], second[2], second[2])),
        ("county", "system", [(second[3], []), (second[4], code), (second[4], [])]),
        _submitted(third[0]["application_no"], "2099-01-01T00:00:00+08:00"),
        ("county", "system", _ok(third[0])),  # before the application was submitted: TIME_INVALID
        ("county", "system", _ok(fifth[0], early, late, fifth[1])),
        ("county", "system", _ok(fourth[0], fourth[1], fourth[2], late, fourth[3])),
        ("province", "system", _ok(down[0])),  # forwarded down to the city
        ("city", "down", _ok(down[0], down[1])),  # and from the city to the county
        ("province", "up", _ok(first[0], first[1], second[0])),  # a child's relay: no future-time check
        ("county", "system", _ok(done[0])),
        _card_for(done[0]),
        ("county", "system", _ok(*done[1:], fifth[0], *fifth[1:])),  # BJ in time revokes the card (SUP-01)
    ]


def _run(ingest: Ingest, script: list[Step]) -> tuple[list[Any], dict[str, list[Any]]]:
    store = open_store(":memory:", SCHEMA)
    platform = Platform(load_topology(), store)
    answers: list[Any] = []
    try:
        for step in script:
            if callable(step):
                step(platform)
                continue
            node, origin, events = step
            answers.append(ingest(platform, platform.topology.node(node), events, origin))
        return answers, {name: [_row(row) for row in store.rows(sql)] for name, sql in TABLES.items()}
    finally:
        store.close()


def _row(row: Any) -> tuple[Any, ...]:
    """A row with its JSON texts read (histories and case records are compared as values)."""
    return tuple(json.loads(v) if isinstance(v, str) and v[:1] == "{" else v for v in tuple(row))


@pytest.fixture
def deterministic(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Receipt ids that count from 1 again at `restart`, and one arrival time."""
    counter = itertools.count(1)

    def restart() -> None:
        nonlocal counter
        counter = itertools.count(1)

    monkeypatch.setattr(intake, "receipt_id", lambda node: f"R-{node}-{next(counter):032d}")
    monkeypatch.setattr(intake, "now_text", lambda: NOW)
    return restart


def test_one_read_intake_answers_and_records_as_the_event_at_a_time_intake(
    deterministic: Callable[[], None],
) -> None:
    script = _script()
    old_answers, old_tables = _run(exchange_oracle.ingest_many, script)
    deterministic()
    new_answers, new_tables = _run(intake.ingest_many, script)
    assert json.dumps(new_answers, ensure_ascii=False) == json.dumps(old_answers, ensure_ascii=False)
    assert new_tables == old_tables
    statuses = {status for answers in old_answers for status, _ in answers}
    assert statuses == {200, 409, 422}  # the script reaches every outcome
    assert {body.get("code") for answers in old_answers for _, body in answers} >= {
        "EVENT_CONFLICT",
        "CODE_INVALID",
        "SEQUENCE_INVALID",
        "TIME_INVALID",
    }
    assert old_tables["outbox"]
    assert [card.get("revoked") for _, _, card in old_tables["cards"]] == [True]


def test_pushes_arriving_together_answer_as_one_after_the_other(deterministic: Callable[[], None]) -> None:
    _, events = _factory(9).case_history()
    pushes = [events[0], events[2], events[1], events[1], {**events[0], "opinion": "changed"}, events[2]]
    one_by_one = [("county", "system", _ok(event)) for event in pushes]
    expected, expected_tables = _run(exchange_oracle.ingest_many, one_by_one)
    deterministic()
    store = open_store(":memory:", SCHEMA)
    platform = Platform(load_topology(), store)
    coalescer = intake.Coalescer(platform, platform.topology.node("county"))

    async def together() -> list[tuple[int, dict[str, Any]]]:
        return await asyncio.gather(*(coalescer.ingest((event, [], "system")) for event in pushes))

    answers = asyncio.run(together())
    tables = {name: [_row(row) for row in store.rows(sql)] for name, sql in TABLES.items()}
    store.close()
    assert [[answer] for answer in answers] == expected
    assert tables == expected_tables


def test_canonical_text_is_json_dumps_text() -> None:
    tricky = {"b": [1, True, None, {"z": "\u2028\x7f\x00", "A": "中", "😀": 1, "ｚ": 2}], "a": '"\\/ 😀'}
    for event in (tricky, {**tricky, "f": 1e16}, {**tricky, "n": 2**70}):
        assert intake.canonical(event) == json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture
def system(platform_nodes: RunningPlatform) -> Iterator[System]:
    registered = register(platform_nodes, seed=17)
    yield registered
    registered.client.close()


def test_cached_item_follows_new_versions_and_resets(system: System) -> None:
    province = system.urls["province"]
    url = f"{province}/catalog/v1/items/{FOOD_ITEM}"
    first = system.client.request("GET", url)
    assert system.client.request("GET", url).headers["etag"] == first.headers["etag"]
    httpx.post(f"{province}/_mock/catalog/{FOOD_ITEM}", json={"promised_days": 4}).raise_for_status()
    changed = system.client.request("GET", url, headers={"If-None-Match": first.headers["etag"]})
    assert (changed.status_code, changed.json()["version"]) == (200, first.json()["version"] + 1)
    httpx.post(f"{province}/_mock/reset", params={"app_id": system.record["app_id"]}).raise_for_status()
    restored = system.client.request("GET", url)
    assert (restored.json(), restored.headers["etag"]) == (first.json(), first.headers["etag"])
    httpx.post(f"{province}/_mock/catalog/{FOOD_ITEM}", json={"retire": True}).raise_for_status()
    assert system.client.request("GET", url).json()["status"] == "retired"
    httpx.post(f"{province}/_mock/reset").raise_for_status()
    again = system.client.request("GET", url, headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.headers["etag"]) == (304, first.headers["etag"])
