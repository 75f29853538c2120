"""The audit's store of bad records: spilled to disk past a few, iterated in the order a stable sort gives,
with its count, counts per requirement and first few; bad-records.json written item by item, byte for byte."""

from __future__ import annotations

import io
import json
import random
import re
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yzw.audit import badstore
from yzw.audit.badstore import BadStore
from yzw.audit.judge import BadRecord
from yzw.audit.write import write_json_array
from yzw.cli import app
from yzw.fixtures.dumps import generate


def _records(count: int, seed: int) -> list[BadRecord]:
    rng = random.Random(seed)
    sources = ["b.jsonl", "a.jsonl", "c.xml", "汉字.jsonl"]
    return [
        BadRecord(
            rng.choice(sources),
            rng.randrange(1, count // 2 + 2),  # repeated places: their arrival order must hold
            rng.choice(("EVT-02", "EVT-03", "MSG-01", "CODE-05")),
            rng.choice(("", "/step", "/payload/licenses")),
            f'reason {index} «引号» "quoted" \\ back\tslash',
            f"E{index}",
            rng.choice(("", "11010020260601X0000001")),
        )
        for index in range(count)
    ]


@pytest.mark.parametrize(("kept", "runs"), [(7, 1000), (5, 3), (100_000, 32)])
def test_the_store_spills_and_gives_the_order_of_a_stable_sort(kept: int, runs: int) -> None:
    records = _records(1000, kept)
    store = BadStore(kept=kept, chunk=4, runs=runs)
    for start in range(0, len(records), 37):  # in batches, as the workers return them
        store.extend(records[start : start + 37])
    assert (store.spilled > 0) == (kept < len(records))
    assert store.spilled <= runs
    wanted = sorted(records, key=lambda bad: (bad.source, bad.line))
    assert list(store) == wanted
    assert list(store) == wanted  # iterating again gives the same
    assert len(store) == 1000
    assert store
    assert store.by_requirement() == Counter(bad.requirement for bad in records)
    assert store.head(10) == wanted[:10]
    store.close()
    assert not store
    assert list(store) == []


def test_an_empty_store() -> None:
    store = BadStore(kept=2)
    assert not store
    assert len(store) == 0
    assert list(store) == []
    assert store.head(3) == []
    assert store.spilled == 0


@pytest.mark.parametrize("count", [0, 1, 2, 2500])
def test_the_json_written_item_by_item_is_json_dumps_of_the_list(count: int) -> None:
    records = _records(count, 3)
    handle = io.StringIO()
    write_json_array(handle, records)
    assert handle.getvalue() == json.dumps([asdict(b) for b in records], ensure_ascii=False, indent=1)


def test_the_audits_files_and_summary_are_the_same_when_the_store_spills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream, defects = generate(3, 300, 0.3, 21)
    dump = tmp_path / "events.jsonl"
    dump.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in stream), encoding="utf-8")
    folders, ran = ("kept", "spilled"), []
    for name, limit in zip(folders, (badstore.KEPT, 2), strict=True):
        monkeypatch.setattr(badstore, "KEPT", limit)
        ran.append(CliRunner().invoke(app, ["audit", str(dump), "--report-dir", str(tmp_path / name)]))
    assert ran[0].exit_code == ran[1].exit_code == 1
    assert len(defects) > 2 * badstore.RUNS  # runs were merged too
    timed = re.compile(r"[\d.]+ s \([\d,]+( records)?/s\)")
    said = [timed.sub("", run.output).replace(str(tmp_path / name), "") for run, name in zip(ran, folders, strict=True)]
    assert said[0] == said[1]
    for name in ("bad-records.csv", "bad-records.json", "kpis.json"):
        assert (tmp_path / "kept" / name).read_bytes() == (tmp_path / "spilled" / name).read_bytes(), name
    html = [timed.sub("", (tmp_path / run / "audit.html").read_text(encoding="utf-8")) for run in folders]
    assert html[0] == html[1]
