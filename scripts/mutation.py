"""Mutation testing of the reference system with cosmic-ray, the conformance run as the test (`make mutation`).

For each module of mutation/modules.yaml: cosmic-ray lists the mutants, a seeded sample of them is kept (a full
run of every mutant takes hours), and each is certified over the module's chapters (scripts/mutation_check.py).
A mutant is killed when a requirement fails. Survivors listed in mutation/equivalent.yaml (with the reason
they change nothing a system could be faulted for) are counted apart. Prints killed / survived / timed-out
and the kill rate per module; the survivors' diffs go to build/mutation/<module>-survivors.txt.

Run: .venv/bin/python scripts/mutation.py [--modules intake,driver] [--sample 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import ast
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "mutation"
COSMIC_RAY = str(Path(sys.executable).with_name("cosmic-ray"))
SECONDS_PER_CHAPTER = 30  # a mutant's run is timed out after this much per chapter (a hang is a kill too)


@dataclass
class Tally:
    module: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    timed_out: int = 0
    equivalent: int = 0
    in_annotations: int = 0  # not run: equivalent by construction (annotations are not evaluated)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Killed (timed-out counts as killed: a hang fails ROB-01) over the mutants not judged equivalent."""
        judged = self.mutants - self.equivalent
        return 100.0 * (self.killed + self.timed_out) / judged if judged else 100.0


def _config(name: str, path: str, chapters: list[str], seconds: float) -> Path:
    config = BUILD / f"{name}.toml"
    command = f"{sys.executable} {REPO / 'scripts' / 'mutation_check.py'} {','.join(chapters)}"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{path}"\n'
        f"timeout = {seconds * len(chapters):.1f}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n',
        encoding="utf-8",
    )
    return config


def _annotations(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's type annotations are: under `from __future__ import annotations` they are never
    evaluated, so a mutant inside one is equivalent by construction (`dict[str, Any] | None` → `… ** None`)."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        hints = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            hints.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            hints.append(node.returns)
        spans += [((h.lineno, h.col_offset), (h.end_lineno or h.lineno, h.end_col_offset or 0)) for h in hints]
    return spans


def _sample(session: Path, module: Path, size: int, seed: int) -> int:
    """Drop the mutants inside annotations (returned: how many), then keep `size` of the others, chosen with
    `seed` (the same sample on every machine)."""
    spans = _annotations(module)
    with sqlite3.connect(session) as db:
        rows = db.execute("SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs").fetchall()
        hinted = {job for job, row, col in rows if any(start <= (row, col) < end for start, end in spans)}
        jobs = sorted(job for job, _, _ in rows if job not in hinted)
        keep = set(random.Random(seed).sample(jobs, min(size, len(jobs))))
        for job in hinted:
            db.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job,))
            db.execute("DELETE FROM work_items WHERE job_id = ?", (job,))
        for job in set(jobs) - keep:
            db.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job,))
            db.execute("DELETE FROM work_items WHERE job_id = ?", (job,))
    return len(hinted)


def _equivalent(name: str) -> set[tuple[str, str]]:
    """(the mutated line's code, the operator) of the survivors judged equivalent: keyed by code, not line
    number, so that an edit elsewhere in the module keeps the judgement."""
    data = yaml.safe_load((REPO / "mutation" / "equivalent.yaml").read_text(encoding="utf-8")) or {}
    return {(str(e["code"]).strip(), str(e["operator"])) for e in data.get("equivalent") or [] if e["module"] == name}


def run_module(name: str, path: str, chapters: list[str], sample: int, seed: int, seconds: float) -> Tally:
    """Mutate one module, certify each sampled mutant, and count the outcomes."""
    BUILD.mkdir(parents=True, exist_ok=True)
    config, session = _config(name, path, chapters, seconds), BUILD / f"{name}.sqlite"
    session.unlink(missing_ok=True)
    started = time.monotonic()
    subprocess.run([COSMIC_RAY, "init", str(config), str(session)], cwd=REPO, check=True)
    hinted = _sample(session, REPO / path, sample, seed)
    subprocess.run([COSMIC_RAY, "exec", str(config), str(session)], cwd=REPO, check=True)
    tally = Tally(name, in_annotations=hinted, seconds=time.monotonic() - started)
    equivalent, survivors = _equivalent(name), []
    source = (REPO / path).read_text(encoding="utf-8").splitlines()
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT r.worker_outcome, r.test_outcome, s.start_pos_row, s.operator_name, r.diff "
            "FROM work_results r JOIN mutation_specs s ON s.job_id = r.job_id"
        )
        for worker, test, line, operator, diff in rows:
            tally.mutants += 1
            if str(test).lower().endswith("killed"):  # killed first: an equivalent entry keys a line and an
                tally.killed += 1  # operator, and another mutant of that pair may be killed
            elif (source[int(line) - 1].strip(), operator) in equivalent:
                tally.equivalent += 1
            elif str(worker).lower().endswith(("abnormal", "timeout")) or "timeout" in str(test).lower():
                tally.timed_out += 1
            else:
                tally.survived += 1
                survivors.append(f"# line {line} {operator}\n{diff}\n")
    (BUILD / f"{name}-survivors.txt").write_text("".join(survivors), encoding="utf-8")
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modules = yaml.safe_load((REPO / "mutation" / "modules.yaml").read_text(encoding="utf-8"))["modules"]
    parser.add_argument("--modules", default=",".join(modules), help="comma-separated names of mutation/modules.yaml")
    parser.add_argument("--sample", type=int, default=20, help="mutants per module (seeded sample)")
    parser.add_argument("--seed", type=int, default=1, help="the sample's seed")
    parser.add_argument(
        "--seconds-per-chapter",
        type=float,
        default=SECONDS_PER_CHAPTER,
        help="a mutant's run is timed out after this much per chapter (raise it on a busy machine)",
    )
    args = parser.parse_args()
    unknown = sorted(set(args.modules.split(",")) - set(modules))
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(modules)}")
    tallies = []
    for name in args.modules.split(","):
        entry = modules[name]
        print(f"mutating {entry['path']} ({args.sample} mutants, checked by {', '.join(entry['chapters'])}) …")
        tallies.append(
            run_module(name, entry["path"], entry["chapters"], args.sample, args.seed, args.seconds_per_chapter)
        )
    print(f"{'module':<12}{'mutants':>8}{'killed':>8}{'survived':>9}{'timed-out':>10}{'equiv.':>7}{'kill rate':>10}")
    for t in tallies:
        print(
            f"{t.module:<12}{t.mutants:>8}{t.killed:>8}{t.survived:>9}{t.timed_out:>10}{t.equivalent:>7}"
            f"{t.rate:>9.0f}%  ({t.seconds:.0f} s; {t.in_annotations} mutants in annotations not run)"
        )
    print(f"survivors' diffs: {BUILD}/<module>-survivors.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
