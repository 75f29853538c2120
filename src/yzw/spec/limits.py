"""The norm's numbers — sizes, time windows, deadlines, shares — read from specs/rules/*.yaml, in one place.

Code never copies a number of YZW-NORM-2026: it asks `limits()`. Most numbers are in
specs/rules/limits.yaml, each with its requirement and clause; EVT-06's 12 hours is `twelve_hours` of
monitoring.yaml (SUP-03 counts against it) and EVT-04's clock skew is in events.yaml. The layers below
`yzw.spec` (`yzw.signing`, `yzw.client`) cannot import this module: tests/test_norm_numbers.py holds their
few constants equal to these values and fails on a copy anywhere else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from yzw.content import content_path
from yzw.errors import SpecError


@dataclass(frozen=True)
class Limits:
    """The norm's numbers by name; seconds unless the name says otherwise."""

    max_body_bytes: int  # MSG-04
    timestamp_window_seconds: int  # SIG-02
    nonce_window_seconds: int  # SIG-02
    token_lifetime_seconds: int  # SIG-03
    token_refresh_margin_seconds: int  # SIG-04
    ticket_lifetime_seconds: int  # SSO-03
    logout_seconds: float  # SSO-06
    intake_answer_seconds: float  # APP-01
    catalog_notice_seconds: float  # CAT-03
    batch_max_events: int  # EVT-01
    clock_skew_seconds: int  # EVT-04 (events.yaml)
    event_deadline_seconds: int  # EVT-06 (monitoring.yaml, twelve_hours)
    real_time_seconds: float  # EVT-06
    first_retry_seconds: float  # EVT-07
    evaluation_deadline_seconds: int  # EVAL-01
    warning_share: float  # SUP-01
    answer_seconds: float  # ROB-01
    platform_call_seconds: float  # ROB-01: one call to the platform without an answer this long: unreachable


def _read(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load(content_path("specs", "rules", name).read_text(encoding="utf-8")))


@cache
def limits() -> Limits:
    """The norm's numbers (read once)."""
    try:
        values = {
            **_read("limits.yaml"),
            "event_deadline_seconds": _read("monitoring.yaml")["twelve_hours"],
            "clock_skew_seconds": _read("events.yaml")["timing"]["clock_skew_seconds"],
        }
        wrong = [
            name for name, value in values.items() if isinstance(value, bool) or not isinstance(value, int | float)
        ]
        if wrong:
            raise TypeError(f"not a number: {', '.join(wrong)}")
        return Limits(**values)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise SpecError(f"cannot read the norm's numbers from specs/rules (limits.yaml …): {exc}") from exc


def as_dict() -> dict[str, float]:
    """Every number by its field name (for tests and reports)."""
    return dataclasses.asdict(limits())


def hours(seconds: float) -> str:
    """A duration in hours as the kit's messages say it: `12 h`."""
    return f"{seconds / 3600:g} h"
