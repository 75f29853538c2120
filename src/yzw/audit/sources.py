"""The sources `yzw audit` reads: JSON Lines dumps, XML dumps (an `events` root holding `event`s), and a mock
platform's SQLite database (`yzw mock up --db FILE`: the events systems pushed, as their exchange took them)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from yzw.audit.reader import Line, read_jsonl
from yzw.errors import YzwError
from yzw.spec.xml import from_xml, local_name

DATABASES = (".db", ".sqlite", ".sqlite3")


def lines(paths: list[Path]) -> Iterator[Line]:
    """Every record of every source, in order; a missing source is an error before anything is read."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise YzwError(f"no such file: {', '.join(missing)} (give JSON Lines or XML dumps of events)")
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".xml":
            yield from read_xml(path)
        elif suffix in DATABASES:
            yield from read_database(path)
        else:
            yield from read_jsonl(path)


def read_database(path: Path) -> Iterator[Line]:
    """The events systems pushed to any node of a mock platform's database, in arrival order (rowid as line)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        rows = connection.execute(
            "SELECT rowid, body, received_at, delay_seconds FROM events WHERE origin = 'system' ORDER BY received_at"
        )
    except sqlite3.Error as exc:
        raise YzwError(f"{path} is no mock platform database ({exc}); start one with `yzw mock up --db FILE`") from None
    try:
        for rowid, body, received_at, delay in rows:  # the cursor streams: memory stays flat
            try:
                record = {**json.loads(body), "received_at": received_at, "delay_seconds": delay}
            except ValueError as exc:
                yield Line(str(path), int(rowid), None, f"the stored body is not JSON: {exc}")
                continue
            yield Line(str(path), int(rowid), record)
    finally:
        connection.close()


def read_xml(path: Path) -> Iterator[Line]:
    """Each `event` element of an XML dump as a record (numbered by its position); DOCTYPEs are refused (MSG-05)."""
    number, root = 0, None
    try:
        for kind, element in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if root is None:
                root = element
            if kind != "end" or local_name(element) != "event":
                continue
            number += 1
            yield _converted(str(path), number, element)
            root.clear()  # what was read is let go: memory stays flat
    except DefusedXmlException:
        yield Line(str(path), number + 1, None, "the XML declares a DOCTYPE or entities: refused (MSG-05)")
    except (ParseError, OSError) as exc:  # a broken dump: say where it broke, keep what was read
        yield Line(str(path), number + 1, None, f"the XML breaks off: {exc}")


def _converted(source: str, number: int, element: Element) -> Line:
    try:
        return Line(source, number, from_xml(element)[1])
    except (YzwError, ValueError) as exc:
        return Line(source, number, None, f"event {number} cannot be read: {exc}")
