"""The per-record shape screen of the columnar audit: is a record surely of good shape (schema, codes, the
members the order judge and the KPIs read)? One JSON Schema validation per distinct *masked* record.

Nearly every member of an event is unique (ids, numbers, times, names), so validating each record costs the
audit most of its time. Masking replaces each such member, when it is a string of the right form, by a fixed
valid placeholder, and keeps its value aside for its code rule (judged once per distinct value, in batches:
`codes.failing`). Masked records repeat, so the validator runs once per distinct masked record. This is exact
while a masked member's constraints stand alone (a type and a named format or pattern, the same whatever the
step): `masks_hold` checks that the schemas still say so, or masking is off. The screen may refuse a good
record (the row audit then judges it), never pass a bad one.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from typing import Any

import orjson

from yzw.audit.codes import passes
from yzw.audit.judge import APPLICATION_NO_LENGTH, EVENT_MEMBERS, _time
from yzw.audit.recording import Recorder, formats_decide_alone
from yzw.codes.lists import code_list
from yzw.codes.times import today_cn
from yzw.spec.rules import cross_field_findings
from yzw.spec.schemas import compiled, schema_documents

# The times the screen reads itself; any other spelling goes to the row audit (which parses with fromisoformat).
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d[+-](?:[01]\d|2[0-3]):[0-5]\d")
UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID_VALUE = re.compile(UUID[1:-1])  # fullmatch: no newline slips past `$`
KPI_MEMBERS = ("promised_days", "legal_days")
SHAPE_KEPT = 1024  # characters of a masked record worth remembering
VERDICTS = 4096  # distinct masked records remembered: the common ones; unique ones (SB) would only fill memory
TEXT, SOME = "x", "00000000-0000-0000-0000-000000000000"

# What the masks assume of the schemas (annotations left out): pointer → the subschema found there.
_ASSUMED: dict[str, Any] = {
    "common#/$defs/uuid": {"type": "string", "pattern": UUID},
    "common#/$defs/application_no": {"type": "string", "format": "yzw-application-no"},
    "common#/$defs/case_no": {"type": "string", "format": "yzw-case-no"},
    "common#/$defs/datetime": {"type": "string", "format": "yzw-datetime"},
    "common#/$defs/division_code": {"type": "string", "format": "yzw-division"},
    "common#/$defs/uscc": {"type": "string", "format": "yzw-uscc"},
    "common#/$defs/item_code": {"type": "string", "format": "yzw-item-code"},
    "common#/$defs/license_id": {"type": "string", "format": "yzw-license-id"},
    "common#/$defs/name": {"type": "string", "minLength": 1},
    "common#/$defs/handler": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "string", "minLength": 1}, "name": {"$ref": "#/$defs/name"}},
    },
    "event#/properties": {
        "event_id": {"$ref": "common.schema.json#/$defs/uuid"},
        "application_no": {"$ref": "common.schema.json#/$defs/application_no"},
        "case_no": {"type": ["string", "null"], "format": "yzw-case-no"},
        "seq": {"type": "integer", "minimum": 1},
        "step": {"$ref": "common.schema.json#/$defs/step"},
        "occurred_at": {"$ref": "common.schema.json#/$defs/datetime"},
        "division_code": {"$ref": "common.schema.json#/$defs/division_code"},
        "dept_uscc": {"$ref": "common.schema.json#/$defs/uscc"},
        "item_code": {"$ref": "common.schema.json#/$defs/item_code"},
        "handler": {"$ref": "common.schema.json#/$defs/handler"},
        "opinion": {"type": "string"},
        "payload": {"type": "object"},
    },
    "event#/$defs/payload_SL/properties": {
        "case_no": {"$ref": "common.schema.json#/$defs/case_no"},
        "application_no": {"$ref": "common.schema.json#/$defs/application_no"},
        "legal_days": {"$ref": "common.schema.json#/$defs/days"},
        "promised_days": {"$ref": "common.schema.json#/$defs/days"},
        "promised_due_at": {"$ref": "common.schema.json#/$defs/datetime"},
    },
    "event#/$defs/payload_BJ/properties/licenses": {
        "type": "array",
        "items": {"$ref": "common.schema.json#/$defs/license_id"},
    },
    "event#/$defs/payload_BJ/properties/reason": {"type": "string"},
    "event#/$defs/payload_GQ/properties/reason": {"type": "string"},
    "event#/$defs/payload_CH/properties/reason": {"type": "string"},
    "event#/$defs/payload_BYSL/properties/reason": {"type": "string"},
    "event#/$defs/payload_BZJ": {
        "type": "object",
        "required": ["materials"],
        "properties": {"materials": {"$ref": "common.schema.json#/$defs/materials"}},
    },
    "common#/$defs/materials": {"type": "array", "items": {"$ref": "#/$defs/material"}},
    "common#/$defs/material": {
        "type": "object",
        "required": ["material_code", "name", "kind"],
        "properties": {
            "material_code": {"type": "string", "minLength": 1},
            "name": {"$ref": "#/$defs/name"},
            "kind": {"enum": ["file", "license"]},
            "file": {"$ref": "#/$defs/file"},
            "license_id": {"$ref": "#/$defs/license_id"},
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": "file"}}, "required": ["kind"]}, "then": {"required": ["file"]}},
            {
                "if": {"properties": {"kind": {"const": "license"}}, "required": ["kind"]},
                "then": {"required": ["license_id"]},
            },
        ],
    },
    "common#/$defs/file": {
        "type": "object",
        "required": ["name", "size", "sm3", "url"],
        "properties": {
            "name": {"$ref": "#/$defs/name"},
            "size": {"type": "integer", "minimum": 0},
            "sm3": {"$ref": "#/$defs/sm3"},
            "url": {"type": "string"},
        },
    },
    "common#/$defs/sm3": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "event#/$defs/payload_FK/properties": {
        "notice_id": {"type": "string", "minLength": 1},
        "explanation": {"type": "string"},
    },
}
_BRANCHED = {"step", "payload", "case_no"}  # the members the step's branch constrains besides the common ones
_CODED = (("division_code", "yzw-division"), ("dept_uscc", "yzw-uscc"), ("item_code", "yzw-item-code"))
_ANNOTATIONS = frozenset({"description", "examples", "title", "$comment", "x-requirement"})
_KEYWORDS = frozenset({"type", "required", "properties", "if", "then", "else"})  # no other keyword reads a value
_EVENT_KEYWORDS = _KEYWORDS | {"$defs", "$schema", "$id"}
# Payload members masked per step: free texts, and (_MASKED) every masked member.
_PAYLOAD_TEXT = {"BJ": ("reason",), "GQ": ("reason",), "CH": ("reason",), "BYSL": ("reason",), "FK": ("explanation",)}
_MASKED = {
    "SL": ("case_no", "application_no", "promised_due_at"),
    "BJ": ("licenses", "reason"),
    "GQ": ("reason",),
    "CH": ("reason",),
    "BYSL": ("reason",),
    "FK": ("notice_id", "explanation"),
    "BZJ": ("materials",),  # the fast lane's masks (fastlane.MATERIALS)
}


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items() if key not in _ANNOTATIONS}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _at(pointer: str) -> Any:
    document, path = pointer.split("#", 1)
    node: Any = schema_documents()[document]
    for part in filter(None, path.split("/")):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _branches_touch(node: Any) -> set[str]:
    """The members whose values an if/then/else chain constrains (`required` asks presence only: masks keep it)."""
    if not isinstance(node, dict):
        return set()
    touched = set(node.get("properties", {}))
    for key in ("if", "then", "else"):
        touched |= _branches_touch(node.get(key))
    return touched


@cache
def masks_hold() -> bool:
    """True while the schemas constrain the masked members as the masks assume (else no masking at all)."""
    try:
        event = schema_documents()["event"]
        return (
            all(_plain(_at(pointer)) == expected for pointer, expected in _ASSUMED.items())
            and set(event) <= _EVENT_KEYWORDS | _ANNOTATIONS
            and _branches_touch({key: event.get(key) for key in ("if", "then", "else")}) <= _BRANCHED
            and all(_payload_holds(event["$defs"][f"payload_{step}"], members) for step, members in _MASKED.items())
        )
    except (KeyError, AttributeError, TypeError):
        return False


def _payload_holds(node: dict[str, Any], masked: tuple[str, ...]) -> bool:
    branches = {key: node.get(key) for key in ("if", "then", "else")}
    return set(node) <= _KEYWORDS | _ANNOTATIONS and not _branches_touch(branches) & set(masked)


class Screen:
    """Judges records' shapes, remembering the verdict of each distinct masked record."""

    def __init__(self) -> None:
        self.validator = compiled("event")
        self.steps = frozenset(code_list("steps"))
        self.masking = masks_hold()
        self.verdicts: dict[bytes | str, bool] = {}
        self.placeholders: dict[str, str] = {}
        self.recorder = Recorder() if formats_decide_alone() else None

    def judge(self, event: dict[str, Any], exact_json: bool) -> tuple[bool, list[tuple[str, str]]]:
        """Whether the record is surely of good shape, but for the coded values it lists (format, value)
        to be judged in a batch. `exact_json`: the record came from orjson (no NaN, no huge integers), so
        its JSON text tells it apart from any other record."""
        codes: list[tuple[str, str]] = []
        masked = self._masked(event, codes) if self.masking else event
        if masked is None:
            return False, codes
        key: bytes | str = orjson.dumps(masked) if exact_json else repr(masked)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = (
                surely_usable(masked, self.steps)
                and self.validator.is_valid(masked)
                and not cross_field_findings("event", masked)
            )
            if len(self.verdicts) >= VERDICTS:
                self.verdicts.clear()
            self.verdicts[key] = verdict
        return verdict, codes

    def offer(self, name: str, values: list[str]) -> None:
        """Values of a format to take a placeholder from, if it has none yet (the first valid one)."""
        if name not in self.placeholders:
            today = today_cn()
            for value in values[:64]:
                if passes(name, value, today):
                    self.placeholders[name] = value
                    return

    def masked_verdicts(self, shapes: list[str]) -> tuple[dict[str, bool], dict[str, list[tuple[str, str]]]]:
        """The verdicts on distinct masked records (`fastlane.screened`), and the coded values the verdict of a
        SB still waits on: an SB's application, met once, is validated with recording formats
        (`recording`), its values judged with the batch's; the verdict holds only if they all pass."""
        verdicts: dict[str, bool] = {}
        waiting: dict[str, list[tuple[str, str]]] = {}
        for shape in shapes:
            if self.recorder is not None and shape.split("\x1f", 3)[2] == "SB":
                verdicts[shape], met = self._shape_verdict(shape, self.recorder)
                if verdicts[shape] and met:
                    waiting[shape] = met
            else:
                verdicts[shape] = self.masked_verdict(shape)
        return verdicts, waiting

    def masked_verdict(self, shape: str) -> bool:
        """The verdict on a fast-lane record from its masked form (`fastlane.screened`), remembered."""
        verdict = self.verdicts.get(shape)
        if verdict is None:
            verdict, _ = self._shape_verdict(shape)
            if len(shape) <= SHAPE_KEPT:  # a long one (an SB's whole application) is met once
                if len(self.verdicts) >= VERDICTS:
                    self.verdicts.clear()
                self.verdicts[shape] = verdict
        return verdict

    def _shape_verdict(self, shape: str, recorder: Recorder | None = None) -> tuple[bool, list[tuple[str, str]]]:
        """The verdict on a masked record; with a `recorder`, but for the coded values it lists."""
        no_case, seq, step, no_arrival, text = shape.split("\x1f", 4)
        payload = _payload_of(text)
        if payload is None:
            return False, []
        names = ("yzw-application-no", "yzw-datetime", "yzw-division", "yzw-uscc", "yzw-item-code")
        if not all(name in self.placeholders for name in names) or (
            no_case == "false" and "yzw-case-no" not in self.placeholders
        ):
            return False, []
        if not isinstance(payload, dict):
            return False, []
        if "\x01" in text:  # tokens (every one starts so) back to their placeholders
            tokens = {token: self.placeholders.get(name) for name, token in TOKENS.items()}
            if None in (tokens[v] for v in _tokens_in(payload)):
                return False, []
            payload = {key: _untoken(value, tokens) for key, value in payload.items()}
        event = {
            "event_id": SOME,
            "application_no": self.placeholders["yzw-application-no"],
            "case_no": None if no_case == "true" else self.placeholders["yzw-case-no"],
            "seq": int(seq),
            "step": step,
            "occurred_at": self.placeholders["yzw-datetime"],
            "division_code": self.placeholders["yzw-division"],
            "dept_uscc": self.placeholders["yzw-uscc"],
            "item_code": self.placeholders["yzw-item-code"],
            "handler": {"id": TEXT, "name": TEXT},
            "payload": payload,
        }
        if no_arrival == "false":
            event["received_at"] = TEXT
        if not surely_usable(event, self.steps):
            return False, []
        valid, met = recorder.is_valid(event) if recorder is not None else (self.validator.is_valid(event), [])
        return valid and not cross_field_findings("event", event), met

    def _code(self, codes: list[tuple[str, str]], name: str, value: str) -> str:
        """The placeholder for a coded value (the first valid one of its format met; until then the value
        itself), the value kept for its code rule."""
        codes.append((name, value))
        placeholder = self.placeholders.get(name)
        if placeholder is None:
            if not passes(name, value, today_cn()):
                return value
            placeholder = self.placeholders[name] = value
        return placeholder

    def _masked(self, event: dict[str, Any], codes: list[tuple[str, str]]) -> dict[str, Any] | None:
        masked = dict(event)
        value = event.get("event_id")
        if type(value) is str and UUID_VALUE.fullmatch(value):
            masked["event_id"] = SOME
        number = event.get("application_no")
        if type(number) is str and len(number) == APPLICATION_NO_LENGTH:
            masked["application_no"] = self._code(codes, "yzw-application-no", number)
        case_no = event.get("case_no")
        if type(case_no) is str:
            masked["case_no"] = self._code(codes, "yzw-case-no", case_no)
        occurred = event.get("occurred_at")
        if type(occurred) is str and TIME.fullmatch(occurred):
            masked["occurred_at"] = self._code(codes, "yzw-datetime", occurred)
        for member, name in _CODED:
            value = event.get(member)
            if type(value) is str and value:
                masked[member] = self._code(codes, name, value)
        for member in ("received_at", "delay_seconds", "opinion"):
            if type(event.get(member)) is str:
                masked[member] = TEXT
        if type(event.get("delay_seconds")) in (int, float):
            masked["delay_seconds"] = 0
        handler = event.get("handler")
        if type(handler) is dict:
            masked["handler"] = {
                **handler,
                **{k: TEXT for k in ("id", "name") if type(handler.get(k)) is str and handler[k]},
            }
        payload = event.get("payload")
        if type(payload) is dict:
            inner = self._payload(event, payload, masked, codes)
            if inner is None:
                return None
            masked["payload"] = inner
        return masked

    def _payload(
        self, event: dict[str, Any], payload: dict[str, Any], masked: dict[str, Any], codes: list[tuple[str, str]]
    ) -> dict[str, Any] | None:
        step, out = event.get("step"), dict(payload)
        if step == "SL":
            due = payload.get("promised_due_at")
            if type(due) is str and TIME.fullmatch(due):
                out["promised_due_at"] = self._code(codes, "yzw-datetime", due)
            for member in ("case_no", "application_no"):  # ACC-03: the same as the event's (judged here)
                if member in payload:
                    if payload[member] != event.get(member):
                        return None
                    out[member] = masked[member]
        elif step == "BJ" and type(payload.get("licenses")) is list:
            licenses = payload["licenses"]
            out["licenses"] = [
                self._code(codes, "yzw-license-id", item) if type(item) is str else item for item in licenses
            ]
        elif step == "FK" and type(payload.get("notice_id")) is str and payload["notice_id"]:
            out["notice_id"] = TEXT
        for member in _PAYLOAD_TEXT.get(str(step), ()):
            if type(payload.get(member)) is str:
                out[member] = TEXT
        return out


# The tokens of masked fast-lane values (fastlane.TOKENS): control characters, so never a value of that lane.
TOKENS = {"yzw-case-no": "\x01C", "yzw-application-no": "\x01A", "yzw-datetime": "\x01T", "yzw-license-id": "\x01L"}


def _payload_of(text: str) -> Any:
    """A fast-lane payload's value, None when it is no JSON or gives a member twice. Its text has no escapes,
    so every `":` ends a key: as many as the parsed objects hold members means none is given twice."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # tokens (control characters), NaN, huge integers: the careful reading
        value = None
    # orjson writes each member of the value as `"key":`, and no string of it holds a quote (no escapes)
    if value is not None and text.count('":') == orjson.dumps(value).count(b'":'):
        return value
    try:  # the tokens hold control characters: `strict` off, the layout let no other through
        return json.loads(text, strict=False, object_pairs_hook=_unique)
    except ValueError:
        return None


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object with no member twice (the row audit's parser keeps the last, the fast lane read the first)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a member given twice")
    return found


def _tokens_in(payload: dict[str, Any]) -> set[str]:
    values = [v for value in payload.values() for v in (value if isinstance(value, list) else [value])]
    return {v for v in values if isinstance(v, str) and v in TOKENS.values()}


def _untoken(value: Any, tokens: dict[str, str | None]) -> Any:
    if isinstance(value, list):
        return [_untoken(item, tokens) for item in value]
    return tokens.get(value, value) if isinstance(value, str) else value


def surely_usable(event: dict[str, Any], steps: frozenset[str]) -> bool:
    """True only when `unusable_member` finds nothing and the times are spelt as the screen reads them."""
    if not event.keys() >= EVENT_MEMBERS:
        return False
    for member in ("application_no", "dept_uscc", "division_code", "item_code"):
        value = event.get(member)
        if type(value) is not str or not value:
            return False
    payload, occurred, step = event.get("payload"), event["occurred_at"], event["step"]
    if len(event["application_no"]) != APPLICATION_NO_LENGTH or type(step) is not str or step not in steps:
        return False
    if type(event["seq"]) is not int or type(payload) is not dict or type(occurred) is not str:
        return False
    if event.get("case_no") is not None and type(event["case_no"]) is not str:
        return False
    if not TIME.fullmatch(occurred) or not _time(occurred):
        return False
    due = payload.get("promised_due_at", "")
    if due != "" and not _time(due):
        return False
    if any(member in payload and type(payload[member]) is not int for member in KPI_MEMBERS):
        return False
    return "licenses" not in payload or type(payload["licenses"]) is list


def given_delay(event: dict[str, Any]) -> tuple[bool, float | None]:
    """EVT-06's given delay as `_delay` reads it (a bool too), and whether the screen can use it."""
    delay = event.get("delay_seconds")
    if isinstance(delay, int | float):
        try:
            given = float(delay)
        except OverflowError:
            return False, None
        return math.isfinite(given), given
    return delay is None, None
