"""Chapter 2: codes — the numbers a system issues and the codes it takes at its own window (CODE-01…09)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any, TypeVar

import pytest

from yzw.client import SignedClient
from yzw.codes import compose
from yzw.codes.calendar import promised_due_at
from yzw.codes.checksums import mod_11_2_check, uscc_check
from yzw.codes.lists import national_divisions
from yzw.codes.times import CN_TZ, today_cn
from yzw.conformance.checks.answers import answered, equal
from yzw.conformance.checks.codes import code
from yzw.conformance.checks.events import times_in_zone
from yzw.conformance.checks.licenses import licenses_sent_on_approval
from yzw.conformance.driver import Driver, HttpDriver, seen
from yzw.conformance.nodes import Nodes, Push, distinct
from yzw.conformance.scenario import APPLICATIONS, TAKEN, Scenario
from yzw.conformance.violations import Violation
from yzw.fixtures.defects import invalid_value
from yzw.run.items import FILE_MATERIAL, INSTANT, PUBLIC_SERVICE, SUB_ITEM
from yzw.run.target import Target

ELSEWHERE_DAY = dt.date(2025, 9, 26)  # a driver's calendar_date far from today (CODE-08's first vector)
TAKE_AT_WINDOW = "take a valid window or agent-point application and answer the number issued (APP-06)"
REFUSE_AT_WINDOW = "check the code when the clerk types it and refuse the application with 422 naming the field"


def _refused_at_window(scenario: Scenario, where: str, value: str, applicant: str = "person") -> None:
    params = scenario.window_params(applicant)
    params["applicant"][where] = value
    answer, _ = scenario.window_apply(params)
    answered(seen(answer, "refused the window application"), (400, 422), fix=REFUSE_AT_WINDOW)


def _taken_at_window(scenario: Scenario, changes: dict[str, str], applicant: str, what: str) -> None:
    params = scenario.window_params(applicant)
    params["applicant"] |= changes
    answer, _ = scenario.window_apply(params)
    answered(
        seen(answer, f"took the window application of {what}"),
        200,
        fix=f"take the window application of {what}: a valid code of the norm's list is not refused",
    )


def _id_ending_in_x(scenario: Scenario) -> str:
    """A valid ID number whose check character is X (value 10)."""
    fake = scenario.factory.fake
    body = next(b for b in (fake.id_number()[:14] + f"{n:03d}" for n in range(1, 1000)) if mod_11_2_check(b) == "X")
    return body + "X"


def _id_of_abolished_division() -> tuple[str, str]:
    """A valid ID number of a person born in a division abolished since (GB/T 2260, CODE-01 "historical"), the
    province's own first: the number and what it is."""
    abolished = sorted(
        (d for d in national_divisions().values() if d.last_year is not None and d.last_year > 1990),
        key=lambda d: (not d.code.startswith("33"), d.code),
    )[0]
    number = compose.id_number(abolished.code, dt.date(1980, 5, 17), 123)
    return number, f"{abolished.code} {abolished.name}, abolished {abolished.last_year}"


@pytest.mark.requirement(
    "CODE-01", clauses=["CODE-01.1", "CODE-01.2", "CODE-01.3", "CODE-01.5", "CODE-01.6", "CODE-01.7", "CODE-01.8"]
)
def test_window_application_with_a_bad_id_number_is_refused(scenario: Scenario) -> None:
    """Each defect of CODE-01 is refused at the window; a valid number ending in X, and one of a person born in
    a division abolished since, are taken."""
    x = _id_ending_in_x(scenario)
    _taken_at_window(scenario, {"id_number": x}, "person", f"an ID number ending in X ({x})")
    historical, division = _id_of_abolished_division()
    _taken_at_window(
        scenario, {"id_number": historical}, "person", f"an ID number of a historical division ({division})"
    )
    for defect in ("check", "length", "charset", "future_birth_date", "division"):
        _refused_at_window(scenario, "id_number", invalid_value(scenario.factory.fake, "id_number", defect).value)


CODE_01_VECTOR = "11010519491231002X"  # the norm's vector: a citizen of Beijing 朝阳区
NO_COUNTY = ("330199", "110199")  # a real province and city, no such county (GB/T 2260 has neither)


def _id_with_birth(division: str, birth: str, sequence: int = 123) -> str:
    """An ID number of `division` with the birth date part `birth` (YYYYMMDD, a real day or not), its check right."""
    body = f"{division}{birth}{sequence:03d}"
    return body + mod_11_2_check(body)


@pytest.mark.requirement("CODE-01", clauses=["CODE-01.6", "CODE-01.7", "CODE-01.8"])
def test_window_takes_ids_of_the_whole_country(scenario: Scenario) -> None:
    """The first six digits are any division code of GB/T 2260, not the province's: the norm's vector (Beijing),
    a legal representative born in Shenzhen and a person born in 崇文区 (Beijing, abolished 2010) are taken; a
    code of a real province and city but no county is refused."""
    people = {
        f"an ID number of Beijing, the norm's vector ({CODE_01_VECTOR})": CODE_01_VECTOR,
        "an ID number of 110103 崇文区 (Beijing, abolished 2010)": compose.id_number("110103", dt.date(1975, 3, 8), 42),
    }
    for what, number in people.items():
        _taken_at_window(scenario, {"id_type": "111", "id_number": number}, "person", what)
    params = scenario.window_params("legal")
    shenzhen = compose.id_number("440305", dt.date(1968, 7, 1), 315)
    params["applicant"]["legal_rep"] |= {"id_type": "111", "id_number": shenzhen}
    answer, _ = scenario.window_apply(params)
    answered(
        seen(answer, f"took the window application of a company whose representative was born in 南山区 ({shenzhen})"),
        200,
        fix="take any valid ID number: its first six digits are a division code of the whole country (GB/T 2260)",
    )
    for division in NO_COUNTY:
        _refused_at_window(scenario, "id_number", _id_with_birth(division, "19800517"))


@pytest.mark.requirement("CODE-01", clauses=["CODE-01.4", "CODE-01.5"])
def test_window_takes_every_real_birth_day_up_to_today(scenario: Scenario) -> None:
    """The birth date is a real day not after today (+08:00): 29 February of a leap year and today are taken,
    29 February 1900 (no leap year) is refused."""
    division = scenario.target.registration.division_code
    for birth in ("19960229", "20000229", f"{today_cn():%Y%m%d}"):
        number = _id_with_birth(division, birth)
        _taken_at_window(scenario, {"id_type": "111", "id_number": number}, "person", f"an ID number born {birth}")
    _refused_at_window(scenario, "id_number", _id_with_birth(division, "19000229"))


@pytest.mark.requirement("CODE-09", clauses=["CODE-09.18"])
def test_window_takes_a_representative_of_any_certificate(scenario: Scenario) -> None:
    """CODE-01 applies to 111 numbers only, a legal representative's too: a passport or a foreigner's permanent
    residence card on the representative is taken with its own number."""
    for id_type, number in (("414", "E12345678"), ("553", CERTIFICATES["553"])):
        params = scenario.window_params("legal")
        params["applicant"]["legal_rep"] |= {"id_type": id_type, "id_number": number}
        answer, _ = scenario.window_apply(params)
        answered(
            seen(answer, f"took the window application of a company whose representative holds {id_type} {number}"),
            200,
            fix="judge a representative's number as an ID number (CODE-01) only when its id_type is 111",
        )


@pytest.mark.requirement("CODE-02", clauses=["CODE-02.1", "CODE-02.2", "CODE-02.3"])
def test_window_application_with_a_bad_credit_code_is_refused(scenario: Scenario) -> None:
    for defect in ("check", "length", "charset"):
        bad = invalid_value(scenario.factory.fake, "uscc", defect).value
        _refused_at_window(scenario, "uscc", bad, applicant="legal")


def _gb11714_check(body: str) -> str:
    """The check character of an organisation code (GB 11714: weights 3 7 9 10 5 8 4 2, 10 → X, 11 → 0)."""
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def _organisation_body(scenario: Scenario) -> str:
    """Eight digits of an organisation code: each credit code below differs from an ordinary one in one way only."""
    return f"{scenario.factory.fake.random_int(10000000, 99999999)}"


def _uscc_checking_to_0(scenario: Scenario) -> str:
    """A valid USCC whose Σ ci·Wi mod 31 is 0, so that C18 = 31, written 0 (CODE-02)."""
    start = int(_organisation_body(scenario))
    firsts = (
        "91" + scenario.target.registration.division_code + body + _gb11714_check(body)
        for body in (f"{(start + n) % 100000000:08d}" for n in range(10000))
    )
    return compose.uscc(next(first for first in firsts if uscc_check(first) == "0"))


def _uscc_without_division(scenario: Scenario) -> str:
    """A valid USCC whose positions 3-8 are letters, no division code."""
    body = _organisation_body(scenario)
    return compose.uscc("91HJKLMN" + body + _gb11714_check(body))


def _uscc_with_failing_organisation_code(scenario: Scenario) -> str:
    """A valid USCC whose embedded organisation code fails its own GB 11714 check (an early pilot code)."""
    body = _organisation_body(scenario)
    wrong = next(c for c in "0123456789" if c != _gb11714_check(body))
    return compose.uscc("91" + scenario.target.registration.division_code + body + wrong)


CODE_02_VECTOR = "91350100M000100Y43"  # the norm's vector: letters in the organisation code part


@pytest.mark.requirement("CODE-02", clauses=["CODE-02.4", "CODE-02.6", "CODE-02.7", "CODE-02.8"])
def test_window_takes_every_credit_code_the_rule_allows(scenario: Scenario) -> None:
    """Only the character set, the length and C18 are judged: a code whose C18 is 0 (31 read as 0), one without a
    division in positions 3-8, one whose organisation code fails GB 11714 and the norm's vector are taken."""
    codes = {
        "a check character 0 (Σ mod 31 = 0)": _uscc_checking_to_0(scenario),
        "letters where a division code would be (positions 3-8)": _uscc_without_division(scenario),
        "an organisation code failing GB 11714": _uscc_with_failing_organisation_code(scenario),
        "the norm's vector": CODE_02_VECTOR,
    }
    for what, uscc in codes.items():
        _taken_at_window(scenario, {"uscc": uscc}, "legal", f"a legal applicant with {what} ({uscc})")


@pytest.mark.requirement("CODE-09", clauses=["CODE-09.15", "CODE-09.17"])
def test_window_application_with_an_unknown_certificate_type_is_refused(scenario: Scenario) -> None:
    _refused_at_window(scenario, "id_type", "112")
    _refused_at_window(scenario, "kind", "1", applicant="legal")  # 1 is a natural person, not a legal-person kind


CERTIFICATES = {  # CODE-09: every certificate type of the list but 111 and 414 (APP-03 takes those), with a number
    "113": "",
    "513": "C12345678",
    "516": "H0123456700",
    "511": "01234567",
    "553": "USA110075010101",
    "990": "QT-2026-0001",
}


@pytest.mark.requirement(
    "CODE-09",
    clauses=[
        "CODE-09.2",
        "CODE-09.4",
        "CODE-09.5",
        "CODE-09.6",
        "CODE-09.7",
        "CODE-09.8",
        "CODE-09.10",
        "CODE-09.11",
        "CODE-09.12",
        "CODE-09.14",
    ],
)
def test_window_application_of_every_certificate_type_and_legal_kind_is_taken(scenario: Scenario) -> None:
    for id_type, example in CERTIFICATES.items():
        number = scenario.factory.fake.id_number() if id_type == "113" else example  # 户口簿: the citizen ID number
        _taken_at_window(scenario, {"id_type": id_type, "id_number": number}, "person", f"certificate type {id_type}")
    for kind in ("3", "4", "5", "9"):
        _taken_at_window(scenario, {"kind": kind}, "legal", f"a legal applicant of kind {kind}")


@pytest.mark.requirement("CODE-04", clauses=["CODE-04.1", "CODE-04.2", "CODE-04.4", "CODE-04.5", "CODE-04.6"])
def test_events_carry_the_items_implementation_code(scenario: Scenario) -> None:
    """The SL of an online application and the SB of a window application (whose item the clerk picked) carry a
    CODE-04 implementation code."""
    _, sl = scenario.accepted()
    code("item_code", sl.event.get("item_code"), "the item_code of the SL event")
    _, number = scenario.window_apply(scenario.window_params())
    if number is not None:  # a window application not taken is APP-06's
        sb = scenario.pushed(str(number), "SB")
        code("item_code", sb.event.get("item_code"), f"the item_code of the SB event of window application {number}")


KINDS_OF_ITEM = {
    "public service": ("a 公共服务 item (type 20)", PUBLIC_SERVICE),
    "instant": ("a 即办件 (case kind 1)", INSTANT),
    "sub-item": ("a sub-item (sub-item number not 000)", SUB_ITEM),
}


@pytest.mark.requirement("CODE-04", clauses=["CODE-04.3", "CODE-04.7", "CODE-04.8"])
@pytest.mark.parametrize("kind", list(KINDS_OF_ITEM))
def test_items_of_every_type_and_case_kind_are_handled(scenario: Scenario, kind: str) -> None:
    """A 公共服务 item (type 20), a 即办件 (case kind 1, promised_days 0) and a sub-item of the department's own
    catalogue are taken and accepted like any other: SL names the item and its promised_days. A department without
    such an item: not applicable (the kit never invents one)."""
    what, need = KINDS_OF_ITEM[kind]
    item = scenario.use(need)
    application = scenario.application(item=item)
    number = application["application_no"]
    answered(scenario.submit(application), TAKEN, fix=f"take applications for every item of the catalogue, {what} too")
    scenario.driver.act("accept", number)
    sl = scenario.pushed(number, "SL")
    equal(
        f"the SL of {what} (item_code, promised_days)",
        (sl.event.get("item_code"), (sl.event.get("payload") or {}).get("promised_days")),
        (item["item_code"], item["promised_days"]),
        fix=f"handle {what} like any item: accept it under its own code with the catalogue's promised_days",
        where=f"SL of {number}",
    )


@pytest.mark.requirement(
    "CODE-05",
    clauses=[
        "APP-06.1",
        "APP-06.2",
        "APP-06.3",
        "CODE-05.1",
        "CODE-05.3",
        "CODE-05.7",
        "CODE-05.9",
        "CODE-05.11",
        "CODE-05.12",
        "CODE-05.13",
        "CODE-05.14",
        "CODE-05.19",
        "CODE-05.21",
    ],
)
def test_window_and_agent_numbers_are_the_systems_own_and_never_repeat(scenario: Scenario, target: Target) -> None:
    """Numbers the system issues itself: its own division, the channel's digit (3 window, 5 agent point), its
    dept_seq before a daily sequence, today's date (+08:00: the day turns at midnight in Beijing, not in UTC), the
    check character; no number twice."""
    registration = target.registration
    issued: list[str] = []
    for channel in ("window", "agent", "window"):
        before = today_cn()
        answer, number = scenario.window_apply(scenario.window_params(channel=channel))
        answered(
            seen(answer, f"issued an application_no for an application of channel {channel}"), 200, fix=TAKE_AT_WINDOW
        )
        code(
            "application_no",
            number,
            f"the application_no the system issued for an application of channel {channel}",
            channel=channel,
            dept_seq=registration.dept_seq,
            division_code=registration.division_code,
        )
        days = {before.strftime("%Y%m%d"), today_cn().strftime("%Y%m%d")}
        if number is not None and str(number)[7:15] not in days:
            raise Violation(
                "the application_no is not dated on the day it was issued (+08:00)",
                f"date part {' or '.join(sorted(days))} (today at +08:00)",
                f"{str(number)[7:15]} in {number}",
                "date the numbers issued on today's date at +08:00; the day turns at midnight in Beijing",
                f"the number issued for an application of channel {channel}",
            )
        issued.append(str(number))
    for _ in range(_more_until_check_x(scenario, issued[-1], 18, 22)):  # CODE-05.14: the check value 10 is written X
        answer, number = scenario.window_apply(scenario.window_params())
        answered(seen(answer, "issued an application_no for a window application"), 200, fix=TAKE_AT_WINDOW)
        code(
            "application_no",
            number,
            "a window application_no whose check value is 10 (written X)",
            channel="window",
            dept_seq=registration.dept_seq,
            division_code=registration.division_code,
        )
        issued.append(str(number))
        if mod_11_2_check(str(number)[:22]) == "X":
            break
    for answer, number in _at_once(scenario, lambda _: scenario.window_apply(scenario.window_params()), AT_ONCE):
        answered(
            seen(answer, "issued an application_no for one of several window applications"), 200, fix=TAKE_AT_WINDOW
        )
        where = f"the application_no issued for one of {AT_ONCE} window applications taken at the same moment"
        code(
            "application_no",
            number,
            where,
            channel="window",
            dept_seq=registration.dept_seq,
            division_code=registration.division_code,
        )
        issued.append(str(number))
    equal(
        "the application numbers issued",
        len(set(issued)),
        len(issued),
        fix="give every application a new number: the dept_seq and a daily sequence that never repeats, also when "
        "several clerks take applications at the same moment (draw the sequence in one atomic step)",
        where=f"window_apply one after another and {AT_ONCE} at once: {', '.join(issued)}",
    )


@pytest.mark.requirement("CODE-05", clauses=["CODE-05.16"])
@pytest.mark.parametrize("channel", ["app", "terminal"])
def test_online_applications_keep_the_platforms_number(scenario: Scenario, channel: str) -> None:
    """An application of the mobile app or a self-service terminal is numbered by the unified application system:
    the system keeps that number, its SL carries it (the web's is judged in every chapter)."""
    application = scenario.submitted(channel=channel)
    number = application["application_no"]
    answer = scenario.driver.act("accept", number)
    if answer is not None and answer.status_code == HTTPStatus.NOT_FOUND:
        raise Violation(
            f"the system does not know an application of channel {channel} under the platform's number",
            f"accept of {number} answered 200 (the number the platform issued and forwarded)",
            f"{answer.status_code} {answer.text[:160]}",
            "keep the platform's application_no of an online application (channels 1, 2, 4): issue none of your own",
            f"the driver's accept of {number}",
        )
    sl = scenario.pushed(number, "SL")
    equal(
        f"the application_no of the SL of an application of channel {channel}",
        sl.event.get("application_no"),
        number,
        fix="keep the platform's application_no of an online application (channels 1, 2, 4): issue none of your own",
        where=f"the SL of {number}",
    )


@pytest.mark.requirement(
    "CODE-06",
    clauses=[
        "ACC-02.2",
        "ACC-04.13",
        "CODE-06.1",
        "CODE-06.2",
        "CODE-06.3",
        "CODE-06.4",
        "CODE-06.5",
        "CODE-06.8",
        "CODE-06.9",
        "CODE-06.10",
        "CODE-06.11",
        "CODE-06.13",
    ],
)
def test_case_numbers_are_new_increasing_and_dated_on_acceptance(
    scenario: Scenario, target: Target, driver: Driver
) -> None:
    """Two acceptances of one department: each case_no follows the rule with the system's division and
    dept_seq, carries the acceptance day (+08:00; not the day the application was submitted, the second one
    yesterday; a driver's calendar_date moves only the due time, §11), is new, and the daily serial increases."""
    registration = target.registration
    before = today_cn()
    _, first, _ = scenario.case()
    yesterday = dt.datetime.now(CN_TZ).replace(microsecond=0) - dt.timedelta(days=1)
    second_application = scenario.submitted(submitted=yesterday)  # submitted one day, accepted the next
    number = second_application["application_no"]
    driver.act("accept", number, calendar_date=ELSEWHERE_DAY.isoformat())
    second = scenario.pushed(number, "SL")
    after = today_cn()
    numbers = []
    for push in (first, second):
        where = f"the case_no of the SL event of {push.event.get('application_no')}"
        case_no = push.event.get("case_no")
        code("case_no", case_no, where, division_code=registration.division_code, dept_seq=registration.dept_seq)
        days = {before.strftime("%Y%m%d"), after.strftime("%Y%m%d"), _day_of(push.event.get("occurred_at"))}
        if str(case_no)[9:17] not in days:
            raise Violation(
                "the case_no is not dated on the acceptance day",
                f"date part {' or '.join(sorted(d for d in days if d))} (the acceptance day, +08:00)",
                str(case_no)[9:17],
                "date the case_no on the day of acceptance in +08:00; a calendar_date moves only promised_due_at",
                where,
            )
        numbers.append(str(case_no))
    for _ in range(_more_until_check_x(scenario, numbers[-1], 17, 23)):  # CODE-06.5: the check value 10 is written X
        number = scenario.submitted()["application_no"]
        driver.act("accept", number)
        case_no = scenario.pushed(number, "SL").event.get("case_no")
        where = f"the case_no of the SL event of {number}, whose check value is 10 (written X)"
        code("case_no", case_no, where, division_code=registration.division_code, dept_seq=registration.dept_seq)
        numbers.append(str(case_no))
        if mod_11_2_check(str(case_no)[:23]) == "X":
            break
    together = [scenario.submitted()["application_no"] for _ in range(AT_ONCE if isinstance(driver, HttpDriver) else 0)]
    for answer in _at_once(scenario, lambda number: driver.act("accept", number), together):
        answered(seen(answer, "accepted one of several applications at the same moment"), 200, fix="accept it")
    at_once = [str(scenario.pushed(number, "SL").event.get("case_no")) for number in together]
    for number, case_no in zip(together, at_once, strict=True):
        where = f"the case_no of {number}, one of {AT_ONCE} applications accepted at the same moment"
        code("case_no", case_no, where, division_code=registration.division_code, dept_seq=registration.dept_seq)
    equal(
        f"the count of distinct new case numbers given to {AT_ONCE} applications accepted at the same moment",
        len(set(at_once) - set(numbers)),
        len(together),
        fix="never give two cases one number: draw the daily serial in one atomic step (a sequence or a locked "
        "counter), not as the highest serial so far plus one",
        where=f"accept of {', '.join(together)} at once: {', '.join(at_once)}",
    )
    if numbers[0] == numbers[1] or (numbers[0][9:17] == numbers[1][9:17] and numbers[1][17:23] <= numbers[0][17:23]):
        raise Violation(
            "case numbers of one department and day do not increase",
            f"a serial after {numbers[0][17:23]} for the acceptance after {numbers[0]}",
            numbers[1],
            "keep one persistent daily serial per department and never reuse a number",
            "two acceptances in a row",
        )


T = TypeVar("T")
AT_ONCE = 8  # clerks acting at the same moment (CODE-05.13, CODE-06.8)


def _at_once(scenario: Scenario, act: Callable[[Any], T], arguments: Iterable[Any] | int) -> list[T]:
    """`act` over the arguments (or as many times) all at the same moment through the system's driver; nothing
    through a driver that is a person, who cannot act eight times at once."""
    work = list(range(arguments)) if isinstance(arguments, int) else list(arguments)
    if not isinstance(scenario.driver, HttpDriver):
        return []
    with ThreadPoolExecutor(len(work)) as pool:
        return list(pool.map(act, work))


def _more_until_check_x(scenario: Scenario, number: str, start: int, stop: int) -> int:
    """As many more numbers as the system's driver is asked for to reach the check value 10; none of a person."""
    return _serials_until_check_x(number, start, stop) if isinstance(scenario.driver, HttpDriver) else 0


def _serials_until_check_x(number: str, start: int, stop: int, most: int = 30) -> int:
    """How many more numbers a system counting its serial (positions start+1 … stop) up by one issues before one
    whose MOD 11-2 check value is 10, written X (CODE-05, CODE-06): 0 when `number` is no number or none comes
    within `most` (27 at most, whatever the day). A system counting otherwise is judged on the numbers it gives."""
    body = number[:-1]
    if not number[start:stop].isdigit():
        return 0
    serial, width = int(number[start:stop]), stop - start
    for count in range(1, most + 1):
        if mod_11_2_check(body[:start] + f"{serial + count:0{width}d}" + body[stop:]) == "X":
            return count
    return 0


def _day_of(text: object) -> str:
    try:
        return dt.datetime.fromisoformat(str(text)).astimezone(CN_TZ).strftime("%Y%m%d")
    except ValueError:
        return ""


def _steps_of(scenario: Scenario, number: str, step: str) -> list[Push]:
    """The first push of `step` of the application, as a list: empty when none came (another rule judges that)."""
    return [p for p in distinct(scenario.steps(number, step)) if p.event.get("step") == step][:1]


@pytest.mark.requirement("CODE-06", clauses=["CODE-06.7"])
def test_no_case_no_before_acceptance(scenario: Scenario, sut: SignedClient, target: Target) -> None:
    """A window application's SB, and an online application's BZ and BZJ, come before any acceptance: their
    case_no is null (CODE-06: the case_no is assigned at acceptance)."""
    scenario.prefer(FILE_MATERIAL)
    before_sl: list[Push] = []
    _, window_no = scenario.window_apply(scenario.window_params())
    if window_no is not None:  # a window application not taken is APP-06's
        before_sl.append(scenario.pushed(str(window_no), "SB"))
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    if files:
        number = scenario.submitted(omit=tuple(files[:1]))["application_no"]
        scenario.driver.act("accept", number)
        notices = _steps_of(scenario, number, "BZ")  # a notice or supplements not pushed are ACC-01's, ACC-05's
        before_sl += notices
        more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] in files[:1]]}
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more)
        if notices and notices[0].accepted:  # after a BZ the exchange refused, the system holds BZJ back (EVT-07)
            before_sl += _steps_of(scenario, number, "BZJ")
    if not before_sl:
        pytest.skip("not-applicable: no window application was taken and the item requires no file material")
    for push in before_sl:
        if push.event.get("case_no") is not None:
            raise Violation(
                f"a case_no exists before acceptance: the {push.event.get('step')} event carries one",
                "case_no null before SL",
                push.event.get("case_no"),
                "assign the case_no at acceptance (SL), never when the application is taken or waits for materials",
                f"the {push.event.get('step')} event of {push.event.get('application_no')}",
            )


@pytest.mark.requirement(
    "CODE-07",
    clauses=[
        "CODE-07.1",
        "CODE-07.2",
        "CODE-07.3",
        "CODE-07.4",
        "CODE-07.5",
        "CODE-07.6",
        "CODE-07.7",
        "CODE-07.8",
        "CODE-07.9",
        "CODE-07.10",
        "CODE-07.11",
        "LIC-01.3",
    ],
)
def test_e_license_identifiers_follow_gb_t_36904(
    scenario: Scenario, platform: Nodes, driver: Driver, target: Target
) -> None:
    """The license_id follows GB/T 36904: its type code is the item's license_type, its issuer the system's
    department, and a new license is version 001."""
    for license_ in licenses_sent_on_approval(scenario, platform, driver):
        license_id = license_.get("license_id")
        where = "the license the system issued to the library"
        code("license_id", license_id, where)
        type_code, issuer, _, version, _ = str(license_id)[len("1.2.156.3005.2.") :].split(".")
        expected = {
            "the type code (the item's license_type)": scenario.item["license_type"],
            "the issuer (the issuing department's USCC)": target.registration.dept_uscc,
            "the version of a new license": "001",
        }
        for (what, wanted), received in zip(expected.items(), (type_code, issuer, version), strict=True):
            if received != wanted:
                raise Violation(
                    f"{what} of the license_id is wrong",
                    wanted,
                    f"{received} in {license_id}",
                    "build the license_id from the item's license_type, the department's own USCC, the serial and "
                    "version 001 for a first issue (GB/T 36904)",
                    where,
                )


YEAR_END = dt.date(2025, 12, 31)  # CODE-08's third vector: the count runs into the next year's calendar
WITHIN_A_YEAR = dt.date(2026, 9, 29)  # the control: a count that stays in one year (ACC-04's, not CODE-08's)


@pytest.mark.requirement("CODE-08", clauses=["CODE-08.1", "CODE-08.2", "CODE-08.3", "CODE-08.4", "CODE-08.12"])
def test_event_times_are_rfc3339_in_beijing_time(
    scenario: Scenario, driver: Driver, sut: SignedClient, target: Target
) -> None:
    """Every time the system writes: those of every event of a completed case and of a window application refused
    (SB, BYSL: the SB's submitted_at is the system's own), refused pushes included, and the status answer's
    updated_at (CODE-08.4); then the working-day count across a year end."""
    application, pushes = scenario.completed()
    numbers = [str(application["application_no"])]
    _, window_no = scenario.window_apply(scenario.window_params())
    if window_no is not None:
        driver.act("refuse", window_no, reason="申请事项不属于本机关职权范围")
        pushes = [*pushes, *scenario.steps(window_no, "SB", "BYSL")]
        numbers.append(window_no)
    for path, value, push in times_in_zone(distinct(pushes)):
        code("datetime", value, f"{path} of event {push.event.get('step')}")
    for number in numbers:
        answer = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{number}")
        body = answer.json() if answer.status_code == 200 else None  # the status query itself is APP-07's
        if isinstance(body, dict) and "updated_at" in body:
            code("datetime", body["updated_at"], f"updated_at of GET {APPLICATIONS}/{number}")
    days = int(scenario.item["promised_days"])
    if days == 0:
        return  # a 即办件 is due on its acceptance day: no working day is counted
    control = scenario.submitted()["application_no"]
    driver.act("accept", control, calendar_date=WITHIN_A_YEAR.isoformat())
    counted = (scenario.pushed(control, "SL").event.get("payload") or {}).get("promised_due_at")
    if counted != promised_due_at(WITHIN_A_YEAR, days).isoformat():
        pytest.skip(f"not-applicable: the due time is wrong within one year ({WITHIN_A_YEAR}): ACC-04 judges it")
    number = scenario.submitted()["application_no"]
    driver.act("accept", number, calendar_date=YEAR_END.isoformat())
    due = (scenario.pushed(number, "SL").event.get("payload") or {}).get("promised_due_at")
    expected = promised_due_at(YEAR_END, days).isoformat()
    if due != expected:
        raise Violation(
            "working days are not counted across the year end on the next year's calendar",
            f"{expected} ({days} working days after {YEAR_END}, day 0; New Year's holiday off)",
            due,
            "count working days on each year's State Council calendar, the next year's after 31 December",
            f"payload.promised_due_at of the SL of {number}, accepted with calendar_date {YEAR_END}",
        )


@pytest.mark.requirement("CODE-08", clauses=["CODE-08.5", "CODE-08.6"])
def test_license_times_and_dates_follow_the_rule(scenario: Scenario, platform: Nodes, driver: Driver) -> None:
    """The e-license the system issues carries issued_at as an RFC 3339 time at +08:00 in whole seconds and its
    validity dates as YYYY-MM-DD."""
    for license_ in licenses_sent_on_approval(scenario, platform, driver):
        where = "the license the system issued to the library"
        code("datetime", license_.get("issued_at"), f"issued_at of {where}")
        for member in ("valid_from", "valid_until"):
            if license_.get(member) is not None or member == "valid_from":
                code("date", license_.get(member), f"{member} of {where}")
