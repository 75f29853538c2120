"""The supervision engine (SUP-01) and its notices (SUP-02), on the virtual clock of /_mock/clock.

Each node keeps a record per case from the events it holds: acceptance day, promised due time (from SL),
suspensions (GQ → HF), completion. Cards follow from those records and the engine's now; a card once raised
stays, unless a late event shows it was raised wrongly, when it is revoked with a reason (the audit trail).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from functools import lru_cache
from typing import Any

from yzw.codes.calendar import default_calendar
from yzw.codes.times import CN_TZ
from yzw.errors import CalendarYearMissing
from yzw.mock.platform import Platform
from yzw.mock.topology import NodeSpec
from yzw.serving.store import Db
from yzw.spec.cases import day_of, due_day, legal_day, working_days_between
from yzw.spec.limits import limits


def cards_due(case: dict[str, Any], now: dt.datetime) -> list[tuple[str, str]]:
    """(level, reason) of every card the case deserves at `now` (SUP-01)."""
    if case.get("no_reason"):
        return [("red", "不予受理或不予许可未说明理由 (a refusal or denial without reason)")]
    if case.get("closed_at") or case.get("suspended_since") or not case.get("promised_due_at"):
        return []
    due, legal, today = due_day(case), legal_day(case), now.date()
    if due is None:
        return []
    cards = []
    calendar = default_calendar()
    if today > due:
        cards.append(("yellow", f"超过承诺时限未办结 (due {due}, not completed)"))
        if today > calendar.add_working_days(due, 1) or (legal is not None and today > legal):
            cards.append(("red", f"超期一个工作日以上或超过法定时限 (due {due}, legal limit {legal})"))
    else:
        threshold = max(1, math.ceil(limits().warning_share * int(case.get("promised_days") or 0)))
        remaining = working_days_between(today, due, stop_after=threshold)
        if remaining <= threshold:
            cards.append(("warning", f"剩余{remaining}个工作日 (due {due})"))
    return cards


def revoke_if_in_time(db: Db, node: NodeSpec, case: dict[str, Any], event: dict[str, Any]) -> None:
    """A BJ that occurred on or before the due day shows time cards were raised wrongly: revoke them."""
    try:
        due = due_day(case)
    except CalendarYearMissing:
        return
    if due is None or day_of(event["occurred_at"]) > due:
        return
    rows = db.execute(
        "SELECT card_id, body FROM cards WHERE node = ? AND case_no = ?", (node.name, case.get("case_no"))
    )
    for card_id, body in rows.fetchall():
        card = json.loads(body)
        if card["level"] in ("yellow", "red", "warning") and not card.get("revoked"):
            card.update(
                revoked=True,
                revoked_at=event["occurred_at"],
                revoked_reason=f"办结事件 {event['event_id']} occurred {event['occurred_at']}, on time",
            )
            db.execute(
                "UPDATE cards SET body = ? WHERE node = ? AND card_id = ?",
                (json.dumps(card, ensure_ascii=False), node.name, card_id),
            )


def raise_cards(platform: Platform, node: NodeSpec) -> list[dict[str, Any]]:
    """Raise the cards the node's cases deserve now; returns the newly raised ones.

    Only cases whose next check has come are looked at (`next_check`: the next moment a card could become
    due, NULL when none can), so a tick costs what changes, not what is open. A new yellow or red card on an
    accepted case this node took from the system queues a notice (SUP-02) for `notice_loop`.
    """
    offsets = platform.clock_offsets()  # read before the transaction: the store's lock is not re-entrant
    latest = time.time() + max(offsets.values(), default=0.0)  # the clock furthest on
    raised: list[dict[str, Any]] = []
    checked: list[tuple[float | None, str, str]] = []
    nows: dict[float, dt.datetime] = {}  # each department clock's now, read once a tick
    with platform.store.transaction() as db:
        rows = db.execute(
            "SELECT application_no, body, next_check FROM cases WHERE node = ? AND next_check <= ?", (node.name, latest)
        )
        for key, body, due_check in rows.fetchall():
            case = json.loads(body)
            offset = offsets.get(case["dept_uscc"], offsets.get("", 0.0))
            now = nows.get(offset)
            if now is None:
                now = nows[offset] = dt.datetime.fromtimestamp(time.time() + offset, CN_TZ).replace(microsecond=0)
            if due_check > now.timestamp():  # its department's clock is behind the furthest one
                continue
            try:
                raised += _insert_cards(db, node, case, cards_due(case, now), now)
                upcoming = next_check(case, now)
            except CalendarYearMissing:
                upcoming = None
            checked.append((upcoming, node.name, key))
        if checked:
            db.executemany("UPDATE cases SET next_check = ? WHERE node = ? AND application_no = ?", checked)
    return raised


def next_check(case: dict[str, Any], now: dt.datetime) -> float | None:
    """The next moment a card could become due for the case (a day's start), or None when none can."""
    if case.get("closed_at") or case.get("suspended_since") or not case.get("promised_due_at"):
        return None
    due = due_day(case)
    if due is None:
        return None
    moments = _card_moments(due, int(case.get("promised_days") or 0), legal_day(case))
    future = [moment for moment in moments if moment > now.timestamp()]
    return min(future) if future else None


def first_check(case: dict[str, Any]) -> float | None:
    """When the engine must first look at a case a new event changed (`cases.next_check`): the earliest moment a
    card can become due on any clock, 0 for at once (a refusal without reason), None when no card can come.

    Computed where the event is recorded, so that a tick reads only the cases whose moment has come (a case
    opened today with its due day weeks away is not read and written back at the next tick)."""
    if case.get("no_reason"):
        return 0.0
    if case.get("closed_at") or case.get("suspended_since") or not case.get("promised_due_at"):
        return None
    try:
        due = due_day(case)
        moments = _card_moments(due, int(case.get("promised_days") or 0), legal_day(case)) if due else ()
    except CalendarYearMissing:
        return 0.0  # the tick meets the same gap and records it
    return min(moments) if moments else None


@lru_cache(maxsize=4096)
def _card_moments(due: dt.date, promised_days: int, legal: dt.date | None) -> tuple[float, ...]:
    """The starts of the days a card can become due: the warning day, the day after the due day, the day
    after one more working day, and the day after the legal limit (the cases of a day share them)."""
    calendar = default_calendar()
    warning_day, left = due, max(1, math.ceil(limits().warning_share * promised_days))
    while left > 0:
        warning_day -= dt.timedelta(days=1)
        left -= calendar.is_working_day(warning_day)
    days = [warning_day, due + dt.timedelta(days=1), calendar.add_working_days(due, 1) + dt.timedelta(days=1)]
    days += [legal + dt.timedelta(days=1)] if legal else []
    return tuple(dt.datetime.combine(day, dt.time(), CN_TZ).timestamp() for day in days)


def _insert_cards(
    db: Db, node: NodeSpec, case: dict[str, Any], deserved: list[tuple[str, str]], now: dt.datetime
) -> list[dict[str, Any]]:
    raised = []
    for level, reason in deserved:
        card = _new_card(node, case, level, reason, now)
        if db.execute("SELECT 1 FROM cards WHERE node = ? AND card_id = ?", (node.name, card["card_id"])).fetchone():
            continue
        db.execute(
            "INSERT INTO cards (node, card_id, case_no, body) VALUES (?, ?, ?, ?)",
            (node.name, card["card_id"], case.get("case_no"), json.dumps(card, ensure_ascii=False)),
        )
        if level in ("yellow", "red") and case.get("origin") == "system" and not case.get("refused"):
            db.execute(
                "INSERT INTO records (node, kind, key, body) VALUES (?, 'notice_due', ?, ?)",
                (node.name, card["card_id"], json.dumps(card, ensure_ascii=False)),
            )
        raised.append(card)
    return raised


def take_due_notices(platform: Platform, node: NodeSpec) -> list[dict[str, Any]]:
    """The cards whose notice is still to be sent, removed from the queue."""
    with platform.store.transaction() as db:
        rows = db.execute(
            "SELECT key, body FROM records WHERE node = ? AND kind = 'notice_due'", (node.name,)
        ).fetchall()
        db.executemany(
            "DELETE FROM records WHERE node = ? AND kind = 'notice_due' AND key = ?",
            [(node.name, key) for key, _ in rows],
        )
    return [json.loads(body) for _, body in rows]


def _new_card(node: NodeSpec, case: dict[str, Any], level: str, reason: str, now: dt.datetime) -> dict[str, Any]:
    card = {
        "card_id": f"C-{node.name}-{case['application_no']}-{level}",
        "case_no": case.get("case_no"),
        "application_no": case["application_no"],
        "dept_uscc": case["dept_uscc"],
        "level": level,
        "reason": reason,
        "issued_at": now.isoformat(),
    }
    if case.get("promised_due_at"):
        card["due_at"] = case["promised_due_at"]
    return card


def respond_by(issued: dt.datetime) -> str:
    """One working day after the notice is issued (SUP-02)."""
    try:
        day = default_calendar().add_working_days(issued.date(), 1)
    except CalendarYearMissing:
        day = issued.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, issued.timetz()).isoformat()
