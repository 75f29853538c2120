"""One validator for every message of the norm, JSON or XML, with located, requirement-keyed findings."""

from __future__ import annotations

import json
from typing import Any

import yaml

from yzw.errors import YzwError
from yzw.spec.findings import Finding, attributed, field_of, pointer_of
from yzw.spec.rules import cross_field_findings
from yzw.spec.schemas import FORMATS, compiled, format_problem, message_kinds, payload_requirement, root_requirement
from yzw.spec.xml import XmlForbidden, XmlMalformed, from_xml, parse_xml

__all__ = ["Unreadable", "detect_kind", "message_kinds", "validate", "validate_value"]

MAX_DEPTH = 255  # jsonschema-rs refuses deeper documents ("Recursion limit reached")

EVENT_LISTS = ("batch", "events", "case")  # kinds whose `events` members are events


class Unreadable(YzwError):
    """The input is not JSON, YAML or XML at all (MSG-04), or its kind cannot be told."""


def validate(kind: str | None, document: Any) -> list[Finding]:
    """Findings for a message given as a JSON value, JSON/YAML text or XML text; [] when valid.

    `kind` may be None: it is then detected. XML paths come back as XPath, JSON paths as JSON pointers.
    """
    if isinstance(document, bytes | str):
        text = document.decode("utf-8") if isinstance(document, bytes) else document
        if text.lstrip("\ufeff \t\r\n").startswith("<"):
            return _validate_xml(kind, text.encode("utf-8"))
        document = parse_text(text)
    kind = kind or detect_kind(document)
    if kind is None:
        raise Unreadable(
            "cannot tell which message this is; name its kind (--kind), one of: " + ", ".join(message_kinds())
        )
    return _validate_json(kind, document)


def parse_text(text: str) -> Any:
    """JSON (no NaN or Infinity: MSG-04), or YAML for registration records (sut.yaml)."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as json_error:
        if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
            raise Unreadable(f"[MSG-04] malformed JSON: {json_error}") from None
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise Unreadable(f"[MSG-04] malformed JSON: {json_error}") from None
        if not isinstance(value, dict | list):
            raise Unreadable(f"[MSG-04] malformed JSON: {json_error}") from None
        return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def validate_value(kind: str, document: Any) -> list[Finding]:
    """Findings for a message already parsed: any JSON value, a string root too, is judged as data, never read
    as text (a body `"x"` is a string that is no object, not YAML to parse)."""
    return _validate_json(kind, document)


def _validate_json(kind: str, document: Any) -> list[Finding]:
    validator = compiled(kind)
    try:
        findings = (
            []
            if validator.is_valid(document)
            else [_finding(kind, document, error) for error in validator.iter_errors(document)]
        )
    except ValueError:  # the validator walks at most MAX_DEPTH levels: deeper is no message of the norm's
        reason = f"nested deeper than {MAX_DEPTH} levels"
        return [Finding("", "", reason, _requirement(kind, document, []))]
    findings += cross_field_findings(kind, document)
    unique = {(f.path, f.reason): f for f in findings}
    return sorted(unique.values(), key=lambda f: f.path)


SEQ_START = "EVT-03"  # an event's seq below 1: "seq starts at 1" is EVT-03's rule for that number


def _finding(kind: str, document: Any, error: Any) -> Finding:
    steps = list(error.instance_path)
    reason = error.message
    name = type(error.kind).__name__
    requirement = _requirement(kind, document, steps)
    if name == "Minimum" and _event_at(kind, document, steps)[1] == ["seq"]:
        requirement = SEQ_START  # the number's own rule: seq starts at 1 (the key words' attribution)
    if name == "Format" and error.kind.format in FORMATS:
        problem = format_problem(error.kind.format, error.instance)
        if problem is not None:
            reason, requirement = problem.message, problem.requirement
    elif name == "Required":
        steps = [*steps, error.kind.property]
        reason = "required member is missing"
    pointer = pointer_of(steps)
    event, _ = _event_at(kind, document, steps)
    step = event.get("step") if event is not None else None
    member = field_of(pointer)
    return Finding(pointer, member, reason, attributed(requirement, member, step=step, empty=name == "MinLength"))


def _event_at(kind: str, document: Any, steps: list[str | int]) -> tuple[dict[str, Any] | None, list[str | int]]:
    """The event a path lies in (the document, or one of a batch's events) and the path inside it."""
    event, rest = None, steps
    if kind in ("event", "recorded-event"):
        event = document
    elif kind in EVENT_LISTS and len(steps) >= 2 and steps[0] == "events":
        events = document.get("events") if isinstance(document, dict) else None
        if isinstance(events, list) and isinstance(steps[1], int) and steps[1] < len(events):
            event, rest = events[steps[1]], steps[2:]
    return (event, rest) if isinstance(event, dict) else (None, rest)


def _requirement(kind: str, document: Any, steps: list[str | int]) -> str:
    """The most specific requirement for a path: the event's payload step, the event, or the kind."""
    event, rest = _event_at(kind, document, steps)
    if event is not None:
        if rest[:1] == ["payload"]:
            return payload_requirement(event.get("step")) or root_requirement("event")
        return root_requirement("event")
    return root_requirement(kind)


def _validate_xml(kind: str | None, data: bytes) -> list[Finding]:
    try:
        root = parse_xml(data)
    except XmlForbidden as exc:
        return [Finding("/", "", str(exc), "MSG-05")]
    except XmlMalformed as exc:
        raise Unreadable(str(exc)) from None
    xml_kind, document = from_xml(root)
    if kind is not None and kind != xml_kind:
        return [Finding(f"/{xml_kind}", xml_kind, f"root element is {xml_kind!r}, expected {kind!r}", "MSG-01")]
    return [
        Finding(xpath_of(xml_kind, finding.path), finding.field, finding.reason, finding.requirement)
        for finding in _validate_json(xml_kind, document)
    ]


def xpath_of(kind: str, pointer: str) -> str:
    """The XPath of a JSON pointer in the XML form: array index n becomes item[n+1]."""
    steps = [step for step in pointer.split("/") if step]
    return "/" + "/".join([kind, *(f"item[{int(s) + 1}]" if s.isdigit() else s for s in steps)])


# Members that tell a message's kind; signatures with more members are tried first.
_SIGNATURE_MEMBERS = (
    ("recorded-event", "event_id step receipt_id"),
    ("event", "event_id step"),
    ("batch-answer", "results"),
    ("case", "case_no application_no events"),
    ("events", "events"),
    ("application", "application_no applicant item_code"),
    ("license", "license_id holder issuer"),
    ("license-verify", "license_id holder_id"),
    ("license-status", "status"),
    ("item", "item_code base_code"),
    ("items", "items"),
    ("notification", "item_code change"),
    ("notice", "notice_id card"),
    ("card", "card_id level"),
    ("cards", "cards"),
    ("evaluation", "evaluation_id level"),
    ("rectification", "evaluation_id action"),
    ("sut", "app_id base_url"),
    ("token", "access_token"),
    ("token-request", "grant_type"),
    ("ticket-validation", "user signature"),
    ("ticket-validate", "ticket app_id"),
    ("keys", "keys"),
    ("driver-action", "action"),
    ("driver-answer", "ok"),
    ("error", "code message"),
    ("status", "application_no status updated_at"),
    ("application-answer", "application_no received_at status"),
    ("supplements-answer", "application_no received_at status"),
    ("supplements", "materials"),
    ("receipt", "receipt_id duplicate"),
    ("health", "status norm"),
    ("session", "user_id auth_level"),
    ("logout", "user_id"),
)
_SIGNATURES = sorted(
    ((kind, frozenset(members.split())) for kind, members in _SIGNATURE_MEMBERS), key=lambda s: -len(s[1])
)


def detect_kind(document: Any) -> str | None:
    """The message kind a JSON value most likely is, by the members it carries; None when unclear."""
    if not isinstance(document, dict):
        return None
    keys = set(document)
    if keys >= {"events"} and isinstance(document.get("events"), list) and not keys & {"case_no", "results"}:
        events = document["events"]
        return "batch" if events and not any("receipt_id" in e for e in events if isinstance(e, dict)) else "events"
    return next((kind for kind, needed in _SIGNATURES if needed <= keys), None)
