"""`yzw audit` and `yzw fixtures events`: every defect found, nothing clean flagged, bad input named by line."""

from __future__ import annotations

import itertools
import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.mock_helpers import register
from typer.testing import CliRunner

from yzw.audit.grouping import by_application
from yzw.audit.reader import read_jsonl
from yzw.cli import app
from yzw.codes import check_application_no
from yzw.errors import YzwError
from yzw.fixtures.dumps import DEFECTS, DailySerials, generate
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.spec.monitoring import department_report
from yzw.spec.xml import NS, to_xml


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "events.jsonl"
    code, output = _run(
        "fixtures",
        "events",
        "--departments",
        "3",
        "--applications",
        "600",
        "--defect-rate",
        "0.2",
        "--seed",
        "5",
        "--out",
        str(path),
    )
    assert code == 0, output
    return path


def _found(folder: Path) -> dict[str, str]:
    return {
        b["event_id"]: b["requirement"] for b in json.loads((folder / "bad-records.json").read_text(encoding="utf-8"))
    }


def test_every_defect_is_found_with_its_requirement_and_nothing_clean_is_flagged(dump: Path, tmp_path: Path) -> None:
    code, output = _run("audit", str(dump), "--report-dir", str(tmp_path))
    assert code == 1, output
    defects = json.loads(dump.with_suffix(".defects.json").read_text(encoding="utf-8"))
    assert {d["name"] for d in defects} == set(DEFECTS)  # every kind of defect is in the sample
    assert _found(tmp_path) == {d["event_id"]: d["requirement"] for d in defects}
    assert (tmp_path / "bad-records.csv").read_text(encoding="utf-8").count("\n") == len(defects) + 1
    assert 'id="bad-chart"' in (tmp_path / "audit.html").read_text(encoding="utf-8")


def test_the_audits_kpis_are_the_monitoring_kpis_of_the_clean_events(tmp_path: Path) -> None:
    stream, _ = generate(2, 80, 0.0, 9)
    events = list(stream)
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    code, output = _run("audit", str(path), "--report-dir", str(tmp_path / "out"))
    assert code == 0, output
    delays = [{**e, "delay_seconds": _seconds(e)} for e in events]
    expected = json.loads(json.dumps(department_report(delays, {}, "county")))
    assert json.loads((tmp_path / "out" / "kpis.json").read_text(encoding="utf-8")) == expected


def _seconds(event: dict[str, str]) -> float:
    return (datetime.fromisoformat(event["received_at"]) - datetime.fromisoformat(event["occurred_at"])).total_seconds()


def test_bad_input_is_named_by_line_and_the_rest_is_audited(tmp_path: Path) -> None:
    stream, _ = generate(1, 3, 0.0, 3)
    good = [json.dumps(e, ensure_ascii=False).encode() for e in stream]
    application = json.dumps({"application_no": "x", "applicant": {}, "materials": []}).encode()
    lines = [good[0], b"\xff\xfe not utf-8", application, b"x" * (3 << 20), *good[1:], good[0][:40]]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines))  # no newline at the end: the last record is cut off
    code, output = _run("audit", str(path), "--report-dir", str(tmp_path / "out"))
    assert code == 1
    bad = {
        b["line"]: b["reason"] for b in json.loads((tmp_path / "out" / "bad-records.json").read_text(encoding="utf-8"))
    }
    assert "not UTF-8" in bad[2]
    assert "not an event" in bad[3]
    assert "longer than" in bad[4]
    assert "truncated" in bad[len(lines)]
    assert set(bad) == {2, 3, 4, len(lines)}  # the good lines, before and after, were audited clean
    assert f"{len(lines):,} records" in output


def test_a_long_line_is_skipped_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"a": "' + b"y" * 5000 + b'"}\n{"b": 1}\n')
    read = list(read_jsonl(path, max_line=1000))
    assert "longer than 1000 bytes" in str(read[0].problem)
    assert read[1].record == {"b": 1}


def test_an_xml_dump_gives_the_same_findings(dump: Path, tmp_path: Path) -> None:
    events = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()[:400]]
    body = b"".join(
        to_xml("event", {k: v for k, v in e.items() if k != "received_at"}).split(b"?>", 1)[1] for e in events
    )
    xml = tmp_path / "events.xml"
    xml.write_bytes(f'<?xml version="1.0" encoding="utf-8"?><events xmlns="{NS}">'.encode() + body + b"</events>")
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({k: v for k, v in e.items() if k != "received_at"}, ensure_ascii=False) + "\n" for e in events
        ),
        encoding="utf-8",
    )
    _run("audit", str(xml), "--report-dir", str(tmp_path / "x"))
    _run("audit", str(jsonl), "--report-dir", str(tmp_path / "j"))
    assert _found(tmp_path / "x") == _found(tmp_path / "j")
    assert _found(tmp_path / "x")  # the sample holds defects


def test_a_missing_source_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["audit", str(tmp_path / "nowhere.jsonl")])
    assert "no such file" in str(result.exception)


def test_temporary_files_that_cannot_be_made_are_one_clear_error(
    dump: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The buckets and the spilled bad records live in the temporary folder: a full or missing one is named."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    result = CliRunner().invoke(app, ["audit", str(dump), "--report-dir", str(tmp_path / "r")])
    assert isinstance(result.exception, YzwError)
    assert f"temporary files in {tmp_path / 'gone'}" in str(result.exception)
    assert "TMPDIR" in str(result.exception)


def test_a_mock_platform_database_is_audited_with_the_delays_it_recorded(tmp_path: Path) -> None:
    database = tmp_path / "platform.sqlite"
    running = start_platform(db=str(database))
    try:
        system = register(running)
        _, events = system.factory.case_history()  # months old: each arrives far more than 12 h late
        assert all(system.push(event).status_code == 200 for event in events)
    finally:
        system.client.close()
        running.stop()
    code, output = _run("audit", str(database), "--report-dir", str(tmp_path / "out"))
    assert code == 1
    assert f"{len(events)} records" in output
    assert set(_found(tmp_path / "out").values()) == {"EVT-06"}
    report = json.loads((tmp_path / "out" / "kpis.json").read_text(encoding="utf-8"))[system.record["dept_uscc"]]
    share = next(k for k in report["kpis"] if k["name"] == "delivered_within_12h_share")
    assert (report["applications"], share["numerator"], share["denominator"]) == (1, 0, len(events))


def test_the_kpi_period_narrows_the_applications(dump: Path, tmp_path: Path) -> None:
    _run("audit", str(dump), "--report-dir", str(tmp_path / "all"))
    _run("audit", str(dump), "--period", "2026-06-01:2026-06-30", "--report-dir", str(tmp_path / "june"))
    every = json.loads((tmp_path / "all" / "kpis.json").read_text(encoding="utf-8"))
    june = json.loads((tmp_path / "june" / "kpis.json").read_text(encoding="utf-8"))
    assert 0 < sum(r["applications"] for r in june.values()) < sum(r["applications"] for r in every.values())
    assert CliRunner().invoke(app, ["audit", str(dump), "--period", "June"]).exit_code == 2


def test_a_node_export_is_audited(running_platform: RunningPlatform, tmp_path: Path) -> None:
    httpx.post(running_platform.urls["province"] + "/_mock/reset").raise_for_status()
    system = register(running_platform)
    _, events = system.factory.case_history()
    for event in events:
        system.push(event)
    system.client.close()
    dump = tmp_path / "county.jsonl"
    assert _run("mock", "export", "--node", running_platform.urls["county"], "--out", str(dump))[0] == 0
    code, output = _run("audit", str(dump), "--report-dir", str(tmp_path / "out"))
    assert f"{len(events)} records" in output
    assert set(_found(tmp_path / "out").values()) == {"EVT-06"}  # months-old events, recorded as late
    assert code == 1


def test_grouping_on_disk_equals_grouping_in_memory_and_keeps_arrival_order(dump: Path) -> None:
    read = list(read_jsonl(dump))
    on_disk = [(line.number, (line.record or {}).get("application_no")) for line in by_application(read, chunk=97)]
    in_memory = [(line.number, (line.record or {}).get("application_no")) for line in by_application(read)]
    assert on_disk == in_memory
    assert sorted(on_disk) == sorted((line.number, (line.record or {}).get("application_no")) for line in read)
    numbers = [n for n, _ in on_disk]
    groups = [application for _, application in on_disk]
    assert all(a != b or x < y for (x, a), (y, b) in itertools.pairwise(on_disk))  # arrival order within
    assert len(set(groups)) == sum(1 for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g)  # one run each
    assert len(numbers) == len(read)


def test_the_generator_issues_each_application_number_once_however_many_a_day_takes() -> None:
    numbers = DailySerials()
    day = date(2026, 3, 2)
    window = [numbers.issue("window", "330106", day, "021") for _ in range(200_000)]
    web = [numbers.issue("web", "330106", day, "021") for _ in range(1_000)]
    issued = [number for _, number in window + web]
    assert len(set(issued)) == len(issued)
    assert all(check_application_no(number) is None for number in issued[::997])
    assert {d for d, _ in window} == {day - timedelta(days=n) for n in range(21)}  # 9,999 a day, then the day before
    assert all(number[15:18] == "021" and number[7:15] == f"{d:%Y%m%d}" for d, number in window[::991])


def test_a_generated_dump_gives_every_number_one_history() -> None:
    stream, _ = generate(2, 1500, 0.0, 4)
    histories: dict[str, list[int]] = {}
    for event in stream:
        histories.setdefault(event["application_no"], []).append(event["seq"])
    assert len(histories) == 1500
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in histories.values())


UNREADABLE = {  # a member the order judge and the KPIs read, in a form they cannot read
    "no dept_uscc": lambda e: e.pop("dept_uscc"),
    "no item_code": lambda e: e.pop("item_code"),
    "step as a list": lambda e: e.__setitem__("step", ["SL"]),
    "a short application_no": lambda e: e.__setitem__("application_no", "33"),
    "payload as text": lambda e: e.__setitem__("payload", "x"),
    "occurred_at as words": lambda e: e.__setitem__("occurred_at", "yesterday"),
    "promised_due_at as words": lambda e: (
        e["payload"].__setitem__("promised_due_at", "soon") if e["step"] == "SL" else e.pop("dept_uscc")
    ),
}


@pytest.mark.parametrize("defect", sorted(UNREADABLE))
def test_a_record_whose_members_cannot_be_read_is_reported_never_a_traceback(defect: str, tmp_path: Path) -> None:
    stream, _ = generate(1, 2, 0.0, 7)
    events = [dict(e, payload=dict(e.get("payload") or {})) for e in stream]
    for event in events:
        UNREADABLE[defect](event)
    path = tmp_path / "unreadable.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(path), "--report-dir", str(tmp_path / "out")])
    assert isinstance(result.exception, SystemExit), result.exception  # an exit code, not a crash
    assert result.exit_code == 1, result.output
    bad = json.loads((tmp_path / "out" / "bad-records.json").read_text(encoding="utf-8"))
    assert {b["line"] for b in bad} == set(range(1, len(events) + 1))  # every record is named, with a reason
    assert all(b["requirement"] and b["reason"] for b in bad)
