"""What an audit leaves behind: every bad record (CSV and JSON), the KPIs (JSON) and an HTML report with charts."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import fields
from itertools import islice
from pathlib import Path
from typing import IO, Any

import jinja2

from yzw.audit.badstore import BadStore
from yzw.audit.judge import BadRecord
from yzw.content import content_path
from yzw.errors import YzwError

NAMES = tuple(f.name for f in fields(BadRecord))
JSON_BATCH = 1000  # bad records turned into JSON text at a time


def write_audit(bad: BadStore, kpis: dict[str, Any], folder: Path, summary: dict[str, Any]) -> list[Path]:
    """bad-records.csv, bad-records.json, kpis.json and audit.html in `folder`; their paths. The bad records
    are streamed from the store, never all in memory."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / name for name in ("bad-records.csv", "bad-records.json", "kpis.json", "audit.html")]
        with paths[0].open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(NAMES)
            writer.writerows([getattr(record, name) for name in NAMES] for record in bad)
        with paths[1].open("w", encoding="utf-8") as handle:
            write_json_array(handle, bad)
        paths[2].write_text(json.dumps(kpis, ensure_ascii=False, indent=1), encoding="utf-8")
        paths[3].write_text(_html(bad, kpis, summary), encoding="utf-8")
    except OSError as exc:
        raise YzwError(f"cannot write the audit to {folder}: {exc}; choose another --report-dir") from None
    return paths


def write_json_array(handle: IO[str], records: Iterable[BadRecord]) -> None:
    """The records as a JSON array item by item: the very text of
    `json.dumps([asdict(r) for r in records], ensure_ascii=False, indent=1)`, without the whole list or text."""
    iterator, opened = iter(records), False
    while batch := list(islice(iterator, JSON_BATCH)):
        items = (json.dumps({name: getattr(r, name) for name in NAMES}, ensure_ascii=False, indent=1) for r in batch)
        text = ",\n ".join(item.replace("\n", "\n ") for item in items)  # one level deeper (strings hold no newline)
        handle.write(("[\n " if not opened else ",\n ") + text)
        opened = True
    handle.write("\n]" if opened else "[]")


def _html(bad: BadStore, kpis: dict[str, Any], summary: dict[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(content_path("reports", "templates")), autoescape=True
    )
    by_requirement = bad.by_requirement()
    return environment.get_template("audit.html.j2").render(
        summary=summary,
        by_requirement=sorted(by_requirement.items()),
        most=max(by_requirement.values(), default=1),
        kpis=kpis,
        bad=bad.head(500),
    )
