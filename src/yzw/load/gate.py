"""PERF-01's gate: the intake figures locust measured, against the tier's targets in specs/rules/slo.yaml."""

from __future__ import annotations

import csv
import itertools
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yzw.errors import YzwError
from yzw.load.clauses import judges

INTAKE = "intake"


@dataclass(frozen=True)
class Figures:
    """What the run measured for intake: requests, failures, p95, and the per-second rates after the ramp."""

    requests: int
    failures: int
    p95_ms: float
    steady_rates: tuple[float, ...]

    @property
    def error_share(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def sustained_rate(self) -> float:
        """The median of the per-second intake rates after the ramp."""
        return statistics.median(self.steady_rates) if self.steady_rates else 0.0


def read_figures(prefix: Path, ramp_seconds: float) -> Figures:
    """Read locust's CSV output (`--csv PREFIX --csv-full-history`) for the intake requests.

    The per-second rates come from the cumulative request counts (locust's own Requests/s is a 10 s
    rolling average that still carries the ramp).
    """
    stats = _rows(Path(f"{prefix}_stats.csv"))
    row = next((r for r in stats if r["Name"] == INTAKE), None)
    if row is None:
        return Figures(0, 0, 0.0, ())
    history = [
        (float(r["Timestamp"]), int(r["Total Request Count"]))
        for r in _rows(Path(f"{prefix}_stats_history.csv"))
        if r["Name"] == INTAKE
    ]
    steady = [(t, n) for t, n in history if history and t - history[0][0] >= ramp_seconds]
    rates = tuple((n2 - n1) / (t2 - t1) for (t1, n1), (t2, n2) in itertools.pairwise(steady) if t2 > t1)
    p95 = row["95%"]
    return Figures(
        int(row["Request Count"]), int(row["Failure Count"]), float(p95) if p95 not in ("", "N/A") else 0.0, rates
    )


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise YzwError(f"locust wrote no statistics ({exc}); see its output above") from None


@judges("PERF-01", clauses=["PERF-01.1", "PERF-01.2", "PERF-01.3", "PERF-01.4", "PERF-01.5"])
def judge(figures: Figures, slo: dict[str, Any], sustained_share: float) -> list[str]:
    """The ways the run missed the tier's SLO (PERF-01); empty when it met it."""
    problems = []
    if figures.sustained_rate < slo["rate"] * sustained_share:
        rate = f"{figures.sustained_rate:.1f} applications/s"
        problems.append(f"sustained {rate} < {slo['rate']}/s (at least {sustained_share:.0%} of it after the ramp)")
    if figures.p95_ms > slo["p95_ms"]:
        problems.append(f"p95 {figures.p95_ms:.0f} ms > {slo['p95_ms']} ms")
    if figures.error_share > slo["error_share"]:
        problems.append(
            f"errors {figures.error_share:.2%} > {slo['error_share']:.1%} ({figures.failures} of {figures.requests})"
        )
    return problems
