"""specs/schemas: well-formed, forward compatible, right requirement at the right path."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import REPO

from yzw.codes.times import CN_TZ
from yzw.fixtures import DEFECTS, invalid_value, make_faker, messages
from yzw.fixtures.messages import MessageFactory
from yzw.register import load_register
from yzw.spec import detect_kind, message_kinds, schemas, validate
from yzw.spec.schemas import payload_requirement, root_requirement, schema_documents
from yzw.spec.validate import Unreadable

SCHEMAS = sorted((REPO / "specs" / "schemas").glob("*.schema.json"))
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
SOME = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *(n for value in node.values() for n in _nodes(value))]
    return [n for value in node for n in _nodes(value)] if isinstance(node, list) else []


def test_no_schema_refuses_unknown_members() -> None:
    messages = {name: doc for name, doc in schema_documents().items() if name != "register"}  # kit data
    closed = [
        name
        for name, doc in messages.items()
        for node in _nodes(doc)
        if node.get("additionalProperties") is False or node.get("unevaluatedProperties") is False
    ]
    assert not closed, f"MSG-03: unknown members are ignored, never refused: {closed}"


def test_code_enum_schema_is_derived_from_the_code_lists() -> None:
    spec = importlib.util.spec_from_file_location("build_code_schema", REPO / "scripts" / "build_code_schema.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (REPO / "specs" / "schemas" / "codes.schema.json").read_text(encoding="utf-8") == module.render()


def test_every_kind_and_payload_names_a_known_requirement() -> None:
    register = load_register()
    assert all(root_requirement(kind) in register for kind in message_kinds())
    steps = ["SB", "BZ", "BZJ", "BYSL", "SL", "CB", "SH", "PZ", "BJ", "SD", "GQ", "HF", "CH", "FK"]
    assert all(payload_requirement(step) in register for step in steps)


def _messages(seed: int) -> list[tuple[str, dict[str, Any]]]:
    factory = MessageFactory(make_faker(seed))
    channel = ["web", "app", "window", "terminal", "agent"][seed % 5]
    steps = [
        ("BZ", "BZJ", "SL", "CB", "SH", "PZ", "BJ", "SD"),
        ("SL", "GQ", "HF", "CB", "GQ", "CH"),
        ("BZ", "BYSL"),
        ("SL", "CB", "SH", "PZ", "BJ", "SD", "FK"),
    ][seed % 4]
    application, events = factory.case_history(steps, channel=channel)
    case_no = next((e["case_no"] for e in events if e["case_no"]), None) or factory.fake.case_no()
    evaluation = factory.evaluation(case_no, 2)
    return [
        ("application", application),
        ("application", factory.application("legal", channel)),
        ("supplements", factory.supplements()),
        ("batch", {"events": events}),
        ("item", factory.item()),
        ("license", factory.license(case_no)),
        ("notice", factory.notice(case_no)),
        ("evaluation", evaluation),
        ("rectification", factory.rectification(case_no, evaluation["evaluation_id"])),
        ("sut", factory.sut()),
        *(("event", event) for event in events),
    ]


@SOME
@given(seed=SEEDS)
def test_every_generated_message_validates_and_is_detected(seed: int) -> None:
    for kind, message in _messages(seed):
        assert validate(kind, message) == [], f"{kind}: {validate(kind, message)}"
        assert detect_kind(message) == kind


def _with_unknown_members(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            **{k: _with_unknown_members(v) for k, v in node.items()},
            "x_future_member": {"any": [1, "two"]},
        }
    if isinstance(node, list):
        return [_with_unknown_members(v) for v in node]
    return node


@SOME
@given(seed=SEEDS)
def test_unknown_members_are_ignored_at_every_level(seed: int) -> None:
    for kind, message in _messages(seed):
        widened = _with_unknown_members(message)
        widened.get("form", {}).pop("x_future_member", None)
        assert validate(kind, widened) == [], kind


# (message kind, JSON pointer where the bad value goes, code kind, builder of the message)
PLACEMENTS: list[tuple[str, str, str]] = [
    ("application", "/applicant/id_number", "id_number"),
    ("application", "/division_code", "division"),
    ("application", "/item_code", "item_code"),
    ("application", "/application_no", "application_no"),
    ("application", "/submitted_at", "datetime"),
    ("application", "/applicant/id_type", "certificate_type"),
    ("legal", "/applicant/uscc", "uscc"),
    ("legal", "/applicant/kind", "applicant_kind"),
    ("event", "/case_no", "case_no"),
    ("license", "/license_id", "license_id"),
    ("license", "/valid_from", "date"),
    ("item", "/base_code", "base_code"),
    ("item", "/type", "item_type"),
    ("item", "/license_type", "license_type"),
    ("item", "/case_kind", "case_kind"),
]
CASES = [
    (kind, pointer, code, defect)
    for kind, pointer, code in PLACEMENTS
    for defect in DEFECTS[code]
    if not invalid_value(make_faker(0), code, defect).context
]


def _base(kind: str, factory: MessageFactory) -> dict[str, Any]:
    if kind == "legal":
        return factory.application("legal")
    if kind == "event":
        _, events = factory.case_history(("SL", "CB"))
        return events[1]
    return {"application": factory.application, "license": factory.license, "item": factory.item}[kind]()


def _put(message: dict[str, Any], pointer: str, value: Any) -> None:
    *parents, last = pointer.strip("/").split("/")
    node = message
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    node[last] = value


@pytest.mark.parametrize(("kind", "pointer", "code", "defect"), CASES, ids=[f"{c}:{d}@{p}" for _, p, c, d in CASES])
def test_invalid_code_is_reported_at_its_path_with_its_requirement(
    kind: str, pointer: str, code: str, defect: str
) -> None:
    fake = make_faker(7)
    message = _base(kind, MessageFactory(fake))
    variant = invalid_value(fake, code, defect)
    _put(message, pointer, variant.value)
    findings = validate("application" if kind == "legal" else kind, message)
    at_path = [f for f in findings if f.path == pointer]
    expected = {"item_type": "CODE-04", "license_type": "CODE-07"}.get(code) or DEFECT_REQUIREMENT[code]
    assert at_path, f"nothing reported at {pointer}: {findings}"
    assert {f.requirement for f in at_path} == {expected}


DEFECT_REQUIREMENT = {
    "id_number": "CODE-01",
    "uscc": "CODE-02",
    "division": "CODE-03",
    "base_code": "CODE-04",
    "item_code": "CODE-04",
    "case_kind": "CODE-04",
    "application_no": "CODE-05",
    "case_no": "CODE-06",
    "license_id": "CODE-07",
    "datetime": "CODE-08",
    "date": "CODE-08",
    "certificate_type": "CODE-09",
    "applicant_kind": "CODE-09",
}


def _event(steps: tuple[str, ...], index: int) -> dict[str, Any]:
    _, events = MessageFactory(make_faker(11)).case_history(steps)
    return copy.deepcopy(events[index])


def _app() -> dict[str, Any]:
    return MessageFactory(make_faker(3)).application()


def _item() -> dict[str, Any]:
    return MessageFactory(make_faker(3)).item()


@pytest.mark.parametrize(
    ("kind", "make", "change", "pointer", "requirement"),
    [
        (
            "event",
            lambda: _event(("SL",), 0),
            lambda m: m["payload"].pop("promised_due_at"),
            "/payload/promised_due_at",
            "ACC-03",
        ),
        (
            "event",
            lambda: _event(("SL", "CB", "SH", "PZ", "BJ"), 4),
            lambda m: m["payload"].update(result="denied"),
            "/payload/reason",
            "EVT-05",
        ),
        (
            "event",
            lambda: _event(("BZ",), 0),
            lambda m: m["payload"].update(missing=[]),
            "/payload/missing",
            "ACC-05",
        ),
        ("event", lambda: _event(("SL", "CB"), 1), lambda m: m.update(case_no=None), "/case_no", "EVT-02"),
        (
            "event",
            lambda: _event(("BZ",), 0),
            lambda m: m["handler"].update(name=""),
            "/handler/name",
            "MSG-03",  # 2026.2: names are non-empty in what a system sends
        ),
        (
            "event",
            lambda: _event(("BYSL",), 0),
            lambda m: m.update(case_no="330106021202612040000017"),
            "/case_no",
            "ACC-06",  # 2026.2: a case_no on a refused application
        ),
        ("application", _app, lambda m: m["delivery"].pop("address"), "/delivery/address", "APP-01"),
        (
            "application",
            _app,
            lambda m: m["materials"][1].pop("license_id"),
            "/materials/1/license_id",
            "APP-01",
        ),
        ("item", _item, lambda m: m.update(promised_days=30), "/promised_days", "CAT-01"),
        ("item", _item, lambda m: m.update(case_kind="1"), "/promised_days", "CAT-01"),
    ],
    ids=[
        "SL-due",
        "BJ-denied-reason",
        "BZ-empty-missing",
        "CB-null-case_no",
        "empty-name",
        "BYSL-case_no",
        "post-without-address",
        "license-material-without-id",
        "promised-over-legal",
        "immediate-with-promised-days",
    ],
)
def test_rule_breaks_carry_the_most_specific_requirement(
    kind: str, make: Any, change: Any, pointer: str, requirement: str
) -> None:
    message = make()
    change(message)
    findings = [f for f in validate(kind, message) if f.path == pointer]
    assert findings, validate(kind, message)
    assert {f.requirement for f in findings} == {requirement}


def test_sl_payload_must_repeat_the_events_numbers() -> None:
    event = _event(("SL",), 0)
    event["payload"]["application_no"] = MessageFactory(make_faker(1)).application()["application_no"]
    assert [(f.path, f.requirement) for f in validate("event", event)] == [("/payload/application_no", "ACC-03")]


def test_findings_inside_a_batch_point_into_the_event() -> None:
    _, events = MessageFactory(make_faker(4)).case_history(("BZ", "BZJ", "SL"))
    events[2]["payload"]["promised_days"] = -1
    findings = validate("batch", {"events": events})
    assert [(f.path, f.requirement) for f in findings] == [("/events/2/payload/promised_days", "ACC-03")]


def test_malformed_json_and_nan_are_unreadable() -> None:
    with pytest.raises(Unreadable, match="MSG-04"):
        validate("application", '{"application_no": NaN}')
    with pytest.raises(Unreadable, match="kind"):
        validate(None, '{"hello": 1}')


def test_case_histories_stay_inside_the_calendar_whatever_today_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages, "today_cn", lambda: dt.date(2031, 6, 1))
    application, events = MessageFactory(make_faker(5)).case_history()
    assert application["submitted_at"] < "2027"
    assert validate("event", events[2]) == []


def test_remembered_format_answers_follow_the_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """An application_no dated tomorrow is refused today and taken tomorrow: the format cache is kept per day."""
    application = MessageFactory(make_faker(3)).application(submitted=dt.datetime(2026, 6, 2, 9, tzinfo=CN_TZ))
    monkeypatch.setattr(schemas, "today_cn", lambda: dt.date(2026, 6, 1))
    assert [f.requirement for f in validate("application", application)] == ["CODE-05"]
    monkeypatch.setattr(schemas, "today_cn", lambda: dt.date(2026, 6, 2))
    assert validate("application", application) == []
