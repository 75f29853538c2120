"""Chapter 12 (performance): a small sample of the intake SLO and of nothing lost or doubled (PERF-01, PERF-02).

The sample shows a slow or lossy intake early; the certified figure comes from `yzw load` (specs/rules/slo.yaml).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from yzw.client import SignedClient
from yzw.conformance.scenario import APPLICATIONS, TAKEN, Scenario
from yzw.conformance.violations import Violation
from yzw.content import content_path
from yzw.run.target import Target

SAMPLE, THREADS = 24, 4


def _slo(target: Target) -> dict[str, float]:
    rules = yaml.safe_load(content_path("specs", "rules", "slo.yaml").read_text(encoding="utf-8"))
    return dict(rules["tiers"][target.registration.tier])


def _burst(scenario: Scenario, count: int) -> list[tuple[str, int, float]]:
    applications = [scenario.application() for _ in range(count)]

    def send(application: dict[str, object]) -> tuple[str, int, float]:
        started = time.perf_counter()
        status = scenario.submit(application).status_code
        return str(application["application_no"]), status, (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(send, applications))


@pytest.mark.requirement("PERF-01", clauses=["PERF-01.4", "PERF-01.5"])
def test_a_sample_of_concurrent_intake_meets_the_tiers_p95(scenario: Scenario, target: Target) -> None:
    slo = _slo(target)
    results = _burst(scenario, SAMPLE)
    times = sorted(ms for _, _, ms in results)
    p95 = times[int(0.95 * (len(times) - 1))]
    errors = [status for _, status, _ in results if status not in TAKEN]
    if p95 > slo["p95_ms"] or len(errors) > slo["error_share"] * len(results):
        raise Violation(
            "a sample of concurrent applications misses the tier's intake SLO",
            f"p95 ≤ {slo['p95_ms']:g} ms and errors ≤ {slo['error_share']:.1%} ({target.registration.tier} tier)",
            f"p95 {p95:.0f} ms, {len(errors)} error(s) of {len(results)} ({THREADS} at a time)",
            "answer 202 at once and do slow work (lookups, storage) after the answer or in parallel",
            "POST /yzw/v1/applications",
        )


@pytest.mark.requirement("PERF-02", clauses=["APP-02.4", "APP-07.1", "APP-07.2", "PERF-02.1", "PERF-02.3"])
def test_concurrent_applications_are_each_known_exactly_once(
    scenario: Scenario, sut: SignedClient, target: Target
) -> None:
    results = _burst(scenario, SAMPLE)
    broken = scenario.application()
    del broken["delivery"]
    scenario.submit(broken)
    for number, status, _ in results:
        if status not in TAKEN:
            continue
        known = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{number}")
        if known.status_code != 200 or known.json().get("application_no") != number:
            raise Violation(
                "an application answered 202 is not known",
                f"200 with application_no {number}",
                f"{known.status_code} {known.text[:150]}",
                "store every application before answering 202",
                f"GET {APPLICATIONS}/{number}",
            )
    kept = sut.request("GET", f"{target.base_url}{APPLICATIONS}/{broken['application_no']}")
    if kept.status_code != 404:
        raise Violation(
            "a refused application was kept",
            "404 APPLICATION_UNKNOWN",
            kept.status_code,
            "keep nothing from a refused application",
            f"GET {APPLICATIONS}/{broken['application_no']}",
        )
