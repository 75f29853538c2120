"""The conformance driver (norm §11): a clerk's decisions, made on request, never hard-coded.

Every action is checked against the EVT-03 transition table first (409 STATE_INVALID), then its params (422);
what it does produces the events a clerk's work would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx

from yzw.codes import compose
from yzw.codes.lists import code_list
from yzw.codes.times import CN_TZ, today_cn
from yzw.errors import CalendarYearMissing
from yzw.reference import services
from yzw.reference.journal import record_event
from yzw.reference.system import ReferenceSystem, now_text
from yzw.serving.errors import ApiError, finding_details
from yzw.signing import sm3_hex
from yzw.spec import validate_value
from yzw.spec.events import order_rules

CLERK = {"id": "clerk-021-01", "name": "王芳"}
BAD_REVIEW = 2  # EVAL-02: levels 1 and 2 are bad reviews (不满意, 非常不满意)
CHANNEL_DIGIT = {"window": "3", "agent": "5"}  # CODE-05: the channel digit of a window application number
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
    """Carry out one driver action; the answer of §11. Actions on one application wait for each other at its
    desk, so two clerks accepting the same application at once give one SL and one 409, never two case numbers."""
    async with system.parts.desk(system, request):
        return await system.parts.driver_action(system, request)


def one_desk(system: ReferenceSystem, request: dict[str, Any]) -> asyncio.Lock:
    """EVT-03: one driver action at a time on an application, as one case file on one desk; a clerk waiting for
    the license library holds up no clerk working on another application (window applications share one desk:
    they draw the window's numbers)."""
    return system.desks.setdefault(_file_of(system, request), asyncio.Lock())


def _file_of(system: ReferenceSystem, request: dict[str, Any]) -> str:
    """The application a driver action works on (by its number, or by its case's), or the window's desk."""
    if request.get("action") == "window_apply":
        return "window"
    number = request.get("application_no")
    if not number and request.get("case_no"):
        found = _by_case(system, request.get("case_no"))
        number = found["application_no"] if found else None
    return str(number or "")


async def carry_out(system: ReferenceSystem, request: dict[str, Any]) -> dict[str, Any]:
    """§11: the application (404 APPLICATION_UNKNOWN), then the state (409 STATE_INVALID), then the params (422);
    an absent `params` is read as {} (ACC-01)."""
    action, params = request["action"], request.get("params") or {}
    if action == "window_apply":
        return _window_apply(system, params)
    if action in ("evaluate", "rectify"):
        return await _evaluation(system, action, str(request.get("case_no", "")), params)
    found = system.application(str(request.get("application_no") or "")) or _by_case(system, request.get("case_no"))
    if found is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", "no such application or case")
    allowed = system.parts.next_steps(found["last_step"], found["suspended_at"])
    wanted = {"advance": next((s for s in ("CB", "SH", "PZ") if s in allowed), "?"), "complete": "BJ"}.get(
        action, STEP_OF.get(action, "?")
    )
    if wanted not in allowed and not (action == "complete" and system.parts.completable(allowed)):
        raise ApiError(409, "STATE_INVALID", f"{action} is not possible after {found['last_step'] or 'intake'}")
    handlers = {"accept": _accept, "refuse": _refuse, "request_supplement": _request_supplement, "complete": _complete}
    if action in handlers:
        event = await handlers[action](system, found, params)
    else:
        event = record_event(
            system, found["application_no"], wanted, system.parts.step_payload(wanted, found, params), handler=CLERK
        )
    return system.parts.driver_answer(event)


async def _evaluation(system: ReferenceSystem, action: str, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    if _by_case(system, case_no) is None:
        raise ApiError(404, "APPLICATION_UNKNOWN", f"no case {case_no}")
    return await (_evaluate if action == "evaluate" else _rectify)(system, case_no, params)


async def _evaluate(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-01: the evaluation pushed, and remembered with its level for rectify (EVAL-02)."""
    channel = system.parts.evaluation_channel(params)
    answer = await services.push_evaluation(system, case_no, {**params, "channel": channel})
    system.store.execute(
        "INSERT INTO reviews (evaluation_id, case_no, level) VALUES (?, ?, ?)",
        answer["evaluation_id"],
        case_no,
        int(params["level"]),
    )
    return system.parts.evaluation_answer(answer)


async def _rectify(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> dict[str, Any]:
    """EVAL-02: the clerk's rectification of a bad review, pushed once."""
    system.parts.rectifiable(system, case_no, params)
    answer = await services.push_rectification(system, case_no, params)
    system.store.execute("UPDATE reviews SET rectified = 1 WHERE evaluation_id = ?", answer["evaluation_id"])
    return system.parts.rectification_answer(answer)


def evaluation_channel(params: dict[str, Any]) -> str:
    """§11 evaluate: the channel the evaluation was taken on, as in APP-01; `window` when the params name none."""
    channel = params.get("channel", "window")
    if channel not in code_list("channels"):
        channels = ", ".join(code_list("channels"))
        raise ApiError(422, "PARAMS_INVALID", f"params.channel is one of {channels} (§11 evaluate, APP-01)")
    return str(channel)


def one_per_bad_review(system: ReferenceSystem, case_no: str, params: dict[str, Any]) -> None:
    """EVAL-02 / §11 rectify: an evaluation of this case (else 422 EVALUATION_UNKNOWN) that is bad (level 1 or
    2) and not rectified yet (else 409 STATE_INVALID): one rectification per bad review, none for a good one."""
    row = system.store.one(
        "SELECT level, rectified FROM reviews WHERE evaluation_id = ? AND case_no = ?",
        str(params.get("evaluation_id") or ""),
        case_no,
    )
    if row is None:
        raise ApiError(
            422, "EVALUATION_UNKNOWN", f"params.evaluation_id is no evaluation of case {case_no}: name one (EVAL-02)"
        )
    if row[0] > BAD_REVIEW:
        raise ApiError(409, "STATE_INVALID", f"a level {row[0]} review gets no rectification (EVAL-02)")
    if row[1]:
        raise ApiError(409, "STATE_INVALID", "this review has its rectification: one per bad review (EVAL-02)")


def review_ahead(allowed: frozenset[str]) -> bool:
    """§11 complete: a case whose next step is a review step (CB, SH, PZ) can be completed, the missing steps
    pushed first; a suspended case (only HF or CH may follow) cannot: 409 STATE_INVALID (EVT-03)."""
    return bool(allowed & {"CB", "SH", "PZ"})


def _by_case(system: ReferenceSystem, case_no: Any) -> dict[str, Any] | None:
    row = system.store.one("SELECT application_no FROM applications WHERE case_no = ?", str(case_no or ""))
    return system.application(row[0]) if row else None


def event_answer(event: dict[str, Any]) -> dict[str, Any]:
    """§11 / ACC-01: the decision's answer names the event it queued."""
    answer = {
        "ok": True,
        "application_no": event["application_no"],
        "step": event["step"],
        "seq": event["seq"],
        "event_id": event["event_id"],
    }
    return answer | ({"case_no": event["case_no"]} if event.get("case_no") else {})


def step_payload(step: str, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-02: the payload of a step the driver moves on to (GQ, HF, SD, CH and the review steps)."""
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


def absent(material: dict[str, Any]) -> str:
    """ACC-05: the reason a supplement notice gives for a material the application lacks."""
    return f"缺少{material['name']}"


async def missing_materials(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]
) -> list[dict[str, str]]:
    """ACC-05 / APP-05 / LIC-02: every required material absent, and every license that is not valid."""
    body = found["body"]
    given = {m["material_code"]: m for m in body["materials"]}
    missing = [
        {"material_code": m["material_code"], "reason": absent(m)}
        for m in entry["materials"]
        if m["required"] and m["material_code"] not in given
    ]
    holder = system.parts.license_holder(body["applicant"])
    for material in given.values():
        if material["kind"] == "license":
            state = await system.parts.license_status(system, material["license_id"], holder)
            if state != "valid":
                reason = system.parts.license_reason(material, state)
                missing.append({"material_code": material["material_code"], "reason": reason})
    return system.parts.missing_listed(missing)


def license_holder(applicant: dict[str, Any]) -> str:
    """APP-05: the holder a license material is verified for is the applicant (its id_number or uscc)."""
    return str(applicant.get("id_number") or applicant.get("uscc"))


def status_as_reason(material: dict[str, Any], state: str) -> str:
    """LIC-02: a license that is not valid is listed with its status (revoked, expired …)."""
    return state


async def verify_license(system: ReferenceSystem, license_id: str, holder: str) -> str:
    """APP-05 / LIC-02: the license library's status of a license the application names."""
    try:
        answer = await system.client.request(
            "POST",
            system.province_url + "/license/v1/licenses/verify",
            json={"license_id": license_id, "holder_id": holder},
        )
    except (httpx.HTTPError, OSError):
        raise ApiError(
            system.parts.unreachable_status, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached (ROB-01)"
        ) from None
    try:
        body = answer.json() if answer.status_code == 200 else None
    except ValueError:
        body = None
    if body is None or validate_value("license-status", body):  # a 5xx or an answer that is not the norm's (ROB-01)
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the license library answered {answer.status_code}")
    return str(body["status"])


async def _entry(system: ReferenceSystem, found: dict[str, Any]) -> dict[str, Any]:
    entry = await system.parts.case_item(system, found["body"]["item_code"])
    if entry is None:
        raise ApiError(409, "STATE_INVALID", "the application's item is no longer in the catalogue")
    return system.parts.case_version(system, found["body"], entry)


async def _accept(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """SL with a fresh case_no and the due time (ACC-02 … ACC-04), or BZ listing what is missing (ACC-05)."""
    entry = await _entry(system, found)
    missing = await system.parts.missing_of(system, found, entry)
    if missing:
        return _supplement_notice(system, found, missing)
    due = _due(system, found, params, entry)
    payload = system.parts.sl_payload(system.parts.case_no(system, params), found, entry, due)
    return record_event(
        system,
        found["application_no"],
        "SL",
        payload,
        case_no=payload["case_no"],
        handler=CLERK,
        occurred_at=system.parts.acceptance_time(params),
    )


def accepted_now(params: dict[str, Any]) -> str | None:
    """EVT-04 / §11: the SL happens now; a driver's calendar_date moves only the due time (None: now)."""
    return None


def _due(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any], entry: dict[str, Any]) -> dt.datetime:
    """ACC-04: the promised due time, counted from params.calendar_date (today by default)."""
    try:
        day = system.parts.counted_from(found, params, system.parts.day0(params))
        return system.parts.due_date(day, int(entry["promised_days"]))
    except ValueError:
        raise ApiError(422, "PARAMS_INVALID", "params.calendar_date is a date, YYYY-MM-DD") from None
    except CalendarYearMissing as exc:
        raise system.parts.calendar_refusal(exc) from None


def day0(params: dict[str, Any]) -> dt.date:
    """§11: day 0 of the due time, params.calendar_date when driven (a value that is no date: ValueError)."""
    return dt.date.fromisoformat(params["calendar_date"]) if "calendar_date" in params else today_cn()


def day0_as_given(found: dict[str, Any], params: dict[str, Any], day: dt.date) -> dt.date:
    """ACC-04: day 0 is the acceptance day (or the driver's calendar_date), whatever the application's own dates."""
    return day


def year_named(exc: CalendarYearMissing) -> ApiError:
    """ACC-04: the error names the year; MSG-02: never the calendar file's path on this host."""
    return ApiError(
        422,
        "CALENDAR_YEAR_MISSING",
        f"the working-day calendar holds no data for {exc.year}, so the due time cannot be computed (ACC-04, CODE-08)",
    )


def issue_case_no(system: ReferenceSystem, params: dict[str, Any] | None = None) -> str:
    """CODE-06: today's next case number of this department, with its check character (a driver's
    `calendar_date` moves only the due time, §11)."""
    today = today_cn()
    serial = system.next_counter(f"case:{today.isoformat()}")
    return compose.case_no(system.registration.division_code, system.registration.dept_seq, today, serial)


def own_division(system: ReferenceSystem) -> str:
    """CODE-05: a number the system issues opens with its own registered division_code."""
    return system.registration.division_code


def next_window_serial(system: ReferenceSystem) -> int:
    """CODE-05: the department's daily sequence of the numbers it issues, persistent and never repeated."""
    return system.next_counter(f"application:{today_cn().isoformat()}")


def sl_payload(case_no: str, found: dict[str, Any], entry: dict[str, Any], due: dt.datetime) -> dict[str, Any]:
    """ACC-02 / ACC-03: the SL names the case, its legal and promised days and the due time."""
    return {
        "case_no": case_no,
        "application_no": found["application_no"],
        "legal_days": entry["legal_days"],
        "promised_days": entry["promised_days"],
        "promised_due_at": due.isoformat(),
    }


async def _refuse(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    payload = system.parts.bysl_payload(params)
    case_no = system.parts.refusal_case_no(system)
    return record_event(system, found["application_no"], "BYSL", payload, case_no=case_no, handler=CLERK)


def reason_given(params: dict[str, Any]) -> dict[str, Any]:
    """The BYSL payload: the clerk's reason, verbatim (ROB-02)."""
    return {"reason": str(params.get("reason", ""))}


def bysl_payload(params: dict[str, Any]) -> dict[str, Any]:
    """ACC-01: no refusal without a reason (blank is none)."""
    payload = reason_given(params)
    if not payload["reason"].strip():
        raise ApiError(422, "PARAMS_INVALID", "refuse needs params.reason (ACC-01)")
    return payload


def no_case_no(system: ReferenceSystem) -> str | None:
    """ACC-06: a refused application gets no case number."""
    return None


async def _request_supplement(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    missing = params.get("missing") or await system.parts.missing_of(system, found, await _entry(system, found))
    if not missing:
        raise ApiError(422, "PARAMS_INVALID", "nothing is missing: name the materials in params.missing")
    return _supplement_notice(system, found, missing)


def _supplement_notice(system: ReferenceSystem, found: dict[str, Any], missing: list[Any]) -> dict[str, Any]:
    """BZ: everything missing, at once (ACC-05)."""
    return record_event(
        system, found["application_no"], "BZ", {"missing": missing, "notice": "请一次性补齐以下材料"}, handler=CLERK
    )


async def _complete(system: ReferenceSystem, found: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """CB, SH, PZ where they have not happened, then BJ (EVT-05) — after the e-license is issued (LIC-01)."""
    params = system.parts.complete_params(params)
    number, result = found["application_no"], str(params.get("result", "approved"))
    if not found.get("case_no"):  # an SL pushed before the back office assigned one
        raise ApiError(409, "STATE_INVALID", "the case has no case_no yet; the back office assigns it (ACC-02)")
    licenses = await system.parts.license_then_review(system, found, await _entry(system, found), result)
    return record_event(system, number, "BJ", system.parts.bj_payload(result, licenses, params), handler=CLERK)


def complete_params(params: dict[str, Any]) -> dict[str, Any]:
    """§11 complete, EVT-05: result approved or denied, and a denial names its reason (not blank): else 422."""
    result = str(params.get("result", "approved"))
    if result not in ("approved", "denied") or (result == "denied" and not str(params.get("reason", "")).strip()):
        raise ApiError(422, "PARAMS_INVALID", "params.result is approved or denied; denied needs params.reason")
    return params


async def licensed_review(
    system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any], result: str
) -> list[str]:
    """§11 / LIC-01: the e-license first, then the review steps not taken yet; so a library that refuses or
    cannot be reached (409 LICENSE_REFUSED, 503 DEPENDENCY_UNAVAILABLE, ROB-01) leaves nothing recorded."""
    approved_license = result == "approved" and entry.get("license_type")
    licenses = [await _issue_license(system, found, entry)] if approved_license else []
    review(system, found["application_no"])
    return licenses


def review(system: ReferenceSystem, number: str) -> None:
    """The review steps the case has not been through yet (EVT-03)."""
    for step in system.parts.review_steps:
        current = system.application(number)
        if current is not None and step in allowed_steps(current["last_step"], current["suspended_at"]):
            record_event(system, number, step, system.parts.step_payload(step, current, {}), handler=CLERK)


def bj_payload(result: str, licenses: list[str], params: dict[str, Any]) -> dict[str, Any]:
    """EVT-05: the BJ names its result, documents and e-licenses, and a denial's reason."""
    payload: dict[str, Any] = {"result": result, "documents": [], "licenses": licenses}  # EVT-05
    if result == "denied":
        payload["reason"] = str(params["reason"])
    return payload


async def _issue_license(system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any]) -> str:
    license_id = system.parts.license_id(system, entry, found["case_no"])
    license_ = system.parts.license_document(_license(system, found, entry, license_id), entry, found)
    await system.parts.license_issue(system, license_)
    return license_id


def license_number(system: ReferenceSystem, entry: dict[str, Any], case_no: str) -> str:
    """CODE-07: the e-license identifier, with its ISO/IEC 7064 MOD 37,36 check character."""
    return compose.license_id(entry["license_type"], system.registration.dept_uscc, case_no, 1)


def _license(system: ReferenceSystem, found: dict[str, Any], entry: dict[str, Any], license_id: str) -> dict[str, Any]:
    """The e-license the library is asked to issue (LIC-01)."""
    holder, case_no = system.parts.license_owner(found["body"]["applicant"]), found["case_no"]
    issued = dt.datetime.now(CN_TZ).replace(microsecond=0)
    name = system.parts.license_title(entry)
    document = f"{name} {license_id}".encode()
    return {
        "license_id": license_id,
        "license_type": entry["license_type"],
        "name": name,
        "holder": holder,
        "issuer": {"name": entry["dept"]["name"], "uscc": system.registration.dept_uscc},
        "issued_at": issued.isoformat(),
        "valid_from": issued.date().isoformat(),
        "case_no": case_no,
        "file": {"format": "ofd", "size": len(document), "sm3": sm3_hex(document)},
    }


def license_as_built(license_: dict[str, Any], entry: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """LIC-01: the e-license as built from the case (`found`) and the item's catalogue `entry`, sent as it is."""
    return license_


def license_owner(applicant: dict[str, Any]) -> dict[str, Any]:
    """LIC-01: the e-license is held by the applicant: a person by its id_number, a legal person by its uscc."""
    code = "id_number" if applicant["type"] == "person" else "uscc"
    return {"type": applicant["type"], "name": applicant["name"], code: applicant[code]}


def license_title(entry: dict[str, Any]) -> str:
    """LIC-01: the e-license's name is the item's license_name (the license, not the item: 食品经营许可证)."""
    return str(entry["license_name"])


async def issue_license(system: ReferenceSystem, license_: dict[str, Any]) -> None:
    """LIC-01: the library issues the e-license before the BJ that lists it."""
    try:
        answer = await system.client.request("POST", system.province_url + "/license/v1/licenses", json=license_)
    except (httpx.HTTPError, OSError):
        raise ApiError(
            system.parts.unreachable_status, "DEPENDENCY_UNAVAILABLE", "the license library cannot be reached (ROB-01)"
        ) from None
    if answer.status_code >= 500:  # ROB-01: a 5xx is a library that cannot answer, not a refusal
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the license library answered {answer.status_code} (ROB-01)")
    if answer.status_code not in (200, 201):
        raise ApiError(
            409,
            "LICENSE_REFUSED",
            "the license library refused the e-license; no BJ was pushed",
            [{"reason": answer.text[:300]}],
        )
    if not issued(answer, license_):  # ROB-01: a 2xx that is not the norm's answer issued nothing we can know of
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the license library gave an answer that is not the license")


def issued(answer: httpx.Response, license_: dict[str, Any]) -> bool:
    """LIC-01: the library's 201 (200 when it held it already) answers the license it issued, this license_id."""
    try:
        body = answer.json()
    except ValueError:
        return False
    matches = isinstance(body, dict) and body.get("license_id") == license_["license_id"]
    return matches and not validate_value("license", body)


def _window_apply(system: ReferenceSystem, params: dict[str, Any]) -> dict[str, Any]:
    """APP-06: a window (or agent-point) application gets a channel 3 (5) number of this department; SB first."""
    channel = params.get("channel", "window")
    if channel not in ("window", "agent"):
        raise ApiError(422, "PARAMS_INVALID", "window_apply takes channel window or agent")
    application = _window_application(system, system.parts.window_entry(params), channel)
    findings = [f for f in validate_value("application", application) if f.path not in system.parts.window_unchecked]
    if findings:
        raise ApiError(422, "PARAMS_INVALID", "params is not an application (APP-01)", finding_details(findings))
    _keep(system, application)
    return system.parts.window_announcement(system, application)


def _keep(system: ReferenceSystem, application: dict[str, Any]) -> None:
    """The window application, kept as received (APP-07 answers for it from now on)."""
    number, received_at = application["application_no"], application["submitted_at"]
    system.store.execute(
        "INSERT INTO applications (application_no, body, received_at, answer, updated_at) VALUES (?, ?, ?, ?, ?)",
        number,
        json.dumps(application, ensure_ascii=False),
        received_at,
        json.dumps({"application_no": number, "received_at": received_at, "status": "received"}),
        received_at,
    )


def _window_application(system: ReferenceSystem, params: dict[str, Any], channel: str) -> dict[str, Any]:
    """The clerk's entry as an application, under the next number of the window's channel (CODE-05)."""
    number = system.parts.window_number(
        system.parts.window_division(system),
        system.parts.window_digit(channel),
        today_cn(),
        system.registration.dept_seq,
        system.parts.window_serial(system),
    )
    return {
        **params,
        "application_no": number,
        "channel": channel,
        "submitted_at": now_text(),
        "division_code": params.get("division_code", system.registration.division_code),
    }


def announce(system: ReferenceSystem, application: dict[str, Any]) -> dict[str, Any]:
    """APP-06: the window application is announced with its SB, like any step."""
    return event_answer(record_event(system, application["application_no"], "SB", application, handler=CLERK))
