"""Load specs/schemas once, compile one validator per message kind, and name the requirement of each part."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

import jsonschema_rs

from yzw.codes import KINDS as CODE_KINDS
from yzw.codes import CodeProblem
from yzw.codes.times import today_cn
from yzw.content import content_path
from yzw.errors import SpecError

SHARED = ("common", "codes", "register")  # schema files that are not message kinds
FORMAT_CACHE = 1 << 17  # format answers remembered (bounded: an audit's memory stays flat)

# Named formats of the schemas → the code kind that checks them (norm §2).
FORMATS = {
    "yzw-id-number": "id_number",
    "yzw-uscc": "uscc",
    "yzw-division": "division",
    "yzw-application-no": "application_no",
    "yzw-case-no": "case_no",
    "yzw-item-code": "item_code",
    "yzw-base-code": "base_code",
    "yzw-license-id": "license_id",
    "yzw-license-type": "license_type",
    "yzw-datetime": "datetime",
    "yzw-date": "date",
    "yzw-certificate-type": "certificate_type",
    "yzw-applicant-kind": "applicant_kind",
    "yzw-item-type": "item_type",
    "yzw-case-kind": "case_kind",
}


def _schema_dir() -> Path:
    return content_path("specs", "schemas")


@cache
def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema file by stem (`event`, `common` …), each given its file URI as `$id`."""
    documents = {}
    for path in sorted(_schema_dir().glob("*.schema.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SpecError(f"cannot read schema {path}: {exc}") from exc
        document["$id"] = path.resolve().as_uri()
        documents[path.name.removesuffix(".schema.json")] = document
    return documents


def message_kinds() -> list[str]:
    """The message kinds, one per schema file (application, event, license …)."""
    return [name for name in schema_documents() if name not in SHARED]


def format_problem(name: str, value: str, today: dt.date | None = None) -> CodeProblem | None:
    """The code problem of a value of a named format (FORMATS), judged on `today` (China time by default)."""
    checker = CODE_KINDS[FORMATS[name]].checker
    return checker(value, today=today or today_cn()) if _takes_today(checker) else checker(value)


@cache
def _takes_today(checker: Any) -> bool:
    return "today" in inspect.signature(checker).parameters


@lru_cache(maxsize=FORMAT_CACHE)
def _passes_on(name: str, value: str, today: dt.date) -> bool:
    """Remembered per day: an audit meets the same departments, items and numbers again and again."""
    return format_problem(name, value, today) is None


def _format_checkers() -> dict[str, Any]:
    return {name: partial(_passes, name) for name in FORMATS}


def _passes(name: str, value: str) -> bool:
    return _passes_on(name, value, today_cn())


@cache
def compiled(kind: str) -> Any:
    """The compiled (Rust) validator of a message kind, built once."""
    return validator_with_formats(kind, _format_checkers())


def validator_with_formats(kind: str, formats: dict[str, Any]) -> Any:
    """A compiled (Rust) validator of a message kind whose named formats are these callbacks (the audit's
    recording formats, `audit.recording`, or the code rules)."""
    documents = schema_documents()
    if kind not in documents or kind in SHARED:
        raise SpecError(f"unknown message kind {kind!r}; kinds are: {', '.join(message_kinds())}")
    registry = jsonschema_rs.Registry([(doc["$id"], doc) for doc in documents.values()])
    return jsonschema_rs.validator_for(documents[kind], registry=registry, formats=formats, validate_formats=True)


def root_requirement(kind: str) -> str:
    """The requirement that states a message kind (its schema's `x-requirement`)."""
    return str(schema_documents()[kind]["x-requirement"])


def payload_requirement(step: object) -> str | None:
    """The requirement that states the payload of an event step (event.schema.json `$defs`)."""
    definition = schema_documents()["event"]["$defs"].get(f"payload_{step}")
    return str(definition["x-requirement"]) if definition else None
