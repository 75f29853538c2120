"""Benchmark: messages validated per second through `validate(kind, …)` on one core.

Prints figures; passes or fails nothing. Target of issue [2/7]: >= 20,000 events per second.
Run: make bench   (or .venv/bin/python benchmarks/bench_validate.py [--events N] [--rounds R])
"""

from __future__ import annotations

import argparse
from typing import Any

from timing import best_rate

from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.spec import validate
from yzw.spec.xml import to_xml


def rate(kind: str, documents: list[Any], rounds: int) -> float:
    """Best-of-`rounds` documents per second; every document must be valid, or the figure would lie."""
    assert all(not validate(kind, d) for d in documents[:50]), f"{kind}: generated documents must be valid"
    return best_rate(lambda document: validate(kind, document), documents, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="distinct events to validate")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    factory = MessageFactory(make_faker(1))
    events: list[dict[str, Any]] = []
    while len(events) < args.events:
        events += factory.case_history()[1]
    events = events[: args.events]
    applications = [factory.application() for _ in range(2_000)]
    print(f"{'message':34} {'validated/s':>12}   (one core, best of {args.rounds})")
    print(f"{'event (JSON value)':34} {rate('event', events, args.rounds):>12,.0f}   {len(events):,} distinct")
    print(f"{'application (JSON value)':34} {rate('application', applications, args.rounds):>12,.0f}")
    xml_events = [to_xml("event", e) for e in events[:5_000]]
    print(f"{'event (XML text)':34} {rate('event', xml_events, args.rounds):>12,.0f}")


if __name__ == "__main__":
    main()
