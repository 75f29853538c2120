"""Rules across fields that JSON Schema cannot state, each keyed by its requirement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yzw.codes import check_application_no
from yzw.spec.findings import Finding


def _application(doc: dict[str, Any], prefix: str = "") -> list[Finding]:
    number, channel = doc.get("application_no"), doc.get("channel")
    if not (isinstance(number, str) and isinstance(channel, str)):
        return []
    problem = check_application_no(number, channel=channel)
    if problem is None or problem.defect != "channel_mismatch":
        return []
    return [Finding(f"{prefix}/application_no", "application_no", problem.message, "CODE-05")]


def _item(doc: dict[str, Any], prefix: str = "") -> list[Finding]:
    """CAT-01: promised_days ≤ legal_days; a 即办件 (case_kind 1) is published only with promised_days 0."""
    legal, promised = doc.get("legal_days"), doc.get("promised_days")
    if not isinstance(promised, int):
        return []
    if isinstance(legal, int) and promised > legal:
        reason = f"promised_days {promised} exceeds legal_days {legal}"
    elif doc.get("case_kind") == "1" and promised != 0:
        reason = f"a 即办件 (case_kind 1) has promised_days 0, not {promised}"
    else:
        return []
    return [Finding(f"{prefix}/promised_days", "promised_days", reason, "CAT-01")]


def _event(doc: dict[str, Any], prefix: str = "") -> list[Finding]:
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        return []
    if doc.get("step") == "SB":
        return _application(payload, f"{prefix}/payload")
    if doc.get("step") != "SL":
        return []
    return [
        Finding(
            f"{prefix}/payload/{name}",
            name,
            f"SL payload {name} {payload[name]!r} differs from the event's {doc.get(name)!r}",
            "ACC-03",
        )
        for name in ("case_no", "application_no")
        if name in payload and payload[name] != doc.get(name)
    ]


def _each(member: str, rule: Callable[..., list[Finding]]) -> Callable[..., list[Finding]]:
    """A rule for a list member (`events`, `items`) that applies `rule` to each object in it."""

    def apply(doc: dict[str, Any], prefix: str = "") -> list[Finding]:
        entries = doc.get(member)
        if not isinstance(entries, list):
            return []
        return [
            finding
            for index, entry in enumerate(entries)
            if isinstance(entry, dict)
            for finding in rule(entry, f"{prefix}/{member}/{index}")
        ]

    return apply


_events = _each("events", _event)


RULES: dict[str, Callable[..., list[Finding]]] = {
    "application": _application,
    "item": _item,
    "items": _each("items", _item),
    "event": _event,
    "recorded-event": _event,
    "batch": _events,
    "events": _events,
    "case": _events,
}


def cross_field_findings(kind: str, document: Any) -> list[Finding]:
    """Findings of the rules across fields for a kind (none for kinds without such rules)."""
    rule = RULES.get(kind)
    return rule(document) if rule is not None and isinstance(document, dict) else []
