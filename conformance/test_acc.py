"""Chapter 7: acceptance — one first decision, the case_no, the SL payload and due time, BZ, refusal (ACC-01…06)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import httpx
import pytest

from yzw.client import SignedClient
from yzw.codes.calendar import default_calendar, promised_due_at
from yzw.codes.times import CN_TZ, today_cn
from yzw.conformance.checks.answers import answered, body_of, equal, json_answer
from yzw.conformance.checks.events import attributed_to, case_steps, field_equal, first_step, schema_valid, with_step
from yzw.conformance.driver import Driver, seen, without_params
from yzw.conformance.nodes import Nodes, Push, distinct
from yzw.conformance.scenario import APPLICATIONS, TAKEN, Scenario
from yzw.conformance.violations import Violation
from yzw.errors import CalendarYearMissing
from yzw.run.items import FILE_MATERIAL, TWO_FILE_MATERIALS, Need
from yzw.run.target import Target

NO_DATE = "2026-02-30"  # §11: a calendar_date that is no date is a bad param (422)
HOLIDAY_EVE = dt.date(2026, 9, 29)  # day 0 two days before the National Day holiday (CODE-08 calendar)
WEEKEND_DAY0 = dt.date(2026, 10, 3)  # a Saturday inside the National Day holiday: still day 0 (ACC-04)
NORM_VECTOR_DAYS = (  # CODE-08's own vectors: day 1 of each is an adjusted working weekend day, whatever promised_days
    dt.date(2025, 9, 26),  # National Day 2025, Sunday 28 September worked
    dt.date(2026, 2, 13),  # Spring Festival 2026 (16-23 February off), Saturday 14 February worked
)
END_OF_DAY = dt.time(23, 59, 59, tzinfo=CN_TZ)
REASON = "申请事项不属于本机关职权范围"
REQUIRED_LICENSE_MATERIAL = Need(
    "requires a license-typed material", lambda i: any(m["required"] and "license_type" in m for m in i["materials"])
)


@pytest.mark.requirement(
    "ACC-01",
    clauses=[
        "ACC-01.2",
        "ACC-01.3",
        "ACC-01.4",
        "ACC-01.8",
        "ACC-01.9",
        "ACC-01.10",
        "ACC-01.12",
        "EVT-01.4",
        "EVT-02.20",
    ],
)
def test_a_refusal_needs_a_reason_and_is_pushed_as_bysl(scenario: Scenario, driver: Driver) -> None:
    """No refusal without a reason (422); BYSL carries it; a decided (accepted) application is 409 before its
    params are judged; an application never received is 404."""
    application = scenario.submitted()
    number = application["application_no"]
    never = scenario.application()["application_no"]
    unknown = driver.act("accept", never)
    if unknown is not None:
        answered(unknown, 404, "APPLICATION_UNKNOWN", fix="answer 404 APPLICATION_UNKNOWN for a number never received")
    bare = driver.act("refuse", number)
    answered(seen(bare, "refused without a reason"), 422, fix="refuse only with a reason (BYSL needs one)")
    refused = driver.act("refuse", number, reason=REASON)
    bysl = scenario.pushed(number, "BYSL")
    _names_the_event(refused, bysl, "refuse", number)
    schema_valid([bysl], "ACC-01")  # EVT-02: the BYSL payload is {reason}, ACC-01's
    if not str((bysl.event.get("payload") or {}).get("reason", "")).strip():
        raise Violation(
            "BYSL carries no reason",
            "payload.reason: the clerk's reason",
            bysl.event.get("payload"),
            "send the refusal's reason",
            f"BYSL of {number}",
        )
    decided = scenario.submitted()["application_no"]  # accepted: decided, and open (ACC-06 judges refused ones)
    driver.act("accept", decided)
    scenario.pushed(decided, "SL")
    late = driver.act("refuse", decided)  # decided, and without a reason: the state is judged first
    if late is not None:
        answered(late, 409, "STATE_INVALID", fix="check the state (409 STATE_INVALID) before the params (422)")


@pytest.mark.requirement("ACC-01", clauses=["ACC-01.1", "ACC-01.6", "ACC-01.11", "ACC-01.12"])
@pytest.mark.side_by_side
def test_one_first_decision_named_by_the_drivers_answer(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """accept without `params` (read as {}) answers 200 naming the SL it queued; a second accept, and a
    request for supplements after it, are 409 and push nothing."""
    number = scenario.submitted()["application_no"]
    first = without_params(driver, "accept", number)
    if first is not None:
        answered(first, 200, fix="read an absent `params` as {} (§11)")
    sl = scenario.pushed(number, "SL")
    if first is not None:
        body = body_of(first) or {}
        equal(
            "the driver's answer to accept",
            {k: body.get(k) for k in ("ok", "application_no", "step", "seq", "event_id")},
            {k: sl.event.get(k) for k in ("application_no", "step", "seq", "event_id")} | {"ok": True},
            fix="answer 200 {ok: true, application_no, step, seq, event_id} naming the event queued (§11)",
            where=f"the driver's accept of {number} vs the SL pushed",
        )
    second = driver.act("accept", number)
    if second is not None:
        answered(second, 409, "STATE_INVALID", fix="take one first decision: a second accept is 409 STATE_INVALID")
    supplement = driver.act("request_supplement", number)  # 补正 after 受理: a second decision too
    if supplement is not None:
        answered(
            supplement,
            409,
            "STATE_INVALID",
            fix="take one first decision: request_supplement on an accepted case is 409 STATE_INVALID (no BZ after SL)",
        )
    pushes = platform.wait_for(lambda: distinct(platform.pushes(number)), lambda found: len(found) > 1, 0.5)
    equal(
        "the events of an application accepted twice",
        case_steps(pushes),
        ["SL"],
        fix="push one SL per application: refuse a second decision",
        where=f"application {number}",
    )


@pytest.mark.requirement(
    "ACC-02", clauses=["ACC-01.1", "ACC-02.1", "ACC-02.3", "APP-05.3", "CODE-06.6", "EVT-01.5", "LIC-02.2", "SIG-02.28"]
)
def test_acceptance_assigns_a_case_no(scenario: Scenario, driver: Driver) -> None:
    application = scenario.submitted()
    answer = driver.act("accept", application["application_no"])
    sl = scenario.pushed(application["application_no"], "SL")
    if not sl.event.get("case_no"):
        raise Violation(
            "SL carries no case_no",
            "the case_no assigned at acceptance (CODE-06)",
            sl.event,
            "assign the case_no when accepting and send it with SL",
            f"SL of {application['application_no']}",
        )
    if answer is not None and answer.status_code == 200 and answer.json().get("case_no") != sl.event["case_no"]:
        raise Violation(
            "the driver and SL name different case numbers",
            sl.event["case_no"],
            answer.json().get("case_no"),
            "assign one case_no per case",
            "driver answer vs SL event",
        )


@pytest.mark.requirement(
    "ACC-03", clauses=["ACC-03.1", "ACC-03.2", "ACC-03.3", "ACC-03.4", "APP-05.3", "EVT-02.21", "LIC-02.2"]
)
def test_the_sl_payload_carries_the_catalogues_days(scenario: Scenario) -> None:
    application, sl = scenario.accepted()
    schema_valid([sl], "ACC-03")  # EVT-02: the SL payload is ACC-03's
    fix = "copy legal_days and promised_days from the catalogue's current version of the item"
    field_equal(sl, "payload.legal_days", scenario.item["legal_days"], fix=fix)
    field_equal(sl, "payload.promised_days", scenario.item["promised_days"], fix=fix)
    field_equal(
        sl, "payload.application_no", application["application_no"], fix="name the application in the SL payload"
    )
    field_equal(sl, "payload.case_no", sl.event.get("case_no"), fix="repeat the case_no in the SL payload")


@pytest.mark.requirement(
    "ACC-04",
    clauses=[
        "ACC-03.6",
        "ACC-04.1",
        "ACC-04.2",
        "ACC-04.3",
        "ACC-04.4",
        "ACC-04.5",
        "ACC-04.6",
        "ACC-04.9",
        "ACC-04.10",
        "ACC-04.11",
        "ACC-04.12",
        "ACC-04.16",
        "CAT-01.4",
        "CODE-08.7",
        "CODE-08.8",
        "CODE-08.9",
        "CODE-08.10",
        "CODE-08.11",
    ],
)
def test_the_promised_due_time_counts_working_days(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """Day 0 before a holiday and on a weekend of the holiday counted on the calendar; a year the calendar lacks
    refused with the year named and no SL."""
    gap = _gap_day()
    orphan = scenario.submitted()["application_no"]
    malformed = driver.act("accept", orphan, calendar_date=NO_DATE)
    if malformed is not None:
        answered(malformed, 422, fix=f"refuse a calendar_date that is no date ({NO_DATE}) with 422, deciding nothing")
    refusal = driver.act("accept", orphan, calendar_date=gap.isoformat())
    if int(scenario.item["promised_days"]) == 0:  # a 即办件 needs no calendar: the next check judges it
        refusal, orphan = None, ""
    for day0 in (HOLIDAY_EVE, WEEKEND_DAY0, *NORM_VECTOR_DAYS):
        application = scenario.submitted()
        accepted = driver.act("accept", application["application_no"], calendar_date=day0.isoformat())
        if _year_not_held(accepted, day0):
            continue  # a past year a system put into service later need not hold (CODE-08: refused, naming it)
        sl = scenario.pushed(application["application_no"], "SL")
        due = promised_due_at(day0, int(scenario.item["promised_days"]))
        field_equal(
            _with_due_time(sl),
            "payload.promised_due_at",
            due.isoformat(),
            fix="count working days on the State Council calendar (holidays and adjusted days), day 0 = the "
            f"acceptance day whatever kind of day it is (here {day0}, {day0:%A})",
        )
    _a_plain_acceptance_counts_from_the_acceptance_day(scenario, driver)
    _a_count_into_a_year_the_calendar_lacks(scenario, driver, platform)
    sls = [p for p in distinct(platform.pushes(orphan)) if p.event.get("step") == "SL"] if orphan else []
    if sls:
        raise Violation(
            "an SL was pushed although its due time needs a year the calendar lacks",
            "no SL: the acceptance is refused (422 CALENDAR_YEAR_MISSING)",
            sls[0].event.get("payload"),
            "never guess working days (weekends only, last year's table): refuse and push nothing",
            f"SL of {orphan}, accepted with calendar_date {gap}",
        )
    if refusal is not None:
        fix = f"refuse an acceptance whose due time needs a year the calendar lacks ({gap.year}): 422"
        answered(refusal, 422, "CALENDAR_YEAR_MISSING", fix=fix)
        if str(gap.year) not in refusal.text:
            raise Violation(
                "the CALENDAR_YEAR_MISSING error does not name the year",
                f"the year {gap.year} in the error's message or details",
                refusal.text[:200],
                "name the missing year in the error, so the operator knows which calendar to load",
                f"the driver's accept of {orphan} with calendar_date {gap}",
            )


def _year_not_held(answer: httpx.Response | None, day0: dt.date) -> bool:
    """The driver refused a day 0 of a past year as a year its calendar lacks (422 naming the year)."""
    return (
        answer is not None
        and day0.year < today_cn().year
        and answer.status_code == 422
        and "CALENDAR_YEAR_MISSING" in answer.text
        and str(day0.year) in answer.text
    )


def _gap_day() -> dt.date:
    """A day of a year no calendar holds yet (the State Council publishes one year ahead)."""
    return dt.date(today_cn().year + 5, 3, 2)


def _a_plain_acceptance_counts_from_the_acceptance_day(scenario: Scenario, driver: Driver) -> None:
    """ACC-04 without a driver's calendar_date: day 0 is the day the application is accepted (+08:00: today, read
    before and after the acceptance, or the SL's own date), not the day it was made. Not judged when that count
    needs a year the kit's calendar lacks (the gap check judges such an acceptance)."""
    days = int(scenario.item["promised_days"])
    before = today_cn()
    try:
        promised_due_at(before + dt.timedelta(days=1), days)
    except CalendarYearMissing:
        return
    application, sl = scenario.accepted()
    days0 = {before, today_cn()}
    with contextlib.suppress(TypeError, ValueError):
        days0.add(dt.datetime.fromisoformat(str(sl.event.get("occurred_at"))).astimezone(CN_TZ).date())
    allowed = sorted(promised_due_at(day0, days).isoformat() for day0 in days0)
    due = (_with_due_time(sl).event.get("payload") or {}).get("promised_due_at")
    if due not in allowed:
        raise Violation(
            "the due time of an acceptance without calendar_date is not counted from the acceptance day",
            f"{' or '.join(allowed)} ({days} working days after day 0 = the acceptance day, {before})",
            due,
            "count from the day the application is accepted (day 0), not from the day it was made or received",
            f"payload.promised_due_at of the SL of {application['application_no']} (submitted_at "
            f"{application['submitted_at']}), accepted without calendar_date",
        )


def _a_count_into_a_year_the_calendar_lacks(scenario: Scenario, driver: Driver, platform: Nodes) -> None:
    """CODE-08: a count from 31 December of the last year the kit's calendar holds runs into the next year: either
    refused naming that year (no SL), or, by a system that holds that year, never counted on weekends only (New
    Year's Day, a public holiday every year, is then a weekday)."""
    days = int(scenario.item["promised_days"])
    day0 = dt.date(default_calendar().years[-1], 12, 31)
    if days == 0:
        return  # a 即办件 counts no working day
    number = scenario.submitted()["application_no"]
    answer = driver.act("accept", number, calendar_date=day0.isoformat())
    where = f"the driver's accept of {number} with calendar_date {day0}, {days} working days"
    if answer is not None and answer.status_code != 200:
        sls = [p for p in distinct(platform.pushes(number)) if p.event.get("step") == "SL"]
        if sls:
            raise Violation(
                "an SL was pushed although the acceptance was refused",
                f"no SL (the answer was {answer.status_code})",
                sls[0].event.get("payload"),
                "refuse an acceptance whose due time needs a year the calendar lacks, and push nothing",
                where,
            )
        if answer.status_code == 422 and str(day0.year + 1) not in answer.text:
            raise Violation(
                "the refusal does not name the year the count runs into",
                f"the year {day0.year + 1} in the error's message or details (day 0 is in {day0.year}, held)",
                answer.text[:200],
                "name the year whose calendar is missing: the one the count reaches",
                where,
            )
        return
    sl_came = with_step("SL")
    if answer is None and not sl_came(platform.wait_for(lambda: platform.pushes(number), sl_came)):
        return  # a person acted, with no driver's answer to read: a refusal shows as no SL, allowed here
    new_year = dt.date(day0.year + 1, 1, 1)
    due = (_with_due_time(scenario.pushed(number, "SL")).event.get("payload") or {}).get("promised_due_at")
    guessed = _weekdays_only(day0, days)
    if new_year.weekday() < 5 and due == guessed.isoformat():
        raise Violation(
            "working days in a year the calendar lacks were counted on weekends only",
            f"422 CALENDAR_YEAR_MISSING naming {day0.year + 1}, or a due time on that year's calendar "
            f"(New Year's Day {new_year} is a public holiday)",
            due,
            "never fall back to weekends only: refuse the acceptance when the count reaches a year not in the "
            "calendar, whatever year day 0 is in",
            where,
        )


def _weekdays_only(day0: dt.date, days: int) -> dt.datetime:
    """The `days`-th Monday-to-Friday after day0, 23:59:59+08:00: the count CODE-08 forbids as a fallback."""
    day = day0
    while days:
        day += dt.timedelta(days=1)
        days -= day.weekday() < 5
    return dt.datetime.combine(day, END_OF_DAY)


@pytest.mark.requirement("ACC-04", clauses=["ACC-04.7", "ACC-04.8"])
def test_a_same_day_item_is_due_at_the_end_of_the_acceptance_day(scenario: Scenario, driver: Driver) -> None:
    """A 即办件 (promised_days 0) is due at 23:59:59+08:00 of day 0, on a weekend and in a year no calendar holds."""
    item = scenario.instant_item()
    for day0 in (WEEKEND_DAY0, _gap_day()):
        number = scenario.submitted(item=item)["application_no"]
        answer = driver.act("accept", number, calendar_date=day0.isoformat())
        if answer is not None and answer.status_code == 409 and _sl_of(scenario, number):
            pytest.skip("not-applicable: the 即办件 was accepted before the driver's accept (ACC-01 judges that)")
        if answer is not None:
            answered(answer, 200, fix=f"accept a 即办件 on any day: it needs no calendar (calendar_date {day0})")
        field_equal(
            _with_due_time(scenario.pushed(number, "SL")),
            "payload.promised_due_at",
            dt.datetime.combine(day0, END_OF_DAY).isoformat(),
            fix="a 即办件 (promised_days 0) is due at the end of the acceptance day itself, whatever kind of day",
        )


@pytest.mark.requirement(
    "ACC-05",
    clauses=[
        "ACC-02.4",
        "ACC-05.1",
        "ACC-05.2",
        "ACC-05.3",
        "ACC-05.4",
        "ACC-05.5",
        "ACC-05.6",
        "ACC-05.7",
        "ACC-05.8",
        "ACC-05.9",
        "ACC-05.10",
        "ACC-05.12",
        "ACC-05.13",
        "EVT-01.2",
        "EVT-01.3",
        "EVT-02.3",
        "EVT-02.18",
        "EVT-02.19",
    ],
)
def test_one_notice_lists_every_missing_material_then_supplements_are_decided(
    scenario: Scenario, driver: Driver, sut: SignedClient, target: Target
) -> None:
    """Two files missing and (when the item takes one) a revoked license: one BZ lists all; supplements before
    the BZ are 409, for an unknown number 404; the answer and BZJ name what came; then SL."""
    scenario.use(TWO_FILE_MATERIALS)
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    application = scenario.submitted(omit=tuple(files[:2]))
    number = application["application_no"]
    licenses = scenario.license_materials(application)[:1]
    for license_ in licenses:
        scenario.nodes.set_license_status(license_["license_id"], "revoked")
    early = _supplied(sut, target, number, scenario.application()["materials"][:1])
    answered(early, 409, "STATE_INVALID", fix="take supplements only while the application waits for them (BZ)")
    stranger = scenario.application()  # never submitted; its materials, as the two omitted may have been all
    unknown = _supplied(sut, target, stranger["application_no"], stranger["materials"][:1])
    answered(unknown, 404, "APPLICATION_UNKNOWN", fix="answer 404 APPLICATION_UNKNOWN for a number never received")
    _answered_bz(
        driver.act("accept", number),
        "accept on an incomplete application",
        "answer accept 200 {ok: true, step: BZ, ...} when it pushes BZ instead of SL (§11)",
        number,
    )
    bz = scenario.came(number, "BZ")  # a BZ not pushed is ACC-01's (the decision pushed)
    schema_valid([bz], "ACC-05")  # EVT-02: the BZ payload is ACC-05's {missing: [{material_code, reason}], notice}
    listed = sorted(_code(m) for m in (bz.event.get("payload") or {}).get("missing", []))
    equal(
        "the materials the BZ notice lists",
        listed,
        sorted(files[:2] + [m["material_code"] for m in licenses]),
        fix="list every missing file and every license that is not valid in one BZ",
        where=f"BZ of {number}",
    )
    catalogue = {m["material_code"]: m for m in scenario.item["materials"]}
    more = [m for m in scenario.application()["materials"] if m["material_code"] in files[:2]]
    more += [scenario.license_for(catalogue[m["material_code"]], application["applicant"]) for m in licenses]
    answer = _supplied(sut, target, number, more)
    answered(answer, 200, fix="take supplements with 200")
    json_answer(answer, "supplements-answer", fix="answer supplements {application_no, status: received, received_at}")
    if not bz.accepted:
        pytest.skip(f"not-applicable: the exchange refused the BZ ({bz.status}), so the BZJ rightly waits (EVT-07)")
    bzj = scenario.pushed(number, "BZJ")
    schema_valid([bzj], "ACC-05")
    equal(
        "the materials the BZJ payload lists",
        sorted(str(_code(m)) for m in (bzj.event.get("payload") or {}).get("materials", [])),
        sorted(m["material_code"] for m in more),
        fix="list the materials supplied in the BZJ payload",
        where=f"BZJ of {number}",
    )
    driver.act("accept", number)
    scenario.pushed(number, "SL")
    answered(  # accepted: no longer waiting for supplements, though it was noticed once (ACC-05.12)
        _supplied(sut, target, number, more[:1]),
        409,
        "STATE_INVALID",
        fix="take supplements only while the application waits for them after a BZ, not once it is accepted",
    )


@pytest.mark.requirement("ACC-05", clauses=["ACC-05.1", "ACC-05.4", "ACC-05.5"])
def test_a_license_typed_material_is_judged_as_given(scenario: Scenario, driver: Driver) -> None:
    """A required license-typed material is a required material like a file: omitted, accept pushes BZ listing
    it. CAT-01's `license_type` names a license the applicant *may* present: the material presented as a
    scanned file (kind file) is present, and accept pushes SL."""
    scenario.use(REQUIRED_LICENSE_MATERIAL)
    code = next(m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" in m)
    lacking = scenario.submitted(omit=(code,))["application_no"]
    _answered_bz(
        driver.act("accept", lacking),
        "accept on an application lacking a required license-typed material",
        "count a required license-typed material absent as missing like a file: push BZ listing it, not SL",
        lacking,
    )
    bz = scenario.came(lacking, "BZ")  # an SL instead fails the driver's answer above; none at all is ACC-01's
    listed = [_code(m) for m in (bz.event.get("payload") or {}).get("missing", [])]
    if code not in listed:
        raise Violation(
            "the BZ does not list a required license-typed material the application lacks",
            f"payload.missing naming {code}",
            listed,
            "list every required material absent, license-typed ones included, in the one BZ",
            f"BZ of {lacking}",
        )
    scanned = scenario.application()
    scanned["materials"] = [_as_scan(m) if m["material_code"] == code else m for m in scanned["materials"]]
    answered(scenario.submit(scanned), TAKEN, fix="take a license-typed material presented as a file (APP-01)")
    number = scanned["application_no"]
    accepted = driver.act("accept", number)
    if accepted is not None:
        equal(
            "the driver's answer to accept on an application whose license-typed material is a scanned file",
            (accepted.status_code, (body_of(accepted) or {}).get("step")),
            (200, "SL"),
            fix="take a license-typed material presented as a scanned file as present (CAT-01: a license the "
            "applicant may present): accept pushes SL",
            where=f"the driver's accept of {number}",
        )
    scenario.pushed(number, "SL")


def _as_scan(material: dict[str, Any]) -> dict[str, Any]:
    """The license-typed material as the applicant's scanned copy (kind file) instead of the e-license."""
    code = material["material_code"]
    file = {"name": f"{code}扫描件.pdf", "size": 204_800, "sm3": "0" * 64, "url": f"https://files.example/{code}.pdf"}
    return {"material_code": code, "name": material["name"], "kind": "file", "file": file}


@pytest.mark.requirement("ACC-01", clauses=["ACC-01.5", "ACC-01.12", "EVT-01.2", "EVT-02.18"])
def test_a_clerks_request_for_supplements_is_pushed_as_bz(scenario: Scenario, driver: Driver) -> None:
    """The clerk asks for supplements (§11 `request_supplement`) on an application lacking a required file:
    200 naming the BZ it queued, and the BZ notice lists the file."""
    scenario.use(FILE_MATERIAL)
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    number = scenario.submitted(omit=(files[0],))["application_no"]
    asked = driver.act("request_supplement", number)
    _answered_bz(
        asked,
        "request_supplement",
        "let the clerk ask for supplements while the application awaits its first decision: push BZ and "
        "answer 200 {ok: true, step: BZ, ...} (§11 request_supplement)",
        number,
    )
    bz = scenario.pushed(number, "BZ")
    _names_the_event(asked, bz, "request_supplement", number)
    listed = [_code(m) for m in (bz.event.get("payload") or {}).get("missing", [])]
    if files[0] not in listed:
        raise Violation(
            "the BZ the clerk asked for does not list the missing material",
            f"payload.missing naming {files[0]}",
            listed,
            "list every missing or invalid material in the BZ (ACC-05)",
            f"BZ of {number}",
        )


@pytest.mark.requirement("ACC-05", clauses=["ACC-05.4", "ACC-05.9", "ACC-05.11", "EVT-02.19", "EVT-03.7"])
def test_supplements_that_leave_a_material_missing_are_noticed_again(
    scenario: Scenario, driver: Driver, sut: SignedClient, target: Target, platform: Nodes
) -> None:
    """Two files missing, one supplied: the second accept pushes another BZ listing the one still missing, no SL;
    the second file supplied, the second BZJ lists it alone (what came, not the file as it now stands)."""
    scenario.use(TWO_FILE_MATERIALS)
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    number = scenario.submitted(omit=tuple(files[:2]))["application_no"]
    driver.act("accept", number)
    decided = platform.wait_for(
        lambda: distinct(platform.pushes(number)), lambda found: first_step(found, ("BZ", "SL")) is not None
    )
    if first_step(decided, ("BZ", "SL")) == "SL":
        raise Violation(
            "an application missing required materials was accepted",
            f"a BZ listing {files[:2]}, no SL while a required material is missing",
            case_steps(decided),
            "never accept an application still missing a required material: notify (BZ) and wait for it (ACC-05)",
            f"application {number}",
        )
    scenario.came(number, "BZ")
    one = [m for m in scenario.application()["materials"] if m["material_code"] == files[0]]
    answered(_supplied(sut, target, number, one), 200, fix="take supplements with 200 while the application waits")
    scenario.came(number, "BZJ")
    again = driver.act("accept", number)
    pushes = distinct(
        platform.wait_for(
            lambda: platform.pushes(number),
            lambda found: len([p for p in distinct(found) if p.event.get("step") in ("SL", "BZ")]) > 1,
        )
    )
    later = [p for p in pushes if p.event.get("step") in ("SL", "BZ")][1:]  # after the first BZ
    if not later:
        raise Violation(
            "the second accept of an application still missing a material pushed nothing",
            f"a second BZ listing {files[1]}",
            case_steps(pushes),
            "decide again on the completed application: BZ for what is still missing (ACC-05)",
            f"application {number}",
        )
    listed = [_code(m) for m in (later[0].event.get("payload") or {}).get("missing", [])]
    said = (body_of(again) or {}).get("step") if again is not None else "BZ"
    equal(
        "the decision on supplements that left a required material missing",
        (later[0].event.get("step"), said, listed),
        ("BZ", "BZ", [files[1]]),
        fix="check the application again after BZJ: a required material still missing gives another BZ listing "
        "it, never SL",
        where=f"application {number} after BZ, BZJ",
    )
    rest = [m for m in scenario.application()["materials"] if m["material_code"] == files[1]]
    answered(_supplied(sut, target, number, rest), 200, fix="take supplements with 200 while the application waits")
    bzjs = [
        p
        for p in distinct(
            platform.wait_for(
                lambda: platform.pushes(number),
                lambda found: len([p for p in distinct(found) if p.event.get("step") == "BZJ"]) > 1,
            )
        )
        if p.event.get("step") == "BZJ"
    ]
    if len(bzjs) > 1:
        equal(
            "the materials the second BZJ payload lists",
            [str(_code(m)) for m in (bzjs[1].event.get("payload") or {}).get("materials", [])],
            [files[1]],
            fix="list in the BZJ payload the materials these supplements brought, not the whole file",
            where=f"the second BZJ of {number}",
        )


@pytest.mark.requirement("ACC-05", clauses=["ACC-05.16", "EVT-01.11", "EVT-03.9"])
@pytest.mark.side_by_side
def test_an_application_waiting_for_supplements_can_be_withdrawn(
    scenario: Scenario, driver: Driver, platform: Nodes
) -> None:
    """BZ, then the applicant withdraws (the supplements never come): 200 and CH, nothing else."""
    scenario.use(FILE_MATERIAL)
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    number = scenario.submitted(omit=(files[0],))["application_no"]
    driver.act("accept", number)
    scenario.came(number, "BZ")
    answer = driver.act("withdraw", number, reason="申请人撤回申请")
    if answer is not None:
        answered(answer, 200, fix="let the applicant withdraw an application waiting for supplements: push CH")
    scenario.came(number, "CH", answer)
    pushes = distinct(platform.wait_for(lambda: platform.pushes(number), lambda found: len(found) > 2, 0.5))
    equal(
        "the events of an application withdrawn while waiting for supplements",
        case_steps(pushes),
        ["BZ", "CH"],
        fix="push CH when the applicant withdraws after a BZ, and nothing after it",
        where=f"application {number}",
    )


@pytest.mark.requirement("ACC-05", clauses=["ACC-05.15", "EVT-01.4", "EVT-03.8"])
def test_an_application_waiting_for_supplements_can_be_refused(scenario: Scenario, driver: Driver) -> None:
    """BZ, then the supplements never come and the clerk refuses: 200 naming the BYSL, pushed right after the BZ."""
    scenario.use(FILE_MATERIAL)
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    number = scenario.submitted(omit=(files[0],))["application_no"]
    driver.act("accept", number)
    scenario.came(number, "BZ")
    answer = driver.act("refuse", number, reason="补正材料逾期未提交")
    if answer is not None:
        equal(
            "the driver's answer to refuse while the application waits for supplements",
            (answer.status_code, (body_of(answer) or {}).get("step")),
            (200, "BYSL"),
            fix="let the clerk refuse an application whose supplements never came: push BYSL right after the BZ",
            where=f"the driver's refuse of {number}",
        )
    scenario.came(number, "BYSL")  # a refusal not pushed is ACC-01's


@pytest.mark.requirement("ACC-01", clauses=["ACC-01.8"])
@pytest.mark.side_by_side
def test_no_decision_is_made_before_a_clerk_acts(
    scenario: Scenario, driver: Driver, platform: Nodes, sut: SignedClient, target: Target
) -> None:
    """A complete application, of the department's usual item and (when it has one) of a 即办件, waits for the
    clerk: no SL, BYSL or BZ before the driver's (or the operator's) decision, which then answers 200. So does
    one whose supplements completed its file (ACC-05: after the BZJ it is decided again, by a clerk)."""
    numbers = [scenario.submitted()["application_no"]]
    instant = [item for item in scenario.nodes.catalogue() if _instant_of(scenario, item)][:1]
    numbers += [scenario.submitted(item=item)["application_no"] for item in instant]
    since = dict.fromkeys(numbers, 0)  # the seq after which a decision would be the system's own
    supplemented = _supplemented(scenario, driver, sut, target)
    if supplemented is not None:
        since[supplemented[0]] = supplemented[1]
    early = platform.wait_for(
        lambda: {n: [p for p in distinct(platform.pushes(n)) if _seq(p) > since[n]] for n in since},
        lambda found: any(first_step(pushes, DECISIONS) is not None for pushes in found.values()),
        DECIDED_ALONE_SECONDS,
    )
    for number, pushes in early.items():
        if first_step(pushes, DECISIONS) is not None:
            raise Violation(
                "the system decided on an application by itself",
                "no SL, BYSL or BZ before a clerk decides (through the driver or at the window)"
                + (", also after the BZJ" if since[number] else ""),
                [f"{p.event.get('step')} by {p.event.get('handler')}" for p in pushes],
                "leave every decision to a clerk: never accept, refuse or notify automatically on receipt or "
                "once supplements complete the file",
                f"application {number}",
            )
    for number in since:
        answer = driver.act("accept", number)
        if answer is not None:
            answered(answer, 200, fix="take the clerk's decision on an application nobody decided yet")


def _supplemented(scenario: Scenario, driver: Driver, sut: SignedClient, target: Target) -> tuple[str, int] | None:
    """An application missing a file, asked for it (BZ), supplemented (BZJ): its number and the BZJ's seq; None
    when the item asks for no file or a step never came (ACC-05 and EVT-01 judge those)."""
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    if not files:
        return None
    number = scenario.submitted(omit=(files[0],))["application_no"]
    driver.act("request_supplement", number)
    if not any(p.event.get("step") == "BZ" for p in scenario.steps(number, "BZ")):
        return None
    more = [m for m in scenario.application()["materials"] if m["material_code"] == files[0]]
    _supplied(sut, target, number, more)
    bzj = [p for p in distinct(scenario.steps(number, "BZJ")) if p.event.get("step") == "BZJ"]
    return (number, _seq(bzj[0])) if bzj else None


def _seq(push: Push) -> int:
    seq = push.event.get("seq")
    return seq if isinstance(seq, int) else 0


DECISIONS = ("SL", "BYSL", "BZ")  # ACC-01: the first decisions, each a clerk's
DECIDED_ALONE_SECONDS = 1.0  # how long a received application is watched for a decision nobody made


def _instant_of(scenario: Scenario, item: dict[str, Any]) -> bool:
    """An active 即办件 (promised_days 0) of the department, other than the item the scenario uses."""
    dept = scenario.target.registration.dept_uscc
    own = (item.get("dept") or {}).get("uscc") == dept
    return own and item.get("status") == "active" and item.get("promised_days") == 0 and item != scenario.item


def _sl_of(scenario: Scenario, number: str) -> list[Any]:
    """The SL pushes of the application (none: an empty list, judged by the caller)."""
    return [p for p in distinct(scenario.steps(number, "SL")) if p.event.get("step") == "SL"]


def _code(material: object) -> object:
    """The material_code of a listed material (the member itself when the list holds no objects: the schema
    check judges that)."""
    return material.get("material_code") if isinstance(material, dict) else material


def _supplied(sut: SignedClient, target: Target, number: str, materials: list[dict[str, object]]) -> httpx.Response:
    """The platform forwards the applicant's supplements (ACC-05)."""
    return sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json={"materials": materials})


AFTER_REFUSAL = (  # every §11 action that would push a step, with the params it takes in a state allowing it
    ("refuse", {"reason": "更正不予受理理由"}),
    ("accept", {}),
    ("request_supplement", {}),
    ("advance", {}),
    ("suspend", {"reason": "等待鉴定", "kind": "鉴定", "expected_days": 5}),
    ("complete", {"result": "approved"}),
    ("deliver", {"method": "pickup"}),
    ("withdraw", {"reason": "申请人撤回"}),
)


@pytest.mark.requirement(
    "ACC-06",
    clauses=[
        "ACC-01.2",
        "ACC-01.8",
        "ACC-06.1",
        "ACC-06.2",
        "ACC-06.3",
        "ACC-06.4",
        "ACC-06.5",
        "ACC-06.6",
        "ACC-06.7",
        "ACC-06.8",
        "ACC-06.9",
        "ACC-06.10",
        "EVT-01.4",
    ],
)
def test_a_refused_application_gets_no_case_no_and_no_further_event(
    scenario: Scenario, driver: Driver, platform: Nodes, sut: SignedClient, target: Target
) -> None:
    """After BYSL nothing moves: every driver action, a second refusal included, is refused (409 STATE_INVALID),
    supplements are refused, the platform's re-send of the number reopens nothing (the first 202 for the same
    body, 409 APPLICATION_CONFLICT for another), no event of any kind follows, the status stays refused, and
    neither BYSL, the driver's answer nor the status query carries a case_no."""
    application = scenario.application()
    first = scenario.submit(application)
    answered(first, (200, 202), fix="take a valid application (APP-01)")
    number = application["application_no"]
    refusal = driver.act("refuse", number, reason=REASON)
    said = body_of(refusal) if refusal is not None and refusal.status_code == 200 else None
    if isinstance(said, dict) and said.get("case_no"):
        raise Violation(
            "the driver's answer to refuse names a case_no",
            'no case_no: a refused application never gets one (the answer is {"ok", "application_no", "step", '
            '"seq", "event_id"})',
            said,
            "leave case_no out of the answer to refuse; draw no number for an application refused before SL",
            f"the driver's refuse of {number}",
        )
    attributed_to([scenario.came(number, "BYSL")], "ACC-06")  # a case_no on BYSL is ACC-06's (norm, key words)
    for action, params in AFTER_REFUSAL:
        later = driver.act(action, number, **params)
        if later is None:
            break  # an operator acts: one refused attempt is enough to ask of a person
        answered(later, 409, "STATE_INVALID", fix=f"refuse `{action}` after BYSL: a refused application ends there")
    more = {"materials": application["materials"][:1]}
    answered(
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more),
        409,
        "STATE_INVALID",
        fix="take no supplements for a refused application",
    )
    _resent_after_refusal(scenario, application, first)
    pushes = platform.wait_for(lambda: platform.pushes(number), lambda found: len(found) > 1, 1.0)
    attributed_to(distinct(pushes), "ACC-06")
    equal(
        "the events of a refused application",
        case_steps(distinct(pushes)),
        ["BYSL"],
        fix="push nothing after BYSL",
        where=f"application {number}",
    )
    status = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{number}")
    body = status.json() if status.status_code == 200 else {}
    if isinstance(body, dict) and status.status_code == 200:
        equal(
            "the status of a refused application the platform sent again",
            body.get("status"),
            "refused",
            fix="keep a refused application refused: a re-send of its number reopens nothing",
            where=f"GET {APPLICATIONS}/{number}",
        )
    if isinstance(body, dict) and body.get("case_no"):
        raise Violation(
            "the status query gives a refused application a case_no",
            "no case_no: a refused application never gets one",
            body,
            "leave case_no out of the status of an application refused before SL",
            f"GET {APPLICATIONS}/{number}",
        )


def _resent_after_refusal(scenario: Scenario, application: dict[str, Any], first: httpx.Response) -> None:
    """The platform sends a refused application again (APP-04): the same body gets the first 202 again, with its
    received_at, and another body under the number 409 APPLICATION_CONFLICT; the number is not filed anew."""
    number = application["application_no"]
    fix = "answer a re-send of a refused number as APP-04 says: the refusal ends the application, not the number"
    again = scenario.submit(application)
    answered(again, first.status_code, fix=fix)
    equal(
        "the received_at of the answer to a refused application sent again",
        _received_at(again),
        _received_at(first),
        fix=fix,
        where=f"POST {APPLICATIONS} {number} after its BYSL",
    )
    changed = {**application, "form": {"changed": "补充后重新申报"}}
    answered(scenario.submit(changed), 409, "APPLICATION_CONFLICT", fix=fix)


def _received_at(answer: httpx.Response) -> object:
    body = body_of(answer)
    return body.get("received_at") if isinstance(body, dict) else None


@pytest.mark.requirement(
    "ACC-06", clauses=["ACC-01.2", "ACC-05.15", "ACC-06.1", "ACC-06.4", "EVT-01.4", "EVT-02.3", "EVT-03.8"]
)
@pytest.mark.side_by_side
def test_an_application_refused_while_waiting_for_supplements_ends_there(
    scenario: Scenario, driver: Driver, platform: Nodes
) -> None:
    """BZ then BYSL (the supplements never came): no case_no, nothing after the refusal."""
    scenario.use(FILE_MATERIAL)
    items = [m for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    number = scenario.submitted(omit=(items[0]["material_code"],))["application_no"]
    driver.act("accept", number)
    scenario.came(number, "BZ")  # a BZ not pushed is ACC-05's
    driver.act("refuse", number, reason="补正材料逾期未提交")
    scenario.came(number, "BYSL")  # a refusal not pushed is ACC-01's
    later = driver.act("accept", number)
    if later is not None:
        answered(later, 409, "STATE_INVALID", fix="allow no further step after BYSL")
    pushes = distinct(platform.wait_for(lambda: platform.pushes(number), lambda found: len(found) > 2, 1.0))
    attributed_to(pushes, "ACC-06")
    equal(
        "the events of an application refused after BZ",
        case_steps(pushes),
        ["BZ", "BYSL"],
        fix="push nothing after BYSL",
        where=f"application {number}",
    )


def _names_the_event(answer: httpx.Response | None, push: Push, action: str, number: str) -> None:
    """§11 / ACC-01.12: a decision's 200 names the event it queued, as pushed (a person's action: no answer)."""
    if answer is not None and answer.status_code == 200:
        body = body_of(answer) or {}
        keys = ("application_no", "step", "seq", "event_id")
        equal(
            f"the driver's answer to {action}",
            {k: body.get(k) for k in ("ok", *keys)},
            {k: push.event.get(k) for k in keys} | {"ok": True},
            fix="answer 200 {ok: true, application_no, step, seq, event_id} naming the event queued (§11)",
            where=f"the driver's {action} of {number} vs the {push.event.get('step')} pushed",
        )


@pytest.mark.requirement("ACC-05", clauses=["ACC-05.1", "ACC-05.4", "ACC-05.5"])
def test_an_application_without_materials_is_asked_for_every_required_one(scenario: Scenario, driver: Driver) -> None:
    """materials [] is valid at intake (MSG-03: an empty list where a list is required); the clerk's accept then
    asks for every required material of the item in one BZ, as for any incomplete application."""
    application = scenario.application()
    application["materials"] = []
    taken = scenario.submit(application)
    if taken.status_code not in (200, 202):
        pytest.skip(f"not-applicable: the application without materials was not taken ({taken.status_code}, MSG-03)")
    number = application["application_no"]
    _answered_bz(
        driver.act("accept", number),
        "accept on an application without materials",
        "judge completeness against the item's required materials, also when none came: 200 {step: BZ}",
        number,
    )
    bz = scenario.came(number, "BZ")
    equal(
        "the materials the BZ notice lists for an application without materials",
        sorted(str(_code(m)) for m in (bz.event.get("payload") or {}).get("missing", [])),
        sorted(str(m["material_code"]) for m in scenario.item["materials"] if m["required"]),
        fix="list every required material of the item in the one BZ",
        where=f"BZ of {number}",
    )


def _answered_bz(answer: httpx.Response | None, action: str, fix: str, number: str) -> None:
    """The driver's 200 names the BZ it queued (§11); a person's action (no driver answer) is judged by the BZ."""
    if answer is not None:
        equal(
            f"the driver's answer to {action}",
            (answer.status_code, (body_of(answer) or {}).get("step")),
            (200, "BZ"),
            fix=fix,
            where=f"the driver's {action.split(maxsplit=1)[0]} of {number}",
        )


def _with_due_time(sl: Push) -> Push:
    """The SL whose promised_due_at ACC-04 judges; `not-applicable` when the payload has none (ACC-03's member)."""
    payload = sl.event.get("payload")
    if not isinstance(payload, dict) or "promised_due_at" not in payload:
        pytest.skip("not-applicable: the SL payload carries no promised_due_at to judge (ACC-03 judges the member)")
    return sl
