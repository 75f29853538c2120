"""What an audit leaves behind: every bad record (CSV and JSON), the KPIs (JSON) and an HTML report with charts."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import jinja2

from yzw.audit.judge import Audit, BadRecord
from yzw.content import content_path
from yzw.errors import YzwError


def write_audit(audit: Audit, kpis: dict[str, Any], folder: Path, summary: dict[str, Any]) -> list[Path]:
    """bad-records.csv, bad-records.json, kpis.json and audit.html in `folder`; their paths."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / name for name in ("bad-records.csv", "bad-records.json", "kpis.json", "audit.html")]
        with paths[0].open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([f.name for f in fields(BadRecord)])
            writer.writerows([getattr(bad, f.name) for f in fields(BadRecord)] for bad in audit.bad)
        paths[1].write_text(json.dumps([asdict(b) for b in audit.bad], ensure_ascii=False, indent=1), encoding="utf-8")
        paths[2].write_text(json.dumps(kpis, ensure_ascii=False, indent=1), encoding="utf-8")
        paths[3].write_text(_html(audit, kpis, summary), encoding="utf-8")
    except OSError as exc:
        raise YzwError(f"cannot write the audit to {folder}: {exc}; choose another --report-dir") from None
    return paths


def _html(audit: Audit, kpis: dict[str, Any], summary: dict[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(content_path("reports", "templates")), autoescape=True
    )
    by_requirement = Counter(bad.requirement for bad in audit.bad)
    return environment.get_template("audit.html.j2").render(
        summary=summary,
        by_requirement=sorted(by_requirement.items()),
        most=max(by_requirement.values(), default=1),
        kpis=kpis,
        bad=audit.bad[:500],
    )
