"""The JSON certification report: every requirement's verdict and evidence, sealed by an SM3 digest.

The digest covers the canonical form (sorted keys, no spaces, UTF-8) of the document without its `digest`
member, so changing any verdict, message or evidence afterwards shows (`yzw report verify FILE`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from yzw import __version__
from yzw.errors import YzwError
from yzw.register import load_register
from yzw.run.options import RunOptions
from yzw.run.target import Target
from yzw.run.verdicts import NOT_APPLICABLE, PASS, RequirementResult, TestResult, by_requirement, counts, passed
from yzw.signing import sm3_hex

HIDDEN_FIELDS = ("app_secret", "platform_secret")


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no spaces, UTF-8: the same bytes for the same content, whoever wrote the file."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def canonical(document: dict[str, Any], seal_member: str = "digest") -> bytes:
    """The bytes a seal covers: the canonical JSON of the document without its seal member."""
    return canonical_json({key: value for key, value in document.items() if key != seal_member})


def seal(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "digest": {"algorithm": "SM3", "value": sm3_hex(canonical(document))}}


def build(
    tests: list[TestResult], target: Target, options: RunOptions, started: dt.datetime, finished: dt.datetime
) -> dict[str, Any]:
    """The report document of one run (unsealed)."""
    results = by_requirement(tests, load_register(), options.waived(finished.date()))
    return {
        "report": "yzw-conform certification report",
        "kit": {"name": "yzw-conform", "version": __version__},
        "norm": "YZW-NORM-2026",
        "run": {
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "seconds": round((finished - started).total_seconds(), 1),
            "profile": options.profile,
            "platform": options.platform,
            "only": sorted(options.only),
            "chapters": sorted(options.chapters),
        },
        "system": {k: v for k, v in target.registration.as_record().items() if k not in HIDDEN_FIELDS},
        "summary": {
            "passed": passed(results, options.allow_manual),
            "counts": counts(results),
            "must_not_passed": _not_passed(results, "MUST"),
            "should_not_passed": _not_passed(results, "SHOULD"),
        },
        "requirements": [_requirement(r, tests) for r in results],
        "waivers": [waiver.as_record(finished.date()) for waiver in options.waivers],
        "delays": [delay for test in tests for delay in test.delays],
        "load": _load_summary(options),
    }


def _load_summary(options: RunOptions) -> dict[str, Any] | None:
    """The summary `yzw load` wrote into the same report folder, when there is one (PERF-01, PERF-02)."""
    path = options.report_dir / "load" / "load-summary.json" if options.report_dir else None
    if path is None or not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _not_passed(results: list[RequirementResult], level: str) -> list[str]:
    return [
        r.requirement.id for r in results if r.requirement.level == level and r.verdict not in (PASS, NOT_APPLICABLE)
    ]


def _requirement(result: RequirementResult, tests: list[TestResult]) -> dict[str, Any]:
    req = result.requirement
    return {
        "id": req.id,
        "level": req.level,
        "chapter": req.chapter,
        "title_zh": req.title_zh,
        "title_en": req.title_en,
        "statement": req.statement,
        "verdict": result.verdict,
        "waiver": result.waiver.text if result.waiver else None,
        "seconds": result.seconds,
        "depth": result.depth(tests),
        "tests": [
            {
                "name": t.name,
                "verdict": t.verdict,
                "message": t.message,
                "seconds": t.seconds,
                "evidence": t.evidence,
                "notes": t.notes,
                "clauses": list(t.clauses),
            }
            for t in result.tests
        ],
    }


def verify(path: Path) -> dict[str, Any]:
    """The report in `path` if its digest matches its content; a YzwError naming the problem otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise YzwError(f"cannot read {path} as a JSON report: {exc}") from None
    digest = document.get("digest") if isinstance(document, dict) else None
    if not isinstance(digest, dict) or digest.get("algorithm") != "SM3" or not isinstance(digest.get("value"), str):
        raise YzwError(f"{path} carries no SM3 digest; it is not a yzw-conform report")
    actual = sm3_hex(canonical(document))
    if actual != digest["value"]:
        raise YzwError(f"{path} was changed after it was written: SM3 {actual} ≠ recorded {digest['value']}")
    return dict(document)
