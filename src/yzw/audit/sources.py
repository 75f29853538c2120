"""The sources `yzw audit` reads: JSON Lines dumps, and XML dumps (an `events` root holding `event`s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from yzw.audit.reader import Line, read_jsonl
from yzw.errors import YzwError
from yzw.spec.xml import from_xml, local_name


def lines(paths: list[Path]) -> Iterator[Line]:
    """Every record of every source, in order; a missing source is an error before anything is read."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise YzwError(f"no such file: {', '.join(missing)} (give JSON Lines or XML dumps of events)")
    for path in paths:
        yield from read_xml(path) if path.suffix.lower() == ".xml" else read_jsonl(path)


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
