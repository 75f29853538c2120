"""A validator of events whose named formats only record the values they are asked about (answering yes), so
the code rules judge those values later, in bulk and once per distinct value (`codes.failing`).

The screen validates an SB's whole application once per record (its masked form does not repeat), and the
validator's format callbacks cost it most of that: each of its unique values (number, times, id number,
license ids) judged one by one in Python. This is exact while no format stands where a failing value would not
fail the record (under `if`, `not`, `anyOf`, `oneOf`, `contains` …): then the record is valid if and only if
it is valid with every format answering yes and every recorded value passes its code rule. `formats_decide_alone`
checks that the schemas still say so; if not, there is no recording validator and the screen uses its own.
"""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from yzw.spec.schemas import FORMATS, schema_documents, validator_with_formats

# Keywords whose subschemas may fail while the record passes: no format (nor a $ref to one) may stand there.
CONDITIONAL = frozenset(
    {"if", "not", "anyOf", "oneOf", "contains", "propertyNames", "dependentSchemas", "unevaluatedProperties"}
)
UNSUPPORTED = frozenset({"$dynamicRef", "$recursiveRef", "unevaluatedItems"})


class Recorder:
    """The event validator with recording formats, and the (format, value) pairs met since `start`."""

    def __init__(self) -> None:
        self.met: list[tuple[str, str]] = []
        self.validator = validator_with_formats("event", {name: self._format(name) for name in FORMATS})

    def _format(self, name: str) -> Any:
        met = self.met

        def record(value: str) -> bool:
            met.append((name, value))
            return True

        return record

    def is_valid(self, event: Any) -> tuple[bool, list[tuple[str, str]]]:
        """Whether the event is valid but for its formats, and the values its formats were asked about."""
        self.met.clear()
        valid = self.validator.is_valid(event)
        return valid, list(self.met)


@cache
def formats_decide_alone() -> bool:
    """True while no format of the event schema (or what it refers to) stands in a conditional place."""
    try:
        documents = {_file(doc["$id"]): doc for doc in schema_documents().values()}
        return _walk(documents, "event.schema.json", documents["event.schema.json"], set())
    except (KeyError, TypeError, AttributeError, ValueError):
        return False


def _file(uri: str) -> str:
    return PurePosixPath(urlparse(uri).path).name


def _walk(documents: dict[str, Any], file: str, node: Any, seen: set[tuple[str, str]]) -> bool:
    """The subschemas reached from `node` (its $refs followed once each) hold no format in a conditional place."""
    if isinstance(node, list):
        return all(_walk(documents, file, item, seen) for item in node)
    if not isinstance(node, dict):
        return True
    for key, value in node.items():
        if key in UNSUPPORTED:
            return False
        if key in CONDITIONAL:
            if _mentions(value, {"format", "$ref"}):
                return False
        elif key == "$ref":
            target, _, pointer = str(value).partition("#")
            where = (target or file, pointer)
            if where not in seen:
                seen.add(where)
                if not _walk(documents, where[0], _at(documents[where[0]], pointer), seen):
                    return False
        elif not _walk(documents, file, value, seen):
            return False
    return True


def _at(document: Any, pointer: str) -> Any:
    for part in filter(None, pointer.split("/")):
        document = document[part]
    return document


def _mentions(node: Any, keys: set[str]) -> bool:
    if isinstance(node, dict):
        return bool(keys & node.keys()) or any(_mentions(value, keys) for value in node.values())
    if isinstance(node, list):
        return any(_mentions(item, keys) for item in node)
    return False
