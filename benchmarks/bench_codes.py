"""Benchmark: code-rule validations per second on one core (CODE-01, CODE-02, CODE-05, CODE-06).

Prints figures; it passes or fails nothing. Target of issue [1/7]: >= 300,000 ID numbers per second.
Run: make bench   (or .venv/bin/python benchmarks/bench_codes.py [--values N] [--rounds R])
"""

from __future__ import annotations

import argparse

from stdnum.cn import ric
from timing import best_rate

from yzw.codes import check_application_no, check_case_no, check_id_number, check_uscc
from yzw.fixtures import make_faker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=200_000, help="distinct values per kind")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    fake = make_faker(seed=1)
    samples = {
        "id_number (CODE-01)": ([fake.id_number() for _ in range(args.values)], check_id_number),
        "uscc (CODE-02)": ([fake.uscc() for _ in range(args.values)], check_uscc),
        "application_no (CODE-05)": (
            [fake.application_no() for _ in range(args.values)],
            check_application_no,
        ),
        "case_no (CODE-06)": ([fake.case_no() for _ in range(args.values)], check_case_no),
    }
    print(
        f"{'kind':28} {'validations/s':>14}   (one core, {args.values:,} distinct valid values, best of {args.rounds})"
    )
    for name, (values, checker) in samples.items():
        print(f"{name:28} {best_rate(checker, values, args.rounds):>14,.0f}")
    # stdnum's own birthplace lookup raises KeyError on 330113/330114 (2021), so it gets 西湖区 numbers only.
    ids = [fake.id_number("330106") for _ in range(50_000)]
    print(
        f"{'python-stdnum cn.ric (ref.)':28} {best_rate(ric.is_valid, ids, args.rounds):>14,.0f}"
        "   full validate incl. its own birthplace table, for comparison"
    )


if __name__ == "__main__":
    main()
