"""One system's share of a platform that several runs use at once (`/_mock/reset?app_id=`).

The office certifies many vendors on one staging platform, often at the same time. A run resets, provokes and
reads only what belongs to its system: its tokens, nonces, injected faults, one-shot flags, traffic and the
calls the platform made to it; and, because events, cases and cards name a department and not a system, its
department's events, cases, cards, catalogue items and virtual clock (specs/DECISIONS.md: two systems of one
department are certified one after the other).
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from yzw.mock.catalog import load_demo_catalogue
from yzw.mock.own_items import restore_own_items
from yzw.mock.platform import Platform, caller_of
from yzw.serving.errors import ApiError
from yzw.serving.store import Db
from yzw.sut import Registration


def system_of(platform: Platform, app_id: str) -> Registration:
    """The registered system `app_id` names, or a 404 that says how to register it."""
    found = next((s for s in platform.systems() if s.app_id == app_id), None)
    if found is None:
        raise ApiError(
            404, "SYSTEM_UNKNOWN", f"no system {app_id} is registered here (POST /_mock/systems with its sut record)"
        )
    return found


def reset_system(platform: Platform, system: Registration) -> None:
    """Back to the start for one system, leaving every other system's run as it is."""
    app_id, dept = system.app_id, system.dept_uscc
    store = platform.store
    pushed = _pushed_numbers(platform, app_id)  # read before the traffic is forgotten
    with store.transaction() as db:
        _forget_department(db, dept, pushed)
        db.execute("DELETE FROM tokens WHERE app_id = ?", (app_id,))
        db.execute("DELETE FROM nonces WHERE app_id = ?", (app_id,))
        db.execute("DELETE FROM settings WHERE key = ?", (f"clock_offset:{dept}",))  # its virtual clock
    _restore_catalogue(platform, dept)
    # other nodes serve other systems meanwhile, in their own threads: change shared collections in place, from
    # copies taken in one step
    for token, record in list(platform.tokens.items()):
        if record.app_id == app_id:
            platform.tokens.pop(token, None)
    for fault in [fault for fault in list(platform.faults) if fault.app_id == app_id]:
        with contextlib.suppress(ValueError):
            platform.faults.remove(fault)
    for flag in [name for name in list(platform.flags) if name.endswith(f"@{app_id}")]:
        platform.flags.pop(flag, None)
    platform.clocks_changed()  # the department follows the platform's own clock again
    for notice in [notice for notice in list(platform.pending_notices) if notice[1] == dept]:
        with contextlib.suppress(ValueError):
            platform.pending_notices.remove(notice)
    for entry in [entry for entry in list(platform.delivered) if entry.get("to") == app_id]:
        with contextlib.suppress(ValueError):
            platform.delivered.remove(entry)
    with platform.traffic_lock:
        for log in platform.traffic.values():
            kept = [entry for entry in log if caller_of(entry) != app_id]
            log.clear()
            log.extend(kept)


def _forget_department(db: Db, dept: str, pushed: set[str]) -> None:
    """The department's events, histories, cases, cards, relay entries, the evaluations of its cases and the
    licenses it issued, at every node: a system started afresh numbers its cases (and so its licenses) again."""
    rows = db.execute("SELECT DISTINCT application_no, case_no FROM events WHERE dept_uscc = ?", (dept,)).fetchall()
    numbers, cases = [row[0] for row in rows], {row[1] for row in rows if row[1]}
    _forget_evaluations(db, cases)
    for license_id, body in db.execute("SELECT license_id, body FROM licenses").fetchall():
        if _issued_by(dept, cases, license_id, json.loads(body)):
            db.execute("DELETE FROM licenses WHERE license_id = ?", (license_id,))
    numbers += [
        row[0]
        for row in db.execute("SELECT application_no, body FROM cases").fetchall()
        if json.loads(row[1]).get("dept_uscc") == dept
    ]
    for number in sorted(set(numbers) | pushed):
        for table in ("histories", "cases", "events"):
            db.execute(f"DELETE FROM {table} WHERE application_no = ?", (number,))
        db.execute("DELETE FROM records WHERE key = ?", (number,))
    for card_id, body in db.execute("SELECT card_id, body FROM cards").fetchall():
        if json.loads(body).get("dept_uscc") == dept:
            db.execute("DELETE FROM cards WHERE card_id = ?", (card_id,))
            db.execute("DELETE FROM records WHERE kind = 'notice_due' AND key = ?", (card_id,))
    for entry_id, body in db.execute("SELECT id, body FROM outbox").fetchall():
        if _department_of_relayed(body) == dept:
            db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))


NUMBER_IN_BODY = re.compile(r'"application_no"\s*:\s*"(\d{22}[\dX])"|<application_no>(\d{22}[\dX])</application_no>')


def _pushed_numbers(platform: Platform, app_id: str) -> set[str]:
    """Application numbers the system pushed events for, whatever department they named (a faulty system's
    event under another department's USCC is still its own, and its number comes again from a restarted
    system's window)."""
    found: set[str] = set()
    for log in platform.traffic.values():
        for entry in list(log):
            if caller_of(entry) == app_id and str(entry.get("path", "")).startswith("/exchange/"):
                body = entry.get("request") or b""
                text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
                found.update(a or b for a, b in NUMBER_IN_BODY.findall(text))
    return found


def _issued_by(dept: str, cases: set[str], license_id: str, license_: dict[str, Any]) -> bool:
    """Whether the department issued the license: its issuer, the issuer part of its license_id (CODE-07) or its
    case. A faulty system's license naming another issuer, or none, is still its own: kept, its license_id would
    come again from the restarted system (the same case number) and the library refuse it as a conflict."""
    issuer = license_.get("issuer")
    return (
        (isinstance(issuer, dict) and issuer.get("uscc") == dept)
        or dept in license_id.split(".")
        or license_.get("case_no") in cases
    )


def _forget_evaluations(db: Db, case_numbers: set[str]) -> None:
    """Evaluations of these cases and the rectifications of those evaluations (EVAL-01/02)."""
    rows = db.execute("SELECT node, key, body FROM records WHERE kind = 'evaluation'").fetchall()
    for node, key, body in rows:
        if json.loads(body)["document"].get("case_no") in case_numbers:
            db.execute("DELETE FROM records WHERE node = ? AND kind = 'evaluation' AND key = ?", (node, key))
            db.execute(
                "DELETE FROM records WHERE node = ? AND kind = 'rectification' AND key LIKE ?", (node, f"{key}/%")
            )


def _department_of_relayed(body: str) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document.get("dept_uscc") if isinstance(document, dict) else None


def _restore_catalogue(platform: Platform, dept: str) -> None:
    """The department's items as the vendor wrote them (or the demo's, for the demo department)."""
    store = platform.store
    codes = [row[0] for row in store.rows("SELECT item_code, body FROM items") if _dept_of_item(row[1]) == dept]
    with store.transaction() as db:
        for code in sorted(set(codes)):
            db.execute("DELETE FROM items WHERE item_code = ?", (code,))
    if store.one("SELECT 1 FROM own_items WHERE dept_uscc = ?", dept):
        restore_own_items(store, dept)
    else:
        load_demo_catalogue(store, dept)


def _dept_of_item(body: str) -> str:
    return str(json.loads(body)["dept"]["uscc"])
