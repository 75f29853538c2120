"""Waivers: the office's recorded exceptions to one requirement for one system, with a reason and an expiry.

A waiver in force turns the requirement's failing verdict into `waived` (a pass keeps its verdict): the run
can pass, and the report and the certificate show the waiver's text. A waiver for a MUST requirement is in
force only with a second approver (two different names); an expired one no longer applies. The office keeps
its waivers in a YAML or JSON file (`yzw run --waivers FILE`):

    waivers:
      - requirement: PERF-02
        app_id: hz-xh-approval
        reason: 机房扩容前的临时豁免 (capacity upgrade scheduled)
        approvers: [张审核, 李处长]
        expires_on: 2027-03-31     # not in force on or after this day
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from yzw.errors import YzwError
from yzw.register import load_register

MEMBERS = ("requirement", "app_id", "reason", "approvers", "expires_on")


@dataclass(frozen=True)
class Waiver:
    """One recorded exception, as the office wrote it."""

    requirement: str
    level: str  # MUST or SHOULD, from the register
    app_id: str
    reason: str
    approvers: tuple[str, ...]
    expires_on: dt.date

    def not_in_force(self, on: dt.date) -> str | None:
        """Why the waiver does not apply on day `on`, or None when it does."""
        if on >= self.expires_on:
            return f"expired on {self.expires_on}"
        if self.level == "MUST" and len(set(self.approvers)) < 2:
            return "a waiver of a MUST requirement needs a second approver"
        return None

    @property
    def text(self) -> str:
        return f"waived by {', '.join(self.approvers)} until {self.expires_on} (exclusive): {self.reason}"

    def as_record(self, on: dt.date) -> dict[str, Any]:
        why = self.not_in_force(on)
        return {
            "requirement": self.requirement,
            "app_id": self.app_id,
            "reason": self.reason,
            "approvers": list(self.approvers),
            "expires_on": self.expires_on.isoformat(),
            "in_force": why is None,
            "not_in_force": why,
        }


def load_waivers(path: Path, app_id: str) -> tuple[Waiver, ...]:
    """The waivers of system `app_id` in the office's file; a YzwError naming the entry, field and fix."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise YzwError(f"cannot read the waivers file {path}: {exc}") from None
    entries = document.get("waivers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise YzwError(f"{path}: write a mapping with a `waivers` list (see README, Waivers)")
    waivers = tuple(parse_entry(path, index, entry) for index, entry in enumerate(entries, 1))
    return tuple(w for w in waivers if w.app_id == app_id)


def in_force(waivers: tuple[Waiver, ...], on: dt.date) -> dict[str, Waiver]:
    """The waivers that apply on day `on`, per requirement ID."""
    return {w.requirement: w for w in waivers if w.not_in_force(on) is None}


def parse_entry(path: Path | str, index: int, entry: Any) -> Waiver:
    """One entry of a waivers file (or of the console's form), checked; a YzwError naming entry and field."""
    where = f"{path}: waiver {index}"
    if not isinstance(entry, dict):
        raise YzwError(f"{where}: write it as a mapping of {', '.join(MEMBERS)}")
    missing = [m for m in MEMBERS if entry.get(m) in (None, "", [])]
    if missing:
        raise YzwError(f"{where}: {', '.join(missing)} missing; a waiver records {', '.join(MEMBERS)}")
    register = load_register()
    rid = str(entry["requirement"]).strip().upper()
    if rid not in register or register[rid].applies_to != "system":
        raise YzwError(f"{where}: requirement {rid} is no requirement of a system in specs/requirements.yaml")
    approvers = entry["approvers"] if isinstance(entry["approvers"], list) else [entry["approvers"]]
    if not all(isinstance(a, str) and a.strip() for a in approvers):
        raise YzwError(f"{where} ({rid}): approvers must be names, e.g. [张审核, 李处长]")
    expires = entry["expires_on"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            expires = None
    if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
        raise YzwError(f"{where} ({rid}): expires_on {entry['expires_on']!r} is not a date; write YYYY-MM-DD")
    return Waiver(
        rid,
        register[rid].level,
        str(entry["app_id"]),
        str(entry["reason"]).strip(),
        tuple(a.strip() for a in approvers),
        expires,
    )
