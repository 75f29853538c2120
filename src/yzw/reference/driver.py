"""The conformance driver (norm §11): a clerk's decisions, made on request, never hard-coded.

Every action is checked against the EVT-03 transition table first (409 STATE_INVALID), then its params (422);
what it does produces the events a clerk's work would.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx

from yzw.codes import compose
from yzw.codes.calendar import promised_due_at
from yzw.codes.times import CN_TZ, today_cn
from yzw.errors import CalendarYearMissing
from yzw.reference import services
from yzw.reference.catalogue import item
from yzw.reference.journal import record_event
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import ApiError, finding_details
from yzw.signing import sm3_hex
from yzw.spec import validate
from yzw.spec.events import order_rules

CLERK = {"id": "clerk-021-01", "name": "王芳"}
STEP_OF = {
    "accept": "SL",
    "refuse": "BYSL",
    "request_supplement": "BZ",
    "suspend": "GQ",
    "resume": "HF",
    "deliver": "SD",
    "withdraw": "CH",
}


def allowed_steps(last_step: str | None, suspended_at: str | None) -> frozenset[str]:
    rules = order_rules()
    if last_step is None:
        return rules.first
    following = rules.after.get(last_step, frozenset())
    return (rules.after.get(suspended_at or "", frozenset()) or frozenset()) if following is None else following


async def act(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """Carry out one driver action; the answer of §11. Actions wait for each other, so two clerks
    accepting the same application at once give one SL and one 409, never two case numbers."""
    if "accepts-not-serialized" in system.faults:
        return await _act(system, request)
    async with system.desk:
        return await _act(system, request)


async def _act(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    action, params = request["action"], request.get("params") or {}
    if action == "window_apply":
        return _window_apply(system, params)
    if action in ("evaluate", "rectify"):
        return await _evaluation(system, action, str(request.get("case_no", "")), params)
    found = system.application(str(request.get("application_no") or "")) or _by_case(system, request.get("case_no"))
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", "no such application or case")
    allowed = allowed_steps(found["last_step"], found["suspended_at"])
    wanted = {"advance": next((s for s in ("CB", "SH", "PZ") if s in allowed), "?"), "complete": "BJ"}.get(
        action, STEP_OF.get(action, "?")
    )
    if wanted not in allowed and not (action == "complete" and allowed & {"CB", "SH", "PZ"}):
        raise ApiError(409, "STATE_INVALID", f"{action} is not possible after {found['last_step'] or 'intake'}")
    handlers = {"accept": _accept, "refuse": _refuse, "request_supplement": _request_supplement, "complete": _complete}
    if action in handlers:
        event = await handlers[action](system, found, params)
    else:
        event = record_event(
            system, found["application_no"], wanted, _simple_payload(wanted, found, params), handler=CLERK
        )
    return _answer(event)


async def _evaluation(system: ReferenceSystem, action: str, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    if _by_case(system, case_no) is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no case {case_no}")
    push = services.push_evaluation if action == "evaluate" else services.push_rectification
    return await push(system, case_no, params)


def _by_case(system: ReferenceSystem, case_no: Any) -> dict[str, Any] | None:
    row = system.store.one("SELECT application_no FROM applications WHERE case_no = ?", str(case_no or ""))
    return system.application(row[0]) if row else None


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "ok": True,
        "application_no": event["application_no"],
        "step": event["step"],
        "seq": event["seq"],
        "event_id": event["event_id"],
    }
    return answer | ({"case_no": event["case_no"]} if event.get("case_no") else {})


def _simple_payload(step: str, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if step == "GQ":
        return {
            "reason": str(params.get("reason", "需现场核查")),
            "kind": str(params.get("kind", "现场核查")),
            "expected_days": int(params.get("expected_days", 3)),
        }
    if step == "SD":
        return {"method": found["body"]["delivery"]["method"]}
    if step == "CH":
        return {"reason": str(params.get("reason", "申请人撤回"))}
    return {}


async def _missing(system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]) -> list[dict[str, str]]:
    """ACC-05 / APP-05 / LIC-02: every required material absent, and every license that is not valid."""
    body = found["body"]
    given = {m["material_code"]: m for m in body["materials"]}
    missing = [
        {"material_code": m["material_code"], "reason": f"缺少{m['name']}"}
        for m in entry["materials"]
        if m["required"] and m["material_code"] not in given
    ]
    holder = body["applicant"].get("id_number") or body["applicant"].get("uscc")
    for material in given.values():
        if material["kind"] == "license" and "license-not-verified" not in system.faults:
            state = await _verify_license(system, material["license_id"], holder)
            if state != "valid":
                reason = f"缺少{material['name']}" if "bz-reason-not-status" in system.faults else state
                missing.append({"material_code": material["material_code"], "reason": reason})
    return missing[:1] if "bz-first-material-only" in system.faults else missing


async def _verify_license(system: ReferenceSystem, license_id: str, holder: str) -> str:
    try:
        answer = await system.client.request(
            "POST",
            system.province_url + "/license/v1/licenses/verify",
            json={"license_id": license_id, "holder_id": holder},
        )
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached (ROB-01)") from None
    if answer.status_code != 200:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the license library answered {answer.status_code}")
    return str(answer.json()["status"])


async def _entry(system: ReferenceSystem, found: dict[str, Any]) -> dict[str, Any]:
    # The fault accepts-not-serialized asks the province for the current entry each time: the wait for that
    # answer is where a second, unserialized accept of the same application slips in.
    entry = await item(system, found["body"]["item_code"], refresh="accepts-not-serialized" in system.faults)
    if entry is None:
        raise ApiError(409, "STATE_INVALID", "the application's item is no longer in the catalogue")
    return entry


async def _accept(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """SL with a fresh case_no and the due time (ACC-02 … ACC-04), or BZ listing what is missing (ACC-05)."""
    entry = await _entry(system, found)
    missing = await _missing(system, found, entry)
    if missing:
        return record_event(
            system, found["application_no"], "BZ", {"missing": missing, "notice": "请一次性补齐以下材料"}, handler=CLERK
        )
    try:
        day0 = dt.date.fromisoformat(params["calendar_date"]) if "calendar_date" in params else today_cn()
        due = (
            _weekdays_only(day0, int(entry["promised_days"]))
            if "due-date-weekends-only" in system.faults
            else promised_due_at(day0, int(entry["promised_days"]))
        )
    except ValueError:
        raise ApiError(422, "PARAMS_INVALID", "params.calendar_date is a date, YYYY-MM-DD") from None
    except CalendarYearMissing as exc:
        raise ApiError(422, "CALENDAR_YEAR_MISSING", str(exc)) from None
    today = today_cn()
    serial = system.next_counter(f"case:{today.isoformat()}")
    case_no = compose.case_no(system.record["division_code"], system.record["dept_seq"], today, serial)
    if "case-no-without-check" in system.faults:
        case_no = case_no[:-1]
    payload = {
        "case_no": case_no,
        "application_no": found["application_no"],
        "legal_days": entry["promised_days"] if "legal-days-wrong" in system.faults else entry["legal_days"],
        "promised_days": entry["promised_days"],
        "promised_due_at": due.isoformat(),
    }
    if "case-no-after-acceptance" in system.faults:  # the number is assigned later, by the back office
        return record_event(system, found["application_no"], "SL", {**payload, "case_no": None}, handler=CLERK)
    return record_event(system, found["application_no"], "SL", payload, case_no=case_no, handler=CLERK)


def _weekdays_only(day0: dt.date, days: int) -> dt.datetime:
    """The fault due-date-weekends-only: Monday to Friday count, holidays and adjusted weekends do not."""
    day = day0
    while days:
        day += dt.timedelta(days=1)
        days -= day.weekday() < 5
    return dt.datetime.combine(day, dt.time(23, 59, 59, tzinfo=CN_TZ))


async def _refuse(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    reason = str(params.get("reason", "")).strip()
    if not reason and "refusal-without-reason" not in system.faults:
        raise ApiError(422, "PARAMS_INVALID", "refuse needs params.reason (ACC-01)")
    case_no = None
    if "bysl-gets-case-no" in system.faults:
        case_no = compose.case_no(
            system.record["division_code"],
            system.record["dept_seq"],
            today_cn(),
            system.next_counter(f"case:{today_cn().isoformat()}"),
        )
    return record_event(system, found["application_no"], "BYSL", {"reason": reason}, case_no=case_no, handler=CLERK)


async def _request_supplement(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    missing = params.get("missing") or await _missing(system, found, await _entry(system, found))
    if not missing:
        raise ApiError(422, "PARAMS_INVALID", "nothing is missing: name the materials in params.missing")
    return record_event(
        system, found["application_no"], "BZ", {"missing": missing, "notice": "请一次性补齐以下材料"}, handler=CLERK
    )


async def _complete(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """CB, SH, PZ where they have not happened, then BJ (EVT-05) — after the e-license is issued (LIC-01)."""
    number, result = found["application_no"], str(params.get("result", "approved"))
    if result not in ("approved", "denied") or (result == "denied" and not str(params.get("reason", "")).strip()):
        raise ApiError(422, "PARAMS_INVALID", "params.result is approved or denied; denied needs params.reason")
    if not found.get("case_no"):  # the fault case-no-after-acceptance: the back office never assigned one
        raise ApiError(409, "STATE_INVALID", "the case has no case_no yet; the back office assigns it (ACC-02)")
    for step in () if "skips-review-steps" in system.faults else ("CB", "SH", "PZ"):
        current = system.application(number)
        if current is not None and step in allowed_steps(current["last_step"], current["suspended_at"]):
            record_event(system, number, step, {}, handler=CLERK)
    entry = await _entry(system, found)
    licenses = (
        [await _issue_license(system, system.application(number) or found, entry)]
        if result == "approved" and entry.get("license_type")
        else []
    )
    payload: dict[str, Any] = {"result": result, "documents": [], "licenses": licenses}
    if "bj-without-documents" in system.faults:
        del payload["documents"]
    if result == "denied":
        payload["reason"] = str(params["reason"])
    return record_event(system, number, "BJ", payload, handler=CLERK)


async def _issue_license(system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]) -> str:
    applicant, case_no = found["body"]["applicant"], found["case_no"]
    license_id = compose.license_id(entry["license_type"], system.record["dept_uscc"], case_no, 1)
    if "license-id-bad-check" in system.faults:  # a home-made check character
        license_id = license_id[:-1] + ("1" if license_id[-1] != "1" else "2")
    holder = {"type": applicant["type"], "name": applicant["name"]} | (
        {"id_number": applicant["id_number"]} if applicant["type"] == "person" else {"uscc": applicant["uscc"]}
    )
    issued = dt.datetime.now(CN_TZ).replace(microsecond=0)
    document = f"{entry['license_name']} {license_id}".encode()
    license_ = {
        "license_id": license_id,
        "license_type": entry["license_type"],
        "name": entry["license_name"],
        "holder": holder,
        "issuer": {"name": entry["dept"]["name"], "uscc": system.record["dept_uscc"]},
        "issued_at": issued.isoformat(),
        "valid_from": issued.date().isoformat(),
        "case_no": case_no,
        "file": {"format": "ofd", "size": len(document), "sm3": sm3_hex(document)},
    }
    if "bj-before-license" in system.faults:  # BJ goes out; issuing "happens later" (never, here)
        return license_id
    try:
        answer = await system.client.request("POST", system.province_url + "/license/v1/licenses", json=license_)
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached (ROB-01)") from None
    if answer.status_code not in (200, 201):
        raise ApiError(
            409,
            "LICENSE_REFUSED",
            "the license library refused the e-license; no BJ was pushed",
            [{"reason": answer.text[:300]}],
        )
    return license_id


def _window_apply(system: ReferenceSystem, params: dict[str, Any]) -> dict[str, Any]:
    """APP-06: a window (or agent-point) application gets a channel 3 (5) number of this department; SB first."""
    channel = params.get("channel", "window")
    if channel not in ("window", "agent"):
        raise ApiError(422, "PARAMS_INVALID", "window_apply takes channel window or agent")
    today = today_cn()
    daily = system.next_counter(f"application:{today.isoformat()}")
    digit = "1" if "window-number-wrong-channel" in system.faults else {"window": "3", "agent": "5"}[channel]
    number = compose.system_application_no(
        system.record["division_code"], digit, today, system.record["dept_seq"], daily
    )
    if "text-trimmed" in system.faults and isinstance(params.get("applicant"), dict):
        params = {
            **params,
            "applicant": {**params["applicant"], "name": str(params["applicant"].get("name", "")).strip()},
        }
    application = {
        **params,
        "application_no": number,
        "channel": channel,
        "submitted_at": now_text(),
        "division_code": params.get("division_code", system.record["division_code"]),
    }
    findings = validate("application", application)
    unchecked = {
        "window-id-unchecked": "/applicant/id_number",
        "window-uscc-unchecked": "/applicant/uscc",
        "window-id-type-unchecked": "/applicant/id_type",
    }
    for fault, path in unchecked.items():
        if fault in system.faults:  # the faulty system takes what the clerk typed
            findings = [f for f in findings if f.path != path]
    if "window-number-wrong-channel" in system.faults:  # the faulty system does not check the number it issues
        findings = [f for f in findings if f.path != "/application_no"]
    if findings:
        raise ApiError(422, "PARAMS_INVALID", "params is not an application (APP-01)", finding_details(findings))
    system.store.execute(
        "INSERT INTO applications (application_no, body, received_at, answer, updated_at) VALUES (?, ?, ?, ?, ?)",
        number,
        json.dumps(application, ensure_ascii=False),
        application["submitted_at"],
        json.dumps({"application_no": number, "received_at": application["submitted_at"], "status": "received"}),
        application["submitted_at"],
    )
    if "sb-missing" in system.faults:  # the window application is kept but never announced
        return {
            "ok": True,
            "application_no": number,
            "step": "SB",
            "seq": 1,
            "event_id": "00000000-0000-4000-8000-000000000000",
        }
    return _answer(record_event(system, number, "SB", application, handler=CLERK))
