"""The exchange's intake as it was before the one-read, multi-row path (mock/intake.py): one event at a time,
eight statements each. Kept as the oracle of tests/test_mock_intake.py, not in the product."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

from yzw.mock import intake, supervision
from yzw.mock.platform import Platform
from yzw.mock.topology import NodeSpec
from yzw.serving.errors import finding_details
from yzw.serving.store import Db
from yzw.spec.cases import CASE_STEPS, apply, new_case
from yzw.spec.events import History, judge
from yzw.spec.findings import Finding


def _canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def ingest_many(
    platform: Platform, node: NodeSpec, events: list[tuple[dict[str, Any], list[Finding]]], origin: str
) -> list[tuple[int, dict[str, Any]]]:
    with platform.store.transaction() as db:
        return [_ingest_one(db, platform, node, event, findings, origin) for event, findings in events]


def _ingest_one(
    db: Db, platform: Platform, node: NodeSpec, event: dict[str, Any], code_findings: list[Finding], origin: str
) -> tuple[int, dict[str, Any]]:
    canonical = _canonical(event)
    platform.store.lock(db, f"{node.name}:{event['application_no']}")
    known = db.execute(
        "SELECT body, receipt_id, received_at FROM events WHERE node = ? AND event_id = ?",
        (node.name, event["event_id"]),
    ).fetchone()
    if known is not None:
        if known[0] == canonical:
            return 200, {"receipt_id": known[1], "received_at": known[2], "duplicate": True}
        return 409, _error("EVENT_CONFLICT", "this event_id was recorded with other content (EVT-07)")
    if code_findings:
        return 422, _error("CODE_INVALID", "a code breaks its rule (norm §2)", finding_details(code_findings))
    received_at = intake.now_text()
    verdict = judge(_history(db, node, event), event, received_at if origin == "system" else None)
    if verdict.reason is not None:
        code = "SEQUENCE_INVALID" if verdict.requirement == "EVT-03" else "TIME_INVALID"
        detail = [{"path": f"/{verdict.member}", "reason": verdict.reason, "requirement": verdict.requirement}]
        return 422, _error(code, verdict.reason, detail)
    receipt = {"receipt_id": intake.receipt_id(node.name), "received_at": received_at, "duplicate": False}
    _record(db, platform, node, (event, canonical), receipt, verdict.history, origin)
    return 200, receipt


def _error(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or []}


def _history(db: Db, node: NodeSpec, event: dict[str, Any]) -> History:
    row = db.execute(
        "SELECT state FROM histories WHERE node = ? AND application_no = ?", (node.name, event["application_no"])
    ).fetchone()
    if row is not None:
        return History(**json.loads(row[0]))
    known = db.execute(
        "SELECT body FROM records WHERE node = '*' AND kind = 'submitted_at' AND key = ?", (event["application_no"],)
    ).fetchone()
    return History(submitted_at=json.loads(known[0]) if known else None)


def _record(
    db: Db,
    platform: Platform,
    node: NodeSpec,
    given: tuple[dict[str, Any], str],
    receipt: dict[str, Any],
    history: History,
    origin: str,
) -> None:
    event, canonical = given
    received = dt.datetime.fromisoformat(receipt["received_at"])
    delay = (received - dt.datetime.fromisoformat(event["occurred_at"])).total_seconds()
    db.execute(
        "INSERT INTO events (node, event_id, application_no, case_no, seq, step, dept_uscc, division_code, "
        "body, receipt_id, received_at, delay_seconds, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            node.name,
            event["event_id"],
            event["application_no"],
            event.get("case_no"),
            event["seq"],
            event["step"],
            event["dept_uscc"],
            event["division_code"],
            canonical,
            receipt["receipt_id"],
            receipt["received_at"],
            delay,
            origin,
        ),
    )
    db.execute(
        "INSERT INTO histories (node, application_no, state) VALUES (?, ?, ?) ON CONFLICT (node, "
        "application_no) DO UPDATE SET state = excluded.state",
        (node.name, event["application_no"], json.dumps(asdict(history))),
    )
    for target in intake.relay_targets(platform, node, event, origin):
        db.execute("INSERT INTO outbox (node, target, body) VALUES (?, ?, ?)", (node.name, target, canonical))
    _observe(db, node, event, origin)


def _observe(db: Db, node: NodeSpec, event: dict[str, Any], origin: str) -> None:
    if event["step"] not in CASE_STEPS:
        return
    key = event["application_no"]
    row = db.execute("SELECT body FROM cases WHERE node = ? AND application_no = ?", (node.name, key)).fetchone()
    case = json.loads(row[0]) if row else new_case(event, origin)
    apply(case, event)
    db.execute(
        "INSERT INTO cases (node, application_no, next_check, body) VALUES (?, ?, ?, ?) ON CONFLICT (node, "
        "application_no) DO UPDATE SET body = excluded.body, next_check = excluded.next_check",
        (node.name, key, supervision.first_check(case), json.dumps(case, ensure_ascii=False)),
    )
    if event["step"] == "BJ":
        supervision.revoke_if_in_time(db, node, case, event)
