"""Chapter 6: unified application intake — taking, refusing, idempotency, licenses, window, status (APP-01…07)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from yzw.client import SignedClient
from yzw.codes import compose
from yzw.codes.checksums import mod_11_2_check
from yzw.codes.lists import code_list, national_divisions, zhejiang_divisions
from yzw.codes.times import CN_TZ, today_cn
from yzw.conformance.checks.answers import answered, body_of, equal, json_answer
from yzw.conformance.checks.events import first_step, with_step
from yzw.conformance.checks.licenses import licenses_verified, verifications
from yzw.conformance.driver import Driver, seen
from yzw.conformance.nodes import Nodes, distinct
from yzw.conformance.scenario import APPLICATIONS, TAKEN, WINDOW_SYSTEM_MEMBERS, Scenario
from yzw.conformance.violations import Violation
from yzw.fixtures.defects import invalid_value
from yzw.run.items import FILE_MATERIAL, LICENSE_MATERIAL, TWO_LICENSE_MATERIALS
from yzw.run.target import SIGNATURE_CODES, Target
from yzw.spec import validate
from yzw.spec.events import status_after
from yzw.spec.limits import limits
from yzw.spec.schemas import schema_documents

EXCHANGE = "/exchange/v1/events"


def _status(sut: SignedClient, target: Target, number: str) -> tuple[int, dict[str, object]]:
    answer = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{number}")
    return answer.status_code, (answer.json() if answer.status_code == 200 else {})


@pytest.mark.requirement(
    "APP-01",
    clauses=[
        "APP-01.1",
        "APP-01.2",
        "APP-01.3",
        "APP-01.4",
        "APP-01.5",
        "APP-01.6",
        "APP-01.7",
        "APP-01.8",
        "APP-01.9",
        "APP-01.11",
        "APP-01.12",
        "APP-01.13",
        "APP-01.14",
        "APP-01.15",
        "APP-01.16",
        "APP-01.17",
        "APP-01.18",
        "APP-01.19",
        "APP-01.20",
        "APP-03.10",
        "CODE-05.5",
        "CODE-05.6",
        "CODE-05.8",
        "CODE-05.16",
        "CODE-08.4",
        "CODE-09.1",
        "MSG-01.1",
        "MSG-03.1",
        "MSG-03.8",
        "SIG-01.11",
        "SIG-01.13",
        "SIG-01.15",
        "SIG-01.16",
        "SIG-01.29",
        "SIG-01.30",
        "SIG-01.31",
        "SIG-01.33",
        "SIG-02.24",
    ],
)
def test_a_valid_application_is_taken_with_202_within_2_s(scenario: Scenario, platform: Nodes) -> None:
    application = scenario.application()
    started = time.monotonic()
    answer = scenario.submit(application)
    seconds = time.monotonic() - started
    answered(answer, 202, fix="answer a valid application 202 {application_no, received_at, status}")
    body = json_answer(answer, "application-answer", fix="answer {application_no, received_at, status: received}")
    equal(
        "application_no in the answer",
        body["application_no"],
        application["application_no"],
        fix="echo the application_no",
        where="the 202 answer",
    )
    if seconds > limits().intake_answer_seconds:
        raise Violation(
            "intake took too long",
            f"≤ {limits().intake_answer_seconds:g} s",
            f"{seconds:.2f} s",
            "answer 202 first, work afterwards",
            "POST /yzw/v1/applications",
        )
    item = platform.create_item(scenario.new_item())  # the system may look it up, still within the 2 s
    unseen = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
    started = time.monotonic()
    answered(scenario.submit(unseen), 202, fix="take a valid application for an item new in the catalogue")
    seconds = time.monotonic() - started
    if seconds > limits().intake_answer_seconds:
        raise Violation(
            "intake took too long for an item it had not seen",
            f"≤ {limits().intake_answer_seconds:g} s, the catalogue lookup included",
            f"{seconds:.2f} s",
            "look an unseen item up with GET /catalog/v1/items/{item_code} (one call), and answer within 2 s",
            "POST /yzw/v1/applications",
        )
    for depth in PARTLY_ONLINE:
        partly = platform.create_item(scenario.new_item() | {"online_depth": depth, "max_visits": 1})
        web = scenario.application() | {"item_code": partly["item_code"], "item_version": partly["version"]}
        answered(
            scenario.submit(web),
            202,
            fix=f"take a web application (channel digit 1) for an item of online_depth {depth} too: the depth "
            "describes the item to the public, and the norm refuses no channel for it",
        )
    for channel, delivery in OTHER_FORMS:
        other = scenario.application(channel=channel) | {"delivery": delivery}
        answered(
            scenario.submit(other),
            202,
            fix=f"take an application on every channel and delivery the norm allows (channel {channel}, "
            f"delivery {delivery['method']}{', with an agent' if 'agent' in other else ''})",
        )
    for form, (applicant, change) in _other_members(scenario).items():
        other = scenario.application(applicant=applicant)
        change(other)
        answered(
            scenario.submit(other),
            202,
            fix=f"take every application APP-01's schema allows: {form} is valid (the norm sets no narrower rule)",
        )


def _other_members(scenario: Scenario) -> dict[str, tuple[str, Callable[[dict[str, Any]], None]]]:
    """Valid members the first application does not show (APP-01): what they are, (the applicant type, the
    change making the application show them)."""
    return {
        "a person applicant with a landline phone": ("person", _with_member("applicant", "phone", "0571-87654321")),
        "a legal applicant whose contact has a landline phone": (
            "legal",
            _with_member("applicant/contact", "phone", "0571-85678901"),
        ),
        "a file material of 300 MB": (
            "person",
            lambda a: _material_of(scenario, a, "file")["file"].update(size=FILE_300_MB),
        ),
        "a license material carrying its scanned copy as well": (
            "person",
            lambda a: _material_of(scenario, a, "license").update(file=_scan()),
        ),
        "a post delivery whose address has no postcode": (
            "person",
            _with_member("delivery", "address", "浙江省杭州市西湖区文三路90号东部软件园1号楼"),
        ),
        "an empty form (an object with no member)": ("person", lambda a: a.__setitem__("form", {})),
        "a form with a number, a boolean, a list and a nested object": (
            "person",
            lambda a: a.__setitem__("form", dict(TYPED_FORM)),
        ),
    }


TYPED_FORM = {  # APP-01's form is an object: its members are the item's, of any JSON type
    "面积": 120.5,
    "连锁": True,
    "经营项目": ["预包装食品", "散装食品"],
    "负责人": {"姓名": "张三", "从业年限": 3},
}


FILE_300_MB = 300 * 1024 * 1024  # the file's declared size: the file itself lies at its url, not in the body


def _with_member(parent: str, member: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(application: dict[str, Any]) -> None:
        node = application
        for name in parent.split("/"):
            node = node[name]
        node[member] = value

    return change


def _scan() -> dict[str, Any]:
    return {"name": "营业执照扫描件.pdf", "size": 204_800, "sm3": "0" * 64, "url": "https://files.example/scan.pdf"}


def _material_of(scenario: Scenario, application: dict[str, Any], kind: str) -> dict[str, Any]:
    """The application's first material of `kind`, one added when it has none (any material is valid at intake)."""
    for material in application["materials"]:
        if material["kind"] == kind:
            return material
    added: dict[str, Any] = {"material_code": f"X{kind.upper()}", "name": "其他材料", "kind": kind}
    if kind == "file":
        added["file"] = _scan()
    else:
        added["license_id"] = scenario.factory.license()["license_id"]
    application["materials"].append(added)
    return added


PARTLY_ONLINE = (2, 3)  # online_depth (CAT-01) of items applied for online with a visit still due (网办深度)
OTHER_FORMS = (  # channels and deliveries the first application does not use (APP-01)
    ("app", {"method": "pickup"}),
    ("terminal", {"method": "electronic"}),
    ("agent", {"method": "pickup"}),  # the platform forwards an agent point's application, with its agent
)


@pytest.mark.requirement("APP-02", clauses=["APP-02.1", "APP-02.2", "APP-02.4", "MSG-03.6"])
def test_an_application_breaking_the_schema_is_refused_and_not_kept(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    application = scenario.application()
    del application["delivery"]
    answered(
        scenario.submit(application), 400, "SCHEMA_INVALID", fix="validate the application against its schema first"
    )
    status, _ = _status(sut, target, application["application_no"])
    equal(
        "the status of a refused application",
        status,
        404,
        fix="keep nothing from a refused application",
        where="GET /yzw/v1/applications/{no}",
    )


def _schema_case(scenario: Scenario, applicant: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A valid application of `applicant`'s type, and the same with one member broken by `change`."""
    application = scenario.application(applicant=applicant)
    broken = copy.deepcopy(application)
    change(broken)
    return {"valid": application, "broken": broken}


def _drop(parent: str, member: str) -> Callable[[dict[str, Any]], None]:
    def change(application: dict[str, Any]) -> None:
        node = application
        for name in parent.split("/") if parent else ():
            node = node[name]
        node.pop(member)

    return change


def _put(member: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda application: application.__setitem__(member, value)


def _material_without(kind: str, member: str) -> Callable[[dict[str, Any]], None]:
    def change(application: dict[str, Any]) -> None:
        material = application["materials"][0]
        material.update({"kind": kind})
        material.pop(member, None)

    return change


def _schema_cases(scenario: Scenario) -> dict[str, tuple[dict[str, Any], str]]:
    """Each violation of APP-01's schema APP-02 names: what breaks, (the valid and the broken application, the
    JSON pointer of what is wrong)."""
    cases: dict[str, tuple[dict[str, Any], str]] = {
        'item_version "1" (a string, not an integer)': (
            _schema_case(scenario, "person", _put("item_version", "1")),
            "/item_version",
        ),
        "a channel outside the norm's list": (_schema_case(scenario, "person", _put("channel", "kiosk")), "/channel"),
        "materials as one material object, not a list": (
            _schema_case(scenario, "person", lambda a: a.__setitem__("materials", a["materials"][0])),
            "/materials",
        ),
        "form as a list, not an object": (
            _schema_case(scenario, "person", lambda a: _put("form", [a["form"]])(a)),
            "/form",
        ),
        "a delivery method outside the norm's list": (
            _schema_case(scenario, "person", _put("delivery", {"method": "courier"})),
            "/delivery/method",
        ),
        "a post delivery without address": (
            _schema_case(scenario, "person", _put("delivery", {"method": "post"})),
            "/delivery",
        ),
        "a file material without its file": (
            _schema_case(scenario, "person", _material_without("file", "file")),
            "/materials/0",
        ),
        "a license material without its license_id": (
            _schema_case(scenario, "person", _material_without("license", "license_id")),
            "/materials/0",
        ),
        "a schema error and a bad ID number (400 comes before 422)": (
            _schema_case(
                scenario,
                "person",
                lambda a: (a.pop("delivery"), a["applicant"].update(id_number=_bad("id_number", "check")(scenario))),
            ),
            "/delivery",
        ),
    }
    person = scenario.application()["applicant"]
    for member in (m for m in person if m != "type"):  # every member of a person applicant is required
        cases[f"a person applicant without {member}"] = (
            _schema_case(scenario, "person", _drop("applicant", member)),
            f"/applicant/{member}",
        )
    for parent, member in (("", "legal_rep"), ("", "contact"), ("legal_rep", "id_number"), ("contact", "phone")):
        where = "/".join(p for p in ("applicant", parent) if p)
        cases[f"a legal applicant without {parent + '.' if parent else ''}{member}"] = (
            _schema_case(scenario, "legal", _drop(where, member)),
            f"/{where}/{member}",
        )
    return cases | _required_member_cases(scenario)


REQUIRED_MEMBERS = tuple(  # APP-01's required top-level members (application_no: ROB-01's malformed-number cases)
    member for member in schema_documents()["application"]["required"] if member != "application_no"
)


def _never_an_item(scenario: Scenario) -> str:
    """A well-formed item code no catalogue holds: sub-item 999, which new_item never hands out (100-989)."""
    return str(scenario.item["item_code"])[:-3] + "999"


def _required_member_cases(scenario: Scenario) -> dict[str, tuple[dict[str, Any], str]]:
    """APP-02 beyond one member: every required top-level member dropped, and null (a DTO default or a null read
    as absent takes either); two violations at once (details locate at least one: a fail-fast validator is allowed); a
    schema error with a bad number or an unknown item (400 before any 422). Pointers are separated by spaces."""
    cases: dict[str, tuple[dict[str, Any], str]] = {}
    for member in REQUIRED_MEMBERS:
        cases[f"no {member}"] = (_schema_case(scenario, "person", _drop("", member)), f"/{member}")
        cases[f"{member}: null"] = (_schema_case(scenario, "person", _put(member, None)), f"/{member}")
    cases['two violations (no delivery, item_version "1")'] = (
        _schema_case(scenario, "person", lambda a: (a.pop("delivery"), a.update(item_version="1"))),
        "/delivery /item_version",
    )
    cases["a schema error and a bad application_no check character (400 comes before 422)"] = (
        _schema_case(scenario, "person", lambda a: (a.pop("delivery"), BAD_NUMBER(scenario, a))),
        "/delivery",
    )
    cases["a schema error and an item unknown to the catalogue (400 comes before 422)"] = (
        _schema_case(scenario, "person", lambda a: (a.pop("delivery"), a.update(item_code=_never_an_item(scenario)))),
        "/delivery",
    )
    return cases


def _points_at(detail: object, pointer: str) -> bool:
    """A detail locating the violation: its path is the member's pointer, inside it, or the object lacking it;
    the document root ("", RFC 6901) locates a missing top-level member when its reason names the member (as
    ajv and python-jsonschema report `required`)."""
    path = detail.get("path") if isinstance(detail, dict) else None
    if path == "" and pointer.count("/") == 1:
        return pointer[1:] in str(detail.get("reason") if isinstance(detail, dict) else "")
    return isinstance(path, str) and path != "" and (path.startswith(pointer) or pointer.startswith(path + "/"))


@pytest.mark.requirement(
    "APP-02",
    clauses=[
        "APP-02.1",
        "APP-02.2",
        "APP-02.3",
        "APP-02.5",
        "APP-02.6",
        "APP-02.7",
        "APP-02.8",
        "APP-02.9",
        "APP-02.10",
        "APP-02.11",
        "APP-02.12",
        "APP-02.13",
        "APP-02.14",
    ],
)
def test_each_schema_violation_is_refused_with_its_pointer_and_leaves_the_number_free(scenario: Scenario) -> None:
    """Every member APP-01 requires or restricts, broken one at a time: 400 SCHEMA_INVALID (also when a code
    would fail as well), `details` locating it by JSON pointer with a reason; the corrected application under
    the same number is then taken as new (nothing was created)."""
    for broken, (pair, pointer) in _schema_cases(scenario).items():
        fix = f"validate the application against APP-01's schema first and refuse {broken} with 400 SCHEMA_INVALID"
        answer = scenario.submit(pair["broken"])
        answered(answer, 400, "SCHEMA_INVALID", fix=fix)
        details = answer.json().get("details")
        where = f"the 400 answer to an application with {broken}"
        wrong = [
            d
            for d in details or []
            if not isinstance(d, dict)
            or not isinstance(d.get("path"), str)
            or not (d["path"] == "" or d["path"].startswith("/"))  # a JSON pointer ("" is the whole document)
            or not str(d.get("reason") or "").strip()
        ]
        # two violations at once: one located is enough (the norm does not ask a validator to go on after the first)
        if not details or wrong or not any(any(_points_at(d, p) for d in details) for p in pointer.split()):
            raise Violation(
                "the schema error's details do not locate the violation",
                f"details [{{path: {pointer!r} (a JSON pointer, or its parent for a missing member), reason: ...}}]",
                details,
                "list each violation in details with its JSON pointer path and a non-empty reason",
                where,
            )
        answered(
            scenario.submit(pair["valid"]),
            TAKEN,
            fix="keep nothing of an application refused for its schema: the corrected application under the same "
            f"number is a new one (refused before: {broken})",
        )


Change = Callable[[Scenario, dict[str, Any]], None]


def _bad(kind: str, defect: str) -> Callable[[Scenario], str]:
    return lambda scenario: str(invalid_value(scenario.factory.fake, kind, defect).value)


def _set(path: str, value: Callable[[Scenario], str]) -> Change:
    """Set one member (a/b/c) of the application to a value made for the scenario."""

    def change(scenario: Scenario, application: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = application
        for name in parents:
            node = node[name]
        node[last] = value(scenario)

    return change


def _without(parent: str, member: str) -> Change:
    return lambda scenario, application: application[parent].pop(member, None)


def _unknown_item(scenario: Scenario, application: dict[str, Any]) -> None:
    application["item_code"] = scenario.new_item()["item_code"]


def _intake_answers(scenario: Scenario, applicant: str, changes: tuple[Change, ...]) -> httpx.Response:
    application = scenario.application(applicant=applicant)
    for change in changes:
        change(scenario, application)
    return scenario.submit(application)


def _retired_item(scenario: Scenario, application: dict[str, Any]) -> None:
    """An item of the system's own department, retired before the application arrives (an item no other check uses)."""
    item = scenario.nodes.create_item(scenario.new_item())
    scenario.nodes.change_item(str(item["item_code"]), retire=True)
    application |= {"item_code": item["item_code"], "item_version": item["version"]}


def _number_part(index: int, text: str | Callable[[], str]) -> Change:
    """Write `text` into the application's own number at `index`, the check character recomputed (CODE-05);
    a callable is asked when the application is made (today's date, in a process that outlives the day)."""

    def change(scenario: Scenario, application: dict[str, Any]) -> None:
        number, part = application["application_no"], text() if callable(text) else text
        body = number[:index] + part + number[index + len(part) : 22]
        application["application_no"] = body + mod_11_2_check(body)

    return change


def _division(code: str) -> tuple[Change, ...]:
    """The application of division `code`: its division_code and its number's division part."""
    return _set("division_code", lambda s: code), _number_part(0, code)


def _id_ending_in_lowercase_x(scenario: Scenario) -> str:
    """A valid ID number whose check character is X, written x (CODE-01: the character is upper-case X)."""
    fake = scenario.factory.fake
    division, born = fake.division_code(), fake.birth_date()
    numbers = (compose.id_number(division, born, sequence) for sequence in range(1, 1000))
    return next(number for number in numbers if number.endswith("X")).lower()


def _id_of_abolished_division(scenario: Scenario) -> str:
    """A valid ID number of a person born in a Zhejiang division abolished since (CODE-01: current or historical)."""
    abolished = sorted(
        d.code for d in national_divisions().values() if d.code.startswith("33") and d.last_year is not None
    )
    return compose.id_number(abolished[-1], scenario.factory.fake.birth_date(), 123)


def _now(scenario: Scenario) -> str:
    return dt.datetime.now(CN_TZ).replace(microsecond=0).isoformat()


def _no_zhejiang_division(scenario: Scenario) -> str:
    """Six digits that look like a Hangzhou code but name no division of the province (330199, CODE-03)."""
    return next(code for code in (f"3301{n:02d}" for n in range(99, 0, -1)) if code not in zhejiang_divisions())


BAD_NUMBER = _set("application_no", _bad("application_no", "check"))
BAD_DIVISION = _set("division_code", _bad("division", "outside_province"))
BAD_ID = _set("applicant/id_number", _bad("id_number", "check"))
REFUSED_ON_INTAKE = {  # what the application breaks: (applicant kind, changes, the 422 code APP-03 gives)
    "an ID number failing its check (CODE-01)": ("person", (BAD_ID,), "APPLICANT_INVALID"),
    "an ID number with an impossible birth date": (
        "person",
        (_set("applicant/id_number", _bad("id_number", "birth_date")),),
        "APPLICANT_INVALID",
    ),
    "an unknown certificate type (CODE-09)": (
        "person",
        (_set("applicant/id_type", _bad("certificate_type", "unknown")),),
        "APPLICANT_INVALID",
    ),
    "a legal applicant's credit code failing its check (CODE-02)": (
        "legal",
        (_set("applicant/uscc", _bad("uscc", "check")),),
        "APPLICANT_INVALID",
    ),
    "an unknown legal-person kind (CODE-09)": (
        "legal",
        (_set("applicant/kind", _bad("applicant_kind", "unknown")),),
        "APPLICANT_INVALID",
    ),
    "a legal representative's ID number failing its check": (
        "legal",
        (_set("applicant/legal_rep/id_number", _bad("id_number", "check")),),
        "APPLICANT_INVALID",
    ),
    "a legal representative's unknown certificate type": (
        "legal",
        (_set("applicant/legal_rep/id_type", _bad("certificate_type", "unknown")),),
        "APPLICANT_INVALID",
    ),
    "an application_no failing its check character (CODE-05)": ("person", (BAD_NUMBER,), "APPLICATION_NO_INVALID"),
    "an application_no dated tomorrow": (
        "person",
        (_set("application_no", _bad("application_no", "future_date")),),
        "APPLICATION_NO_INVALID",
    ),
    "an application_no whose channel digit is not the application's channel": (
        "person",
        (_set("channel", lambda scenario: "app"),),
        "APPLICATION_NO_INVALID",
    ),
    **{
        f"an application_no {what} (CODE-05)": (
            "person",
            (_set("application_no", _bad("application_no", defect)),),
            "APPLICATION_NO_INVALID",
        )
        for defect, what in (
            ("length", "of 22 characters"),
            ("charset", "holding a letter"),
            ("division", "opening with another province's division"),
            ("channel", "whose channel digit is not 1-5"),
            ("date", "dated on a day that does not exist"),
        )
    },
    **{
        f"an application_no dated {day}, no real day (CODE-05)": (
            "person",
            (_number_part(7, day),),
            "APPLICATION_NO_INVALID",
        )
        for day in ("20260230", "20250229", "20260431")
    },
    "an agent-point application numbered with the web digit 1": (
        "person",
        (_set("channel", lambda scenario: "agent"),),
        "APPLICATION_NO_INVALID",
    ),
    "a web application numbered with the agent-point digit 5": (
        "person",
        (_number_part(6, "5"),),
        "APPLICATION_NO_INVALID",
    ),
    **{
        f"an application_no whose division part {code} is no current Zhejiang division (CODE-03)": (
            "person",
            (_number_part(0, code),),
            "APPLICATION_NO_INVALID",
        )
        for code in ("330199", "330104")
    },
    **{
        f"a division_code {code} {name}, abolished {year} (CODE-03: the current list)": (
            "person",
            (_set("division_code", lambda scenario, c=code: c),),
            "CODE_INVALID",
        )
        for code, name, year in (("330103", "下城区", 2021), ("330104", "江干区", 2021), ("330185", "临安市", 2017))
    },
    **{
        f"{whose} ID number {what} (CODE-01)": (
            applicant,
            (_set(f"{where}/id_number", value),),
            "APPLICANT_INVALID",
        )
        for applicant, where, whose in (
            ("person", "applicant", "an applicant's"),
            ("legal", "applicant/legal_rep", "a legal representative's"),
        )
        for what, value in (
            ("of 17 characters", _bad("id_number", "length")),
            ("holding a letter", _bad("id_number", "charset")),
            ("opening with no division code", _bad("id_number", "division")),
            ("born tomorrow", _bad("id_number", "future_birth_date")),
            ("ending in a lowercase x", _id_ending_in_lowercase_x),
        )
    },
    "a legal applicant of kind 1, the natural person's (CODE-09)": (
        "legal",
        (_set("applicant/kind", lambda scenario: "1"),),
        "APPLICANT_INVALID",
    ),
    "a division_code outside the province (CODE-03)": ("person", (BAD_DIVISION,), "CODE_INVALID"),
    "a six-digit division_code that is no Zhejiang division (CODE-03)": (
        "person",
        (_set("division_code", _no_zhejiang_division),),
        "CODE_INVALID",
    ),
    "an item code the catalogue does not hold": ("person", (_unknown_item,), "ITEM_UNKNOWN"),
    "a retired item of the own department": ("person", (_retired_item,), "ITEM_UNKNOWN"),
    "a bad application_no and a bad division_code": ("person", (BAD_NUMBER, BAD_DIVISION), "APPLICATION_NO_INVALID"),
    "a bad application_no and an unknown item": ("person", (BAD_NUMBER, _unknown_item), "APPLICATION_NO_INVALID"),
    "a bad application_no and a bad ID number": ("person", (BAD_NUMBER, BAD_ID), "APPLICATION_NO_INVALID"),
    "a bad division_code and an unknown item": ("person", (BAD_DIVISION, _unknown_item), "CODE_INVALID"),
    "a bad division_code and a bad ID number": ("person", (BAD_DIVISION, BAD_ID), "CODE_INVALID"),
    "an unknown item and a bad ID number": ("person", (_unknown_item, BAD_ID), "ITEM_UNKNOWN"),
}


@pytest.mark.requirement(
    "APP-03",
    clauses=[
        "APP-03.2",
        "APP-03.3",
        "APP-03.4",
        "APP-03.5",
        "APP-03.6",
        "APP-03.7",
        "APP-03.8",
        "APP-03.9",
        "APP-03.26",
        "APP-03.27",
        "APP-03.28",
        "APP-03.29",
        "APP-03.30",
        "APP-03.31",
        "APP-03.32",
        "APP-03.33",
        "APP-03.34",
        "APP-03.35",
        "APP-03.36",
        "CODE-01.4",
        "CODE-01.9",
        "CODE-01.10",
        "CODE-02.5",
        "CODE-05.2",
        "CODE-05.4",
        "CODE-05.10",
        "CODE-05.15",
        "CODE-05.17",
        "CODE-05.18",
        "CODE-05.20",
        "CODE-09.19",
        "CODE-09.20",
    ],
)
def test_codes_are_checked_on_intake_with_the_norms_answer_and_order(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    """Each code the application carries, on the applicant, the legal representative, the number, the division
    and the item, answered with its own 422; several at once in the norm's order; nothing kept."""
    for broken, (applicant, changes, code) in REFUSED_ON_INTAKE.items():
        answer = _intake_answers(scenario, applicant, changes)
        answered(answer, 422, code, fix=f"refuse an application with {broken} with 422 {code} (APP-03's order)")
        number = json.loads(answer.request.content)["application_no"]
        status, _ = _status(sut, target, number)
        equal(
            f"the status of an application refused for {broken}",
            status,
            404,
            fix="keep nothing of an application answered 422",
            where=f"GET {APPLICATIONS}/{number}",
        )


TAKEN_ON_INTAKE = {  # valid applications a system that checks too much refuses
    "a passport holder (CODE-01 applies to 111 only)": (
        "person",
        (_set("applicant/id_type", lambda s: "414"), _set("applicant/id_number", lambda s: "E12345678")),
    ),
    "a legal applicant without kind": (
        "legal",
        (_without("applicant", "kind"),),
    ),
    "an administrative body (kind 6)": ("legal", (_set("applicant/kind", lambda s: "6"),)),
    "an application_no dated today (+08:00) (CODE-05: not later than today)": (
        "person",
        (_number_part(7, lambda: f"{today_cn():%Y%m%d}"), _set("submitted_at", _now)),
    ),
    **{
        f"an application of {code} {name}, a division since {year} (CODE-03: the current list)": (
            "person",
            _division(code),
        )
        for code, name, year in (("330113", "临平区", 2021), ("330114", "钱塘区", 2021), ("330383", "龙港市", 2019))
    },
    "an applicant born in a division abolished since (CODE-01: a current or historical division)": (
        "person",
        (_set("applicant/id_number", _id_of_abolished_division),),
    ),
    **{
        f"a holder of certificate type {id_type} with its own number (CODE-01 applies to 111 only)": (
            "person",
            (_set("applicant/id_type", lambda s, t=id_type: t), _set("applicant/id_number", lambda s, n=number: n)),
        )
        for id_type, number in (("553", "USA110075010101"), ("516", "H0123456700"), ("990", "QT-2026-0001"))
    },
    "an enterprise (kind 2) whose credit code another registering authority issued (CODE-02 judges the set, the "
    "length and C18 only)": (
        "legal",
        (_set("applicant/kind", lambda s: "2"), _set("applicant/uscc", lambda s: s.factory.fake.uscc("Y", "1"))),
    ),
}


@pytest.mark.requirement(
    "APP-03",
    clauses=[
        "APP-01.9",
        "APP-01.10",
        "APP-03.12",
        "APP-03.18",
        "APP-03.19",
        "APP-03.23",
        "CODE-09.3",
        "CODE-09.9",
        "CODE-09.13",
        "CODE-09.16",
        "CODE-09.18",
    ],
)
def test_valid_certificates_and_kinds_are_taken(scenario: Scenario) -> None:
    """CODE-01 applies to type 111 only, `kind` is optional: an application using them is not refused."""
    for case, (applicant, changes) in TAKEN_ON_INTAKE.items():
        answered(
            _intake_answers(scenario, applicant, changes),
            TAKEN,
            fix=f"take the application of {case}: APP-03 refuses only codes that fail their rule",
        )


CERTIFICATE_TYPES = sorted(code_list("certificate_types"))  # CODE-09's list, from specs/codes/lists.yaml
LEGAL_KINDS = sorted(code_list("applicant_kinds"))


@pytest.mark.requirement(
    "APP-03",
    clauses=[
        "APP-03.10",
        "APP-03.11",
        "APP-03.12",
        "APP-03.13",
        "APP-03.14",
        "APP-03.15",
        "APP-03.16",
        "APP-03.17",
    ],
)
@pytest.mark.parametrize("id_type", CERTIFICATE_TYPES)
def test_every_certificate_type_of_the_norm_is_taken(scenario: Scenario, id_type: str) -> None:
    """Each certificate type of CODE-09's list, on a person applicant and on a legal representative, is taken (a
    valid citizen ID number as the certificate's number: CODE-01 holds it, whatever the type)."""
    for applicant, where in (("person", "applicant"), ("legal", "applicant/legal_rep")):
        changes = (
            _set(f"{where}/id_type", lambda s: id_type),
            _set(f"{where}/id_number", lambda s: s.factory.fake.id_number()),
        )
        answered(
            _intake_answers(scenario, applicant, changes),
            TAKEN,
            fix=f"take every certificate type of CODE-09's list: {id_type} on {where.replace('/', '.')} is valid",
        )


@pytest.mark.requirement(
    "APP-03", clauses=["APP-03.19", "APP-03.20", "APP-03.21", "APP-03.22", "APP-03.23", "APP-03.24", "APP-03.25"]
)
@pytest.mark.parametrize("kind", LEGAL_KINDS)
def test_every_legal_person_kind_is_taken_and_a_persons_kind_ignored(scenario: Scenario, kind: str) -> None:
    """Each legal-person kind of CODE-09's list on a legal applicant is taken; on a natural person `kind` is not
    read (MSG-03), so a person carrying it, or the natural person's 1, is taken too."""
    answered(
        _intake_answers(scenario, "legal", (_set("applicant/kind", lambda s: kind),)),
        TAKEN,
        fix=f"take every legal-person kind of CODE-09's list: kind {kind} is valid",
    )
    for carried in (kind, "1"):
        answered(
            _intake_answers(scenario, "person", (_set("applicant/kind", lambda s, k=carried: k),)),
            TAKEN,
            fix=f"ignore `kind` on a natural person (MSG-03: read only on legal applicants); kind {carried} was sent",
        )


@pytest.mark.requirement("APP-03", clauses=["APP-03.1"])
def test_an_item_of_another_department_is_refused(scenario: Scenario, platform: Nodes, target: Target) -> None:
    """An active item of each other department the catalogue holds (one per USCC, whether it sorts before or after
    the own one) is refused 422 ITEM_UNKNOWN: the department is the own one exactly."""
    others: dict[str, dict[str, Any]] = {}
    for i in platform.catalogue():
        if i["dept"]["uscc"] != target.registration.dept_uscc and i["status"] == "active":
            others.setdefault(str(i["dept"]["uscc"]), i)
    if not others:
        pytest.skip("not-applicable: the catalogue holds no item of another department")
    for uscc, other in sorted(others.items()):
        application = {**scenario.application(), "item_code": other["item_code"], "item_version": other["version"]}
        answered(
            scenario.submit(application),
            422,
            "ITEM_UNKNOWN",
            fix=f"take only active catalogue items of the own department: {other['item_code']} is of {uscc}",
        )


@pytest.mark.requirement("APP-04", clauses=["APP-04.1", "APP-04.2", "APP-04.4", "APP-04.5", "APP-04.6", "APP-04.7"])
@pytest.mark.side_by_side
def test_the_same_application_again_gets_the_same_answer(
    scenario: Scenario, platform: Nodes, raw: httpx.Client, target: Target
) -> None:
    """The first answer again for an identical repeat, a second later, after its item was retired (a 422 check
    would now fail) and re-serialised (other key order and whitespace: the same JSON value); 409 for another body
    even when that body would fail a 422 check."""
    item = platform.create_item(scenario.new_item())  # retired below: an item no other check uses
    application = {**scenario.application(), "item_code": item["item_code"], "item_version": item["version"]}
    first = scenario.submit(application)
    answered(first, TAKEN, fix="take a valid application")
    started = time.monotonic()
    platform.change_item(str(item["item_code"]), retire=True)
    guide = f"{target.base_url}/yzw/v1/items/{item['item_code']}"
    budget = platform.notice_seconds
    platform.wait_for(lambda: raw.get(guide).status_code, lambda status: status == 404, budget)  # retired for it
    time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))  # a second later: a new intake shows a new received_at
    again = scenario.submit(application)
    fix = "answer a repeated identical application with the first answer, before any 422 check (its item may be gone)"
    answered(again, TAKEN, fix=fix)
    equal("the repeated answer's status", again.status_code, first.status_code, fix=fix, where="the second answer")
    equal("the repeated answer", again.json(), first.json(), fix=fix, where="the second 202")
    reordered = json.dumps(dict(reversed(list(application.items()))), ensure_ascii=False, indent=2).encode()
    third = scenario.portal.request(
        "POST", target.base_url + APPLICATIONS, content=reordered, headers={"Content-Type": "application/json"}
    )
    fix = "compare the repeat as a JSON value (key order and whitespace are not part of it), not as text"
    if third.status_code == 401 and (body_of(third) or {}).get("code") in SIGNATURE_CODES:
        pytest.skip("not-applicable: the re-serialised repeat was refused for its signature (SIG-01 judges the hash)")
    answered(third, TAKEN, fix=fix)
    equal("the answer to the repeat with other key order", third.json(), first.json(), fix=fix, where="the third 202")
    changed = {**application, "form": {"changed": "另一份表单"}}
    answered(
        scenario.submit(changed),
        409,
        "APPLICATION_CONFLICT",
        fix="refuse a different body under a known number with 409",
    )
    for what, other in _differing_in_materials_or_delivery(scenario, application).items():
        answered(
            scenario.submit(other),
            409,
            "APPLICATION_CONFLICT",
            fix=f"compare the whole body, materials and delivery included: refuse {what} under a known number with 409",
        )


def _differing_in_materials_or_delivery(scenario: Scenario, application: dict[str, Any]) -> dict[str, Any]:
    """Bodies differing from `application` only in what a vendor keeps in child rows (APP-04: the same JSON value,
    or another body): what differs, the body."""
    added = {"material_code": "XFILE", "name": "其他材料", "kind": "file", "file": _scan()}
    address = "浙江省杭州市西湖区文三路90号东部软件园1号楼"
    return {
        "a body with one more material": {**application, "materials": [*application["materials"], added]},
        "a body with another delivery": {**application, "delivery": {"method": "post", "address": address}}
        if application["delivery"] != {"method": "post", "address": address}
        else {**application, "delivery": {"method": "pickup"}},
    }


@pytest.mark.requirement("APP-04", clauses=["APP-04.1", "APP-04.2"])
def test_a_repeat_after_supplements_gets_the_first_answer(
    scenario: Scenario, sut: SignedClient, target: Target, driver: Driver
) -> None:
    """The platform's repeat of an application whose file supplements have since completed is still the same
    body (the one it sent): the first 202 again, with its received_at, not a 409 against the file as it stands."""
    scenario.prefer(FILE_MATERIAL)
    files = [m for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    if not files:
        pytest.skip("not-applicable: the department's items ask for no file to supplement")
    application = scenario.application(omit=(files[0]["material_code"],))
    first = scenario.submit(application)
    answered(first, TAKEN, fix="take a valid application (APP-01)")
    number = application["application_no"]
    decision = driver.act("accept", number)
    if decision is None:
        scenario.steps(number, "BZ")
    elif decision.status_code != 200 or decision.json().get("step") != "BZ":
        pytest.skip("not-applicable: the incomplete application was not asked for supplements (ACC-05 judges it)")
    more = {
        "materials": [m for m in scenario.application()["materials"] if m["material_code"] == files[0]["material_code"]]
    }
    taken = sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more)
    if taken.status_code != 200:
        pytest.skip(f"not-applicable: the supplements were not taken ({taken.status_code}; ACC-05 judges it)")
    again = scenario.submit(application)
    fix = "compare a repeat with the body as it was received, not with the file the supplements completed"
    answered(again, TAKEN, fix=fix)
    equal("the answer to the repeat after supplements", again.json(), first.json(), fix=fix, where="the second 202")


@pytest.mark.requirement("APP-04", clauses=["APP-04.1", "APP-04.3"])
def test_an_identical_repeat_creates_no_second_application(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    """An identical repeat of an application accepted since is answered its first 202 and leaves the application
    as it was: the status query answers the same before and after it (a second application would start over as
    received, without the case_no; what the status should be is APP-07's to judge)."""
    application, _ = scenario.accepted()
    number = application["application_no"]
    before = _status(sut, target, number)
    answered(scenario.submit(application), TAKEN, fix="answer an identical repeat with the first 202")
    after = _status(sut, target, number)
    equal(
        "the status query after an identical repeat of an accepted application",
        (after[0], after[1].get("status"), after[1].get("case_no")),
        (before[0], before[1].get("status"), before[1].get("case_no")),
        fix="make no second application of an identical repeat: answer the first 202 and keep the application as is",
        where=f"GET {APPLICATIONS}/{number} before and after the repeat",
    )


def _member(answer: httpx.Response, name: str) -> Any:
    body = body_of(answer)
    return body.get(name) if isinstance(body, dict) else None


RETRY_AFTER_SECONDS = 1.1  # the unified application system's time-out before it sends an application again


@pytest.mark.requirement("APP-04", clauses=["APP-04.1", "APP-04.2", "APP-04.3", "PERF-02.2"])
@pytest.mark.side_by_side
def test_a_repeat_sent_while_the_first_is_still_handled_gets_the_first_answer(scenario: Scenario) -> None:
    """The unified application system sends an application again after its time-out, whether or not the first
    answer came: the repeat gets the first answer, received_at and all, also when the system was still handling
    the first (a duplicate check made only on arrival keeps it twice, each with its own received_at)."""
    application = scenario.application()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(scenario.submit, application)
        time.sleep(RETRY_AFTER_SECONDS)
        repeat = scenario.submit(application)
        first_answer = first.result()
    fix = "judge a repeat against what is stored when storing it, not only on arrival, and answer the first 202"
    answered(first_answer, TAKEN, fix="take the application")
    answered(repeat, TAKEN, fix=fix)
    equal(
        f"the received_at of the answer to a repeat sent {RETRY_AFTER_SECONDS} s after the first",
        _member(repeat, "received_at"),
        _member(first_answer, "received_at"),  # its form is APP-01's to judge
        fix=fix,
        where=f"POST {APPLICATIONS} twice, {RETRY_AFTER_SECONDS} s apart",
    )


@pytest.mark.requirement("APP-05", clauses=["APP-05.1", "APP-05.2", "APP-05.3", "APP-05.5", "LIC-02.1"])
def test_every_license_material_is_verified_not_only_the_first(scenario: Scenario, platform: Nodes) -> None:
    """Two license materials of one applicant, the second revoked: both verified with the library for the
    applicant's id_number, and the application not accepted. Needs an item of the department with two
    license-typed materials (else not applicable)."""
    item = scenario.use(TWO_LICENSE_MATERIALS)
    application = scenario.application(item=item)
    number = application["application_no"]
    licenses = scenario.license_materials(application)
    platform.set_license_status(licenses[-1]["license_id"], "revoked")
    answered(scenario.submit(application), TAKEN, fix="take the application; verify licenses before deciding")
    scenario.driver.act("accept", number)
    decided = first_step(scenario.steps(number, "BZ"), ("SL", "BZ", "BYSL"))
    asked = licenses_verified(platform)
    holder = application["applicant"]["id_number"]
    unverified = [m["license_id"] for m in licenses if (m["license_id"], holder) not in asked]
    if unverified:
        raise Violation(
            "a license material was not verified",
            f"POST /license/v1/licenses/verify for each of {[m['license_id'] for m in licenses]} (holder {holder})",
            f"none for {unverified}",
            "verify every license material of the application with the library, not only the first",
            f"the license library's traffic for application {number}",
        )
    if decided is None:  # no SL, BZ or BYSL at all: a decision not pushed is ACC-01's
        pytest.skip("not-applicable: no first decision was pushed to judge (see ACC-01)")
    equal(
        "the first decision on an application whose second license is revoked",
        decided,
        "BZ",
        fix="verify every license material and treat one that is not valid as missing (BZ), whichever it is",
        where=f"application {number}",
    )


@pytest.mark.requirement(
    "APP-05",
    clauses=[
        "APP-05.1",
        "APP-05.3",
        "APP-05.5",
        "APP-05.6",
        "APP-05.8",
        "EVT-01.2",
        "LIC-02.1",
        "LIC-02.3",
        "SIG-01.3",
        "SIG-03.3",
        "SIG-05.5",
    ],
)
def test_a_revoked_license_material_is_verified_and_not_accepted(
    scenario: Scenario, platform: Nodes, sut: SignedClient, target: Target
) -> None:
    """A license the library holds as revoked is verified and noticed (BZ), not accepted: on an online
    application, on a window and an agent-point one (the clerk's sight of the original is no verification), and
    when it comes with the supplements after the notice (verified before the next decision)."""
    scenario.use(LICENSE_MATERIAL)
    application, material, answer = scenario.accepted_with_revoked_license()
    answered(answer, TAKEN, fix="take the application; verify licenses before deciding")
    number = application["application_no"]
    decided = first_step(scenario.steps(number, "BZ"), ("SL", "BZ", "BYSL"))
    if decided is None:  # no SL, BZ or BYSL at all: a decision not pushed is ACC-01's
        pytest.skip("not-applicable: no first decision was pushed to judge (see ACC-01)")
    equal(
        "the first decision on an application with a revoked license",
        decided,
        "BZ",
        fix="verify license materials with the library and treat non-valid ones as missing",
        where=f"application {number}",
    )
    for channel in ("window", "agent"):
        params = scenario.window_params(channel=channel)
        revoked = scenario.license_materials(params)[0]["license_id"]
        platform.set_license_status(revoked, "revoked")
        window_no = scenario.window_apply(params)[1]
        if window_no is None:
            continue  # a window application not taken is APP-06's
        scenario.driver.act("accept", window_no)
        _revoked_license_noticed(scenario, platform, window_no, revoked, _holder(params), f"a {channel} application")
    _revoked_supplement_noticed(scenario, platform, sut, target, application, material)


def _holder(application: dict[str, Any]) -> object:
    """APP-05: the holder a license is verified for, the applicant's id_number or uscc."""
    applicant = application["applicant"]
    return applicant.get("id_number") or applicant.get("uscc")


def _revoked_supplement_noticed(
    scenario: Scenario,
    platform: Nodes,
    sut: SignedClient,
    target: Target,
    application: dict[str, Any],
    material: dict[str, Any],
) -> None:
    """After the notice, the applicant supplies another license the library holds as revoked: accept verifies it
    before deciding, and notices it again (BZ), not SL."""
    number = application["application_no"]
    if not scenario.came(number, "BZ").accepted:
        pytest.skip("not-applicable: the exchange refused the BZ, so supplements rightly wait (EVT-07)")
    listed = {m["material_code"]: m for m in scenario.item["materials"]}
    supplied = scenario.license_for(listed[material["material_code"]], application["applicant"])
    platform.set_license_status(supplied["license_id"], "revoked")
    taken = sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json={"materials": [supplied]})
    if taken.status_code != 200:
        pytest.skip(f"not-applicable: the supplements were not taken ({taken.status_code}; see ACC-05)")
    since = scenario.came(number, "BZJ").event.get("seq")
    scenario.driver.act("accept", number)
    _revoked_license_noticed(
        scenario,
        platform,
        number,
        supplied["license_id"],
        _holder(application),
        "an application after its supplements",
        since if isinstance(since, int) else 0,
    )


def _revoked_license_noticed(
    scenario: Scenario,
    platform: Nodes,
    number: str,
    license_id: str,
    holder: object,
    what: str,
    since: int = 0,
    calls_before: int = 0,
) -> None:
    """The decision after seq `since` on `what` presenting a license the library holds as revoked: a verify
    call for it and the applicant (more than `calls_before`), and BZ, not SL."""

    def decisions(pushes: list[Any]) -> list[Any]:
        return [p for p in distinct(pushes) if _seq_after(p, since) and p.event.get("step") in ("SL", "BZ", "BYSL")]

    found = decisions(platform.wait_for(lambda: platform.pushes(number), lambda pushes: bool(decisions(pushes))))
    platform.observe(found)
    if not found:  # a decision not pushed is ACC-01's
        pytest.skip(f"not-applicable: no decision on {what} was pushed to judge (see ACC-01)")
    decided = found[0].event.get("step")
    calls = verifications(platform, license_id, holder)
    if calls <= calls_before or decided != "BZ":
        raise Violation(
            f"a revoked license on {what} was " + ("accepted" if decided == "SL" else f"decided {decided}"),
            f"POST /license/v1/licenses/verify {{license_id: {license_id}, holder_id: {holder}}} before the "
            "decision, and BZ listing the license (revoked)",
            f"{calls - calls_before} verify call(s) for it; the decision {decided}",
            "verify every license material with the library before each decision, whatever the channel and "
            "whenever it came, and treat one that is not valid as missing (BZ)",
            f"application {number}",
        )


def _seq_after(push: Any, since: int) -> bool:
    seq = push.event.get("seq")
    return isinstance(seq, int) and seq > since


@pytest.mark.requirement(
    "APP-05", clauses=["APP-01.9", "APP-05.1", "APP-05.4", "APP-05.5", "APP-05.7", "CODE-09.9", "LIC-02.1"]
)
def test_a_legal_applicants_licenses_are_verified_for_its_credit_code(scenario: Scenario, platform: Nodes) -> None:
    """Every license material is verified with the library, holder_id = the applicant's uscc for a legal
    applicant, before the decision: valid licenses let the application be accepted. The library then revokes one
    and the applicant presents it on a new application: verified again for that one, and noticed (BZ)."""
    scenario.use(LICENSE_MATERIAL)
    application = scenario.application(applicant="legal")
    licenses = scenario.license_materials(application)
    answered(scenario.submit(application), TAKEN, fix="take the application; verify licenses before deciding")
    number = application["application_no"]
    scenario.driver.act("accept", number)
    decided = first_step(scenario.steps(number, "SL"), ("SL", "BZ", "BYSL"))
    asked = licenses_verified(platform)
    for material in licenses:
        wanted = (material["license_id"], application["applicant"]["uscc"])
        if wanted not in asked:
            raise Violation(
                "a license material was not verified for the applicant",
                f"POST /license/v1/licenses/verify {{license_id: {wanted[0]}, holder_id: {wanted[1]} (the uscc)}}",
                sorted(map(str, asked)) or "no verification",
                "verify each license material with holder_id = the applicant's id_number or uscc",
                f"the license library's traffic for application {number}",
            )
    equal(
        "the first decision on a legal applicant's application with valid licenses",
        decided,
        "SL",
        fix="accept when every license is valid for the applicant",
        where=f"application {number}",
    )
    if licenses:
        _revoked_since_noticed(scenario, platform, application, licenses[0])


def _revoked_since_noticed(
    scenario: Scenario, platform: Nodes, application: dict[str, Any], material: dict[str, Any]
) -> None:
    """A license verified valid for an accepted application, revoked since, presented on the applicant's next
    application: verified for that one (an earlier result does not stand for it) and noticed (BZ)."""
    platform.set_license_status(material["license_id"], "revoked")
    again = {**scenario.application(applicant="legal"), "applicant": application["applicant"]}
    again["materials"] = application["materials"]
    holder = _holder(application)
    before = verifications(platform, material["license_id"], holder)
    answered(scenario.submit(again), TAKEN, fix="take the application; verify licenses before deciding")
    scenario.driver.act("accept", again["application_no"])
    what = "an application presenting a license revoked since another application was accepted with it"
    _revoked_license_noticed(
        scenario, platform, again["application_no"], material["license_id"], holder, what, calls_before=before
    )


@pytest.mark.requirement(
    "APP-06",
    clauses=[
        "APP-06.1",
        "APP-06.4",
        "APP-06.5",
        "APP-06.6",
        "APP-06.7",
        "EVT-01.1",
        "EVT-02.3",
        "EVT-02.17",
        "EVT-03.1",
        "EVT-03.2",
        "EVT-03.6",
    ],
)
def test_window_and_agent_applications_are_announced_with_sb_and_go_on_like_online_ones(
    scenario: Scenario,
) -> None:
    """Taken at the window or an agent point: SB first (seq 1) carrying the application as taken under the
    number issued, and then the same events as an online application (SL as seq 2)."""
    for channel in ("window", "agent"):
        params = scenario.window_params(channel=channel)
        answer, number = scenario.window_apply(params)
        answered(
            seen(answer, f"took the {channel} application"),
            200,
            fix="take a valid window or agent-point application and answer its number",
        )
        sb = scenario.pushed(str(number), "SB")
        taken = sb.event.get("payload") or {}
        equal(
            f"the SB of a {channel} application (seq, its number, the application's number and channel)",
            (sb.event.get("seq"), sb.event.get("application_no"), taken.get("application_no"), taken.get("channel")),
            (1, number, number, channel),
            fix="push SB first, its payload the application as taken under the number issued",
            where=f"application {number}",
        )
        findings = [f for f in validate("application", taken) if not f.requirement.startswith("CODE-")]
        if findings:
            raise Violation(
                "the SB payload is not the application as taken",
                "an application (specs/schemas/application.schema.json)",
                f"{findings[0].path}: {findings[0].reason}",
                "send the application the clerk took, as APP-01 defines it, as the SB payload",
                f"SB of {number}",
            )
        typed = {k: v for k, v in params.items() if k not in WINDOW_SYSTEM_MEMBERS}
        changed = [k for k in typed if taken.get(k) != typed[k]]
        equal(
            f"the members {changed} of the SB payload of the {channel} application, as the clerk gave them",
            {k: taken.get(k) for k in changed},
            {k: typed[k] for k in changed},
            fix="send the application as taken, every member the clerk gave (agent included) unchanged, as SB",
            where=f"SB of {number}",
        )
    scenario.driver.act("accept", str(number))
    sl = scenario.came(str(number), "SL")  # an acceptance not pushed is EVT-01's (ACC-01.1)
    equal(
        "the seq of SL after SB",
        sl.event.get("seq"),
        2,
        fix="go on with the application's own sequence after SB, as for an online application",
        where=f"application {number}",
    )


STEP_STATUS = status_after()  # APP-07: the status after the last event other than FK (specs/rules)
BEFORE_SL = (None, "SB", "BZ", "BZJ", "CH")
SUSPEND = {"reason": "等待鉴定", "kind": "鉴定", "expected_days": 5}
LIFE: tuple[tuple[str, str, dict[str, object]], ...] = (  # driver actions from SL to SD, and the step each makes
    ("advance", "CB", {}),
    ("suspend", "GQ", SUSPEND),
    ("resume", "HF", {}),
    ("advance", "SH", {}),
    ("advance", "PZ", {}),
    ("complete", "BJ", {"result": "approved"}),
    ("deliver", "SD", {}),
)


def _instant(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


class _StatusWalk:
    """An application driven step by step, its status queried right after each step (the status follows the
    last event produced, delivered or not) and judged once its events are in: the status of APP-07's table, the
    last event's occurred_at as updated_at (received_at before any), and a case_no from SL on, absent before.
    A step that never happened (another requirement's finding) is not judged."""

    def __init__(self, scenario: Scenario, sut: SignedClient, target: Target, number: str, received_at: str) -> None:
        self.scenario, self.sut, self.target, self.number = scenario, sut, target, number
        self.received_at = received_at
        self.seen: list[tuple[str | None, dict[str, object]]] = []  # (the step just made, the status answer)
        self.refused: set[str] = set()  # the steps the driver refused to make (not 200)

    def query(self, step: str | None) -> None:
        status, body = _status(self.sut, self.target, self.number)
        self.seen.append((step, body if status == 200 else {"status": f"HTTP {status}"}))

    def act(self, verb: str, step: str, **params: object) -> None:
        """A driver action, then the query; with a person acting, the query waits for the step's event."""
        answer = self.scenario.driver.act(verb, self.number, **params)
        if answer is None:
            self.scenario.steps(self.number, step)
        elif answer.status_code != 200:
            self.refused.add(step)
        self.query(step)

    def judge(self, last_step: str | None) -> list[str]:
        """Judges every query; the steps the driver refused yet the system pushed (made by the system itself,
        ACC-01's finding: the queries around them are not judged) are returned instead."""
        wanted = (last_step,) if last_step else ()
        pushes = distinct(self.scenario.steps(self.number, *wanted, budget=None if wanted else 0.0))
        times = {p.event.get("step"): p.event.get("occurred_at") for p in reversed(pushes)}
        alone = sorted(step for step in self.refused if step in times)
        if alone:
            return alone
        case_no = next((p.event.get("case_no") for p in pushes if p.event.get("step") == "SL"), None)
        shown: str | None = None  # the last step other than FK
        for step, body in self.seen:
            if step is not None and step not in times:
                continue  # the step never happened: the requirement of that step judges it
            shown = shown if step == "FK" else step
            self._judged(step, shown, body, times, case_no)
        return []

    def _judged(
        self, step: str | None, shown: str | None, body: dict[str, object], times: dict[object, object], case_no: object
    ) -> None:
        where = f"GET {APPLICATIONS}/{self.number}"
        after = f"after {step or 'intake'}" + (f" (the last step other than FK: {shown})" if step == "FK" else "")
        if not str(body.get("status", "")).startswith("HTTP "):
            equal(
                f"the application_no of the status answer {after}",
                body.get("application_no"),
                self.number,
                fix="answer the application_no that was queried",
                where=where,
            )
        equal(
            f"the status {after}",
            body.get("status"),
            STEP_STATUS.get(shown),
            fix="answer the status of the last event produced other than FK (APP-07's table)",
            where=where,
        )
        if shown == "BYSL":
            return  # a refused application's case_no is ACC-06's (norm, key words)
        if shown in BEFORE_SL and "case_no" in body:
            raise Violation(
                f"the status answer {after} carries a case_no member",
                "no case_no member before SL (absent: not null, not empty)",
                body,
                "leave case_no out of the status answer until the application is accepted",
                where,
            )
        if shown not in BEFORE_SL and case_no and body.get("case_no") != case_no:
            raise Violation(
                f"the status answer {after} does not carry the case's case_no",
                f"case_no {case_no!r} (the SL's)",
                body,
                "answer the case_no assigned at SL from then on",
                where,
            )
        occurred = self.received_at if shown is None else times.get(shown)
        if _instant(body.get("updated_at")) is None or _instant(body.get("updated_at")) != _instant(occurred):
            origin = "the 202's received_at" if shown is None else f"the occurred_at of {shown}"
            raise Violation(
                f"updated_at {after} is not {origin}",
                f"updated_at {occurred!r} ({origin})",
                body.get("updated_at"),
                "answer updated_at = the occurred_at of the last event other than FK (received_at before any)",
                where,
            )


def _walked(scenario: Scenario, sut: SignedClient, target: Target, omit: tuple[str, ...] = ()) -> _StatusWalk:
    application = scenario.application(omit=omit)
    answer = scenario.submit(application)
    answered(answer, TAKEN, fix="take a valid application (APP-01)")
    walk = _StatusWalk(scenario, sut, target, application["application_no"], str(answer.json().get("received_at")))
    walk.query(None)
    return walk


@pytest.mark.requirement(
    "APP-07",
    clauses=[
        "APP-07.1",
        "APP-07.2",
        "APP-07.3",
        "APP-07.4",
        "APP-07.5",
        "APP-07.6",
        "APP-07.7",
        "APP-07.8",
        "APP-07.9",
        "APP-07.10",
        "APP-07.11",
        "APP-07.12",
        "APP-07.13",
        "APP-07.14",
        "APP-07.15",
        "APP-07.16",
        "APP-07.17",
        "APP-07.19",
        "APP-07.20",
        "APP-07.21",
        "APP-07.22",
        "APP-07.23",
        "SIG-01.32",
        "SIG-02.24",
    ],
)
@pytest.mark.side_by_side
def test_the_status_query_follows_the_last_event(scenario: Scenario, sut: SignedClient, target: Target) -> None:
    """One application through every step (BZ, BZJ, SL, an FK, CB, GQ, HF, SH, PZ, BJ, SD), a window application
    refused (SB, BYSL), one withdrawn (CH) and one left alone for a second, each query judged against the events."""
    scenario.prefer(FILE_MATERIAL)
    idle, started = _walked(scenario, sut, target), time.monotonic()  # queried again a second later
    files = [m["material_code"] for m in scenario.item["materials"] if m["required"] and "license_type" not in m]
    walk = _walked(scenario, sut, target, omit=tuple(files[:1]))
    number = walk.number
    if files:
        walk.act("accept", "BZ")
        more = {"materials": [m for m in scenario.application()["materials"] if m["material_code"] in files[:1]]}
        sut.request("POST", f"{target.base_url}{APPLICATIONS}/{number}/supplements", json=more)
        scenario.steps(number, "BZJ")  # the system pushes BZJ in its own time (ACC-05)
        walk.query("BZJ")
    walk.act("accept", "SL")
    case_no = next((p.event.get("case_no") for p in scenario.steps(number, "SL") if p.event.get("case_no")), None)
    if case_no:
        notice = scenario.factory.notice(str(case_no))
        sut.request("POST", target.base_url + "/yzw/v1/supervision/notices", json=notice)
        scenario.steps(number, "FK")  # FK: the system's answer to the notice (SUP-02)
        walk.query("FK")
    for verb, step, params in LIFE:
        walk.act(verb, step, **params)
    withdrawn = _walked(scenario, sut, target)
    withdrawn.act("withdraw", "CH", reason="申请人撤回")
    taken, window_no = scenario.window_apply(scenario.window_params())
    time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))  # a later second: updated_at must not follow the clock
    idle.query(None)
    walks = [idle, walk, withdrawn]
    if window_no is not None and taken is not None:
        refused = _StatusWalk(scenario, sut, target, window_no, "")
        refused.query("SB")
        refused.act("refuse", "BYSL", reason="申请事项不属于本机关职权范围")
        walks.append(refused)
    alone = {each.number: each.judge(last) for each, last in zip(walks, (None, "SD", "CH", "BYSL"), strict=False)}
    unknown = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{scenario.application()['application_no']}")
    answered(unknown, 404, "APPLICATION_UNKNOWN", fix="answer 404 APPLICATION_UNKNOWN for numbers never received")
    made = {number: steps for number, steps in alone.items() if steps}
    if made:
        pytest.skip(f"not-applicable: steps the driver refused, yet pushed (made alone): {made} (ACC-01)")


@pytest.mark.requirement("APP-07", clauses=["APP-07.7", "APP-07.18"])
def test_the_status_query_follows_a_refused_event_too(
    scenario: Scenario, sut: SignedClient, target: Target, platform: Nodes
) -> None:
    """2026.2: the status follows the last event the system produced, also one the exchange refused for good."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 422)
    scenario.driver.act("accept", number)
    pushes = platform.wait_for(lambda: platform.pushes(number), lambda found: any(p.status == 422 for p in found))
    platform.observe(pushes)
    if not any(p.status == 422 and p.event.get("step") == "SL" for p in pushes):
        pytest.skip("not-applicable: no SL was pushed for the exchange to refuse (EVT-01 judges that)")
    status, body = _status(sut, target, number)
    equal(
        "the status query after an SL the exchange refused (422)",
        (status, body.get("status")),
        (200, "accepted"),
        fix="answer the status of the last event produced, whether the exchange took it or refused it (APP-07)",
        where=f"GET {APPLICATIONS}/{number}",
    )


@pytest.mark.requirement("APP-07", clauses=["APP-07.7", "APP-07.19"])
def test_the_status_query_follows_an_event_still_queued(
    scenario: Scenario, sut: SignedClient, target: Target, platform: Nodes
) -> None:
    """The status follows the last event the system produced, not the last one delivered: while the exchange
    answers 503 (the SL waits in the outbox for its retry, a second or more later), the status is already
    `accepted`, with the case_no the driver named (or the SL's first attempt, when a person accepted)."""
    number = scenario.submitted()["application_no"]
    platform.fail_next(EXCHANGE, 503, count=2)
    decision = scenario.driver.act("accept", number)
    if decision is not None and (decision.status_code != 200 or decision.json().get("step") != "SL"):
        pytest.skip("not-applicable: the driver made no SL to query after (ACC-01 judges the decision)")
    case_no = decision.json().get("case_no") if decision is not None else None  # optional in the answer (§11)
    if case_no is None:  # a person accepted, or the driver did not name it: the SL's first attempt (503) does
        attempts = platform.wait_for(lambda: platform.pushes(number), with_step("SL"))
        case_no = next((p.event.get("case_no") for p in attempts if p.event.get("step") == "SL"), None)
        if case_no is None:
            pytest.skip("not-applicable: no SL was pushed to query after (ACC-01 judges the decision)")
    status, body = _status(sut, target, number)
    equal(
        "the status query while the SL waits in the outbox (the exchange answered 503)",
        (status, body.get("status"), body.get("case_no")),
        (200, "accepted", case_no),
        fix="answer the status of the last event produced, delivered or not: the SL queued makes it accepted",
        where=f"GET {APPLICATIONS}/{number}",
    )


@pytest.mark.requirement("APP-03", clauses=["APP-03.10", "CODE-09.1"])
def test_a_resident_card_of_any_age_is_taken(scenario: Scenario) -> None:
    """A 居民身份证 (111) passing CODE-01 is taken whatever the holder's age: CODE-01 judges the birth date only as a
    real day not after today, so a holder of 95 and one of 16 are taken like anyone."""
    for age in (95, 16):
        answered(
            _intake_answers(
                scenario, "person", (_set("applicant/id_number", lambda s, a=age: s.factory.fake.id_number(age=a)),)
            ),
            TAKEN,
            fix=f"take every ID number CODE-01 holds valid: the holder is {age} (no plausibility rule of one's own)",
        )


@pytest.mark.requirement("APP-05", clauses=["APP-05.3"])
def test_a_persons_licenses_are_verified_for_the_id_number_as_sent(scenario: Scenario, platform: Nodes) -> None:
    """A person whose ID number ends in X (CODE-01: the check character 10) presents a valid license of their own:
    it is verified with holder_id = the id_number exactly as sent, and the application can be accepted (SL)."""
    scenario.use(LICENSE_MATERIAL)
    application = scenario.application()
    applicant = application["applicant"]
    stem = next(
        b for b in (applicant["id_number"][:14] + f"{n:03d}" for n in range(1, 1000)) if mod_11_2_check(b) == "X"
    )
    applicant["id_number"] = stem + "X"
    listed = {m["material_code"]: m for m in scenario.item["materials"]}
    application["materials"] = [
        scenario.license_for(listed[m["material_code"]], applicant) if m["kind"] == "license" else m
        for m in application["materials"]
    ]
    number = application["application_no"]
    answered(scenario.submit(application), TAKEN, fix="take the application; verify licenses before deciding")
    scenario.driver.act("accept", number)
    decided = first_step(scenario.steps(number, "SL"), ("SL", "BZ", "BYSL"))
    asked = licenses_verified(platform)
    for material in scenario.license_materials(application):
        wanted = (material["license_id"], applicant["id_number"])
        if wanted not in asked:
            raise Violation(
                "a license material was not verified for the applicant's id_number as sent",
                f"POST /license/v1/licenses/verify {{license_id: {wanted[0]}, holder_id: {wanted[1]}}}",
                sorted(map(str, (a for a in asked if a[0] == wanted[0]))) or "no verification",
                "verify each license material with holder_id = the applicant's id_number, unchanged (X upper case)",
                f"the license library's traffic for application {number}",
            )
    equal(
        "the first decision on an application whose license is valid for the applicant",
        decided,
        "SL",
        fix="accept when every license is valid for the applicant",
        where=f"application {number}",
    )


# depth: CODE-01 and CODE-09 on the whole country's IDs and on birth-date edges (issue 13, review 2 a1, a6, a13)
def _born(birth: Callable[[], str], division: str = "") -> Callable[[Scenario], str]:
    """A valid ID number born on `birth()` (YYYYMMDD, read when the application is made), of `division` (the
    system's own when empty); the check character is right even when the date is no date."""

    def number(scenario: Scenario) -> str:
        body = f"{division or scenario.target.registration.division_code}{birth()}123"
        return body + mod_11_2_check(body)

    return number


def _legal_rep(id_type: str, number: Callable[[Scenario], str]) -> tuple[Change, ...]:
    return (_set("applicant/legal_rep/id_type", lambda s: id_type), _set("applicant/legal_rep/id_number", number))


TAKEN_WHOEVER = {  # valid applicants a system with a narrower rule than CODE-01/CODE-09 refuses
    "a citizen of Beijing, CODE-01's own vector 11010519491231002X (a division code of the whole country)": (
        "person",
        (_set("applicant/id_number", lambda s: "11010519491231002X"),),
    ),
    "a citizen born in 110103 崇文区 (Beijing, abolished 2010)": (
        "person",
        (_set("applicant/id_number", _born(lambda: "19750308", "110103")),),
    ),
    "a company whose representative was born in 440305 南山区 (Shenzhen)": (
        "legal",
        _legal_rep("111", _born(lambda: "19680701", "440305")),
    ),
    "a company whose representative holds a passport (414, CODE-01 applies to 111 only)": (
        "legal",
        _legal_rep("414", lambda s: "E12345678"),
    ),
    "a company whose representative holds a foreigner's permanent residence card (553)": (
        "legal",
        _legal_rep("553", lambda s: "USA110075010101"),
    ),
    **{
        f"a citizen born on {day} (a real day: a leap year's 29 February)": (
            "person",
            (_set("applicant/id_number", _born(lambda d=day: d)),),
        )
        for day in ("19960229", "20000229")
    },
    "a citizen born today (+08:00): not after today": (
        "person",
        (_set("applicant/id_number", _born(lambda: f"{today_cn():%Y%m%d}")),),
    ),
}
REFUSED_WHOEVER = {  # invalid ID numbers a system with a wider rule takes
    "born on 19000229 (1900 was no leap year)": _born(lambda: "19000229"),
    **{
        f"of {division}, a real province and city but no county (GB/T 2260 has no such code)": _born(
            lambda: "19800517", division
        )
        for division in ("330199", "110199")
    },
}


@pytest.mark.requirement(
    "APP-03",
    clauses=["APP-03.4", "APP-03.10", "APP-03.12", "APP-03.16", "APP-03.18", "CODE-01.4", "CODE-01.5", "CODE-01.7"],
)
def test_ids_of_the_whole_country_and_every_real_birth_day_are_taken(scenario: Scenario) -> None:
    """CODE-01 as the norm writes it, no narrower and no wider: IDs of any GB/T 2260 division (another province's,
    an abolished one), born on 29 February of a leap year or today, and a representative's non-111 certificate
    are taken; 29 February 1900 and a county code that does not exist are refused."""
    for case, (applicant, changes) in TAKEN_WHOEVER.items():
        answered(
            _intake_answers(scenario, applicant, changes),
            TAKEN,
            fix=f"take the application of {case}: APP-03 refuses only codes that fail their rule",
        )
    for case, number in REFUSED_WHOEVER.items():
        answered(
            _intake_answers(scenario, "person", (_set("applicant/id_number", number),)),
            422,
            "APPLICANT_INVALID",
            fix=f"refuse an applicant whose ID number is {case} with 422 APPLICANT_INVALID (CODE-01)",
        )
