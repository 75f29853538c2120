"""The columnar audit (yzw.audit.columnar) against today's row audit (tests/audit_oracle.py): the same bad
records, record for record, the same record count and the same KPIs, on dumps with every defect kind."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.audit_oracle import oracle_audit

from yzw.audit import badstore
from yzw.audit.codes import NUMBERS, surely_licenses, surely_numbers, surely_times
from yzw.audit.columnar import audit_sources
from yzw.codes.times import today_cn
from yzw.fixtures import make_faker
from yzw.fixtures.defects import DEFECTS as CODE_DEFECTS
from yzw.fixtures.defects import invalid_value
from yzw.fixtures.dumps import DEFECTS, generate
from yzw.fixtures.messages import MessageFactory
from yzw.spec.schemas import format_problem
from yzw.spec.xml import NS, to_xml

SMALL_BUCKETS = 64 << 10  # many buckets, so that applications are spread and judged bucket by bucket


def _same(paths: list[Path], period: tuple[dt.date, dt.date] | None = None) -> int:
    """Assert the columnar audit equals the oracle on `paths`; the number of bad records."""
    new = audit_sources(paths, {}, period, bucket_bytes=SMALL_BUCKETS)
    old = oracle_audit(paths, {}, period)
    assert new.records == old.records
    assert [dataclasses.astuple(b) for b in new.bad] == [dataclasses.astuple(b) for b in old.bad]
    assert new.monitor.report("county") == old.monitor.report("county")
    return len(old.bad)


def _events(applications: int, defect_rate: float, seed: int) -> list[dict[str, Any]]:
    stream, _ = generate(3, applications, defect_rate, seed)
    return list(stream)


def _write(path: Path, events: list[Any]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def test_a_generated_dump_with_every_defect_kind(tmp_path: Path) -> None:
    stream, defects = generate(3, 400, 0.3, 11)
    assert {d.name for d in defects} == set(DEFECTS)
    assert _same([_write(tmp_path / "events.jsonl", list(stream))]) == len(defects)


def test_the_kpi_period_and_several_sources(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.jsonl", _events(150, 0.2, 2))
    second = _write(tmp_path / "b.jsonl", _events(150, 0.2, 3))
    assert _same([first, second], (dt.date(2026, 3, 1), dt.date(2026, 6, 30)))


def _mutations(rng: random.Random) -> list[Any]:
    """Ways to spoil any event (not only an application's last), each a function of the event."""
    return [
        lambda e: e.__setitem__("seq", float(e["seq"])),
        lambda e: e.__setitem__("seq", str(e["seq"])),
        lambda e: e.__setitem__("seq", True),
        lambda e: e.__setitem__("seq", e["seq"] + rng.choice((-1, 1, 2))),
        lambda e: e.__setitem__("step", rng.choice(("SL", "CB", "BJ", "FK", "HF", "GQ", "SD", "XX", ["SL"], None))),
        lambda e: e.__setitem__("occurred_at", e["occurred_at"].replace("+08:00", "Z")),
        lambda e: e.__setitem__("occurred_at", e["occurred_at"].replace("+08:00", "+09:00")),
        lambda e: e.__setitem__("occurred_at", "2026-02-30T10:00:00+08:00"),
        lambda e: e.__setitem__("occurred_at", "2020-01-01T00:00:00+08:00"),
        lambda e: e.__setitem__("received_at", e["received_at"].replace("+08:00", "-05:00")),
        lambda e: e.__setitem__("received_at", "2026-02-30T10:00:00+08:00"),
        lambda e: e.__setitem__("received_at", 5),
        lambda e: e.pop("received_at"),
        lambda e: e.__setitem__("delay_seconds", rng.choice((10, 50_000, 1.5, None, "7", True))),
        lambda e: e.__setitem__("payload", rng.choice(("x", None, [], {}))),
        lambda e: e["payload"].__setitem__("promised_days", rng.choice((1.0, "5", None, 3))),
        lambda e: e["payload"].__setitem__("licenses", "none"),
        lambda e: e["payload"].__setitem__("promised_due_at", rng.choice(("soon", "2026-02-30T10:00:00+08:00"))),
        lambda e: e.__setitem__("case_no", rng.choice((5, None, "x"))),
        lambda e: e.__setitem__("application_no", rng.choice(("33", 42, "", ["x"]))),
        lambda e: e.pop(rng.choice(("dept_uscc", "item_code", "division_code", "event_id", "handler"))),
        lambda e: e.__setitem__("handler", {"id": "x", "name": ""}),
        lambda e: e.__setitem__("dept_uscc", "91330106MA2XXXXXX0"),
        lambda e: e.__setitem__(rng.choice(("application_no", "case_no", "division_code")), _other_digits(e, rng)),
        lambda e: e.__setitem__("occurred_at", e["occurred_at"].replace("0", "٠")),
    ]


def _other_digits(event: dict[str, Any], rng: random.Random) -> str:
    """A member's digits partly written in another script (Arabic-Indic, full-width): a named CODE problem."""
    value = str(event.get("application_no") or "")
    return "".join(
        chr(ord(c) + rng.choice((0x630, 0xFEE0))) if c.isdigit() and rng.random() < 0.2 else c for c in value
    )


@pytest.mark.parametrize("seed", [8, 12, 13])
def test_random_defects_anywhere_in_an_application(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    mutations = _mutations(rng)
    events: list[Any] = []
    for generated in _events(300, 0.1, seed):
        event = copy.deepcopy(generated)
        if rng.random() < 0.08:
            rng.choice(mutations)(event)
        events.append(event)
        if rng.random() < 0.01:
            events.append(copy.deepcopy(event))  # pushed twice
    for index in rng.sample(range(len(events) - 1), 10):  # arrived out of order
        events[index], events[index + 1] = events[index + 1], events[index]
    assert _same([_write(tmp_path / "random.jsonl", events)]) > 50


def test_unreadable_lines_and_other_records(tmp_path: Path) -> None:
    good = [json.dumps(e, ensure_ascii=False).encode() for e in _events(40, 0.1, 6)]
    odd = [
        b"",
        b"   ",
        b"\xff\xfe not utf-8",
        b"[1, 2]",
        b'{"application_no": "x", "applicant": {}, "materials": []}',
        b"x" * (2 << 20),
        b'{"seq": 18446744073709551616}',
    ]
    lines = good[:30] + odd + good[30:] + [good[0][:40]]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines))  # no newline at the end: the last record is cut off
    assert _same([path]) >= len(odd) - 2


def test_many_unreadable_lines_handed_over_in_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `badstore.KEPT` a reader's unreadable lines go to files (here in-process, where the limit is patched)."""
    monkeypatch.setattr(badstore, "KEPT", 2)
    files: list[int] = []
    take = badstore.BadStore.take

    def counted(store: badstore.BadStore, found: badstore.Found) -> None:
        files.append(len(found.files))
        take(store, found)

    monkeypatch.setattr(badstore.BadStore, "take", counted)
    good = [json.dumps(e, ensure_ascii=False).encode() for e in _events(40, 0.1, 17)]
    lines = [line for pair in zip(good, (b"not json %d" % i for i in range(len(good))), strict=False) for line in pair]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([*lines, b"[1]", b"x" * (2 << 20), good[0][:40]]))
    new = audit_sources([path], {}, workers=1, bucket_bytes=SMALL_BUCKETS)
    old = oracle_audit([path], {})
    assert new.records == old.records
    assert [dataclasses.astuple(b) for b in new.bad] == [dataclasses.astuple(b) for b in old.bad]
    assert new.bad.spilled > 0
    assert sum(files) >= 10  # the reader's files were read in
    new.bad.close()


def test_an_xml_dump(tmp_path: Path) -> None:
    events = _events(60, 0.3, 7)
    body = b"".join(
        to_xml("event", {k: v for k, v in e.items() if k != "received_at"}).split(b"?>", 1)[1] for e in events
    )
    xml = tmp_path / "events.xml"
    xml.write_bytes(f'<?xml version="1.0" encoding="utf-8"?><events xmlns="{NS}">'.encode() + body + b"</events>")
    assert _same([xml])


def test_a_mock_database_export(tmp_path: Path) -> None:
    database = tmp_path / "platform.sqlite"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE events (body TEXT, received_at TEXT, delay_seconds REAL, origin TEXT)")
    rng = random.Random(9)
    rows = []
    for event in _events(80, 0.2, 8):
        received = event.pop("received_at")
        delay = rng.choice((None, 30.0, 50_000.0))
        rows.append((json.dumps(event, ensure_ascii=False), received, delay, rng.choice(("system", "system", "node"))))
    rows.append(("not json", "2026-03-01T00:00:00+08:00", None, "system"))
    connection.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
    connection.commit()
    connection.close()
    assert _same([database])


@pytest.mark.parametrize("workers", [1, 3])
def test_the_split_of_a_file_does_not_matter(tmp_path: Path, workers: int) -> None:
    path = _write(tmp_path / "events.jsonl", _events(120, 0.3, 10))
    new = audit_sources([path], {}, workers=workers, bucket_bytes=SMALL_BUCKETS)
    old = oracle_audit([path], {})
    assert [dataclasses.astuple(b) for b in new.bad] == [dataclasses.astuple(b) for b in old.bad]
    assert new.records == old.records


def _suspended_and_fed_back(seed: int) -> list[dict[str, Any]]:
    """Applications suspended and resumed (GQ, HF), with FK notices and closings of every kind."""
    factory, rng, events = MessageFactory(make_faker(seed)), random.Random(seed), []
    shapes = [
        ("SL", "CB", "GQ", "HF", "SH", "PZ", "BJ", "SD"),
        ("SL", "GQ", "HF", "CB", "FK", "SH", "PZ", "BJ"),
        ("SL", "CB", "FK", "CH"),
        ("SL", "CB", "SH", "PZ", "BJ", "FK"),
    ]
    for index in range(60):
        _, history = factory.case_history(rng.choice(shapes), channel=rng.choice(("web", "app", "window")))
        for event in history:
            event["received_at"] = (
                dt.datetime.fromisoformat(event["occurred_at"]) + dt.timedelta(seconds=rng.randint(1, 120))
            ).isoformat()
        if index % 7 == 0:
            history[-1]["payload"] = {**history[-1]["payload"], "result": "denied", "reason": "材料不符"}
        events += history
    return events


def test_kpis_with_a_catalogue_and_suspensions(tmp_path: Path) -> None:
    events = _events(200, 0.1, 14) + _suspended_and_fed_back(15)
    rng = random.Random(16)
    items = {
        code: {
            "item_code": code,
            "online_depth": rng.choice((3, 4)),
            "max_visits": rng.choice((0, 1, 2)),
            **({"license_type": "x"} if rng.random() < 0.5 else {}),
        }
        for code in sorted({e["item_code"] for e in events})[1:]  # one item left out of the catalogue
    }
    path = _write(tmp_path / "catalogued.jsonl", events)
    new = audit_sources([path], items, bucket_bytes=SMALL_BUCKETS)
    old = oracle_audit([path], items)
    assert [dataclasses.astuple(b) for b in new.bad] == [dataclasses.astuple(b) for b in old.bad]
    assert new.monitor.report("city") == old.monitor.report("city")


def _layouts(event: dict[str, Any], rng: random.Random) -> str:
    """The same event written as other systems write it (separators, escapes, member order, duplicates)."""
    kind = rng.randrange(7)
    if kind == 0:
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if kind == 1:
        return json.dumps(event)  # \\u escapes: the slow lane
    if kind == 2:
        return json.dumps(dict(reversed(list(event.items()))), ensure_ascii=False)
    if kind == 3:
        text = json.dumps(event, ensure_ascii=False)
        return text[:-1] + ', "seq": 99}'  # a member given twice: the last one counts
    if kind == 4:
        return json.dumps(event, ensure_ascii=False) + "\r"
    text = json.dumps(event, ensure_ascii=False)
    if kind == 6 and event["payload"]:  # a payload member given twice: the row audit reads the last one
        first = next(iter(event["payload"]))
        return text.replace('"payload": {', f'"payload": {{"{first}": "dup", ', 1)
    return text.replace('"payload": {', '"payload": {"payload": {"case_no": "x"}, ', 1)


def _spoilt(event: dict[str, Any], rng: random.Random) -> None:
    """Defects in the members the fast lane masks or reads."""
    payload = event["payload"]
    choice = rng.randrange(10)
    if choice == 0 and "case_no" in payload:
        payload["case_no"] = payload["case_no"][:-1] + "0"
    elif choice == 1 and "application_no" in payload:
        payload["application_no"] = "x" * 23
    elif choice == 2 and "licenses" in payload:
        payload["licenses"] = (
            [payload["licenses"][0][:-1] + "0", "1.2.156.3005.2.x"] if payload["licenses"] else ["\x01L"]
        )
    elif choice == 3:
        event["event_id"] = event["event_id"].upper()[:-1] + "G"
    elif choice == 4:
        event["handler"] = {"id": "clerk", "name": rng.choice(("", 5, None))}
    elif choice == 5 and "promised_due_at" in payload:
        payload["promised_due_at"] = rng.choice(("2026-02-30T23:59:59+08:00", "0000-01-01T00:00:00+08:00", "\x01T"))
    elif choice == 6:
        event["occurred_at"] = rng.choice(("2026-02-29T10:00:00+08:00", "2026-03-01T10:00:00+09:00"))
    elif choice == 7:
        payload["method"] = rng.choice(("", 5, "paper"))
    elif choice == 8:
        event["application_no"] = event["application_no"][:-1] + rng.choice("0123456789X٠５")
    else:
        payload["promised_due_at" if "promised_due_at" in payload else "x"] = "２026-03-01T10:00:00+08:00"


@pytest.mark.parametrize("seed", [21, 22])
def test_the_fast_lane_never_passes_what_the_row_audit_refuses(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = []
    for generated in _events(250, 0.1, seed):
        event = copy.deepcopy(generated)
        if rng.random() < 0.1:
            _spoilt(event, rng)
        lines.append(_layouts(event, rng) if rng.random() < 0.1 else json.dumps(event, ensure_ascii=False))
    path = tmp_path / "layouts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _same([path]) > 20


def _spoilt_materials(payload: dict[str, Any], rng: random.Random) -> None:
    """Defects in the BZJ materials the fast lane masks (fastlane.MATERIALS), and members of the same names
    where nothing constrains them."""
    material = payload["materials"][0] if payload.get("materials") else {}
    file = material.get("file") or {}
    choice = rng.randrange(12)
    if choice == 0:
        file["sm3"] = rng.choice(("A" * 64, "0" * 63, "", 5))
    elif choice == 1:
        file["size"] = rng.choice((-1, 1.5, "5", 10**20, None, 0))
    elif choice == 2:
        (material if rng.random() < 0.5 else file)["name"] = rng.choice(("", 5, "x"))
    elif choice == 3:
        file["url"] = rng.choice((5, None, ""))
    elif choice == 4:
        material["material_code"] = rng.choice(("", 5))
    elif choice == 5:
        material.update(kind="license", license_id=rng.choice(("1.2.156.3005.2.x", "", "1.2.156.")))
    elif choice == 6:
        material["kind"] = rng.choice(("license", "paper"))
    elif choice == 7:
        payload["name"], payload["size"], payload["url"] = "", -1, 5  # members of the same names, unconstrained
    elif choice == 8:
        file.pop(rng.choice(("name", "size", "sm3", "url")), None)
    elif choice == 9:
        payload["materials"] = rng.choice(({}, "x", [5]))
    elif choice == 10:
        material["note"] = {"name": "", "sm3": "y", "size": -3}
    else:
        file["size"] = rng.choice((7, 12345678901234567))


@pytest.mark.parametrize("seed", [23, 24])
def test_masked_materials_judged_as_the_row_audit_judges_them(tmp_path: Path, seed: int) -> None:
    def spoil(event: dict[str, Any], rng: random.Random) -> None:
        _spoilt_materials(event["payload"], rng)

    assert _same([_spoilt_dump(tmp_path, seed, "BZJ", 0.8, spoil)]) > 20


def _spoilt_dump(
    folder: Path, seed: int, step: str, share: float, spoil: Callable[[dict[str, Any], random.Random], None]
) -> Path:
    """A generated dump whose `step` events are spoilt by `spoil` at the given share."""
    rng = random.Random(seed)
    lines = []
    for generated in _events(600, 0.05, seed):
        event = copy.deepcopy(generated)
        if event["step"] == step and rng.random() < share:
            spoil(event, rng)
        lines.append(json.dumps(event, ensure_ascii=False))
    path = folder / f"{step}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_license_ids_vouched_for_in_bulk_are_those_the_checker_passes() -> None:
    fake, rng = make_faker(31), random.Random(31)
    good = [fake.license_id() for _ in range(300)]
    bad = [invalid_value(fake, "license_id", defect).value for defect in CODE_DEFECTS["license_id"] for _ in range(10)]
    spoilt = [value[:-1] + rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for value in good]
    odd = [good[0] + "\n", good[1][:-2], *_digits_of_other_scripts(good[2])]  # (lower case: the checker raises)
    values = good + bad + spoilt + odd
    sure = set(surely_licenses(values))
    assert sure == {value for value in values if format_problem("yzw-license-id", value) is None}


def test_times_vouched_for_in_bulk_are_those_the_checker_passes() -> None:
    rng = random.Random(33)
    parts = (
        ("0000", "0001", "2024", "2026", "2100", "9999"),
        ("00", "01", "02", "04", "12", "13"),
        ("00", "01", "28", "29", "30", "31", "32"),
        ("00", "23", "24"),
        ("00", "59", "60"),
        ("+08:00", "+08:00", "+09:00", "Z"),
    )
    values = []
    for _ in range(3000):
        year, month, day, hour, minute, second, zone = (rng.choice(parts[i]) for i in (0, 1, 2, 3, 4, 4, 5))
        values.append(f"{year}-{month}-{day}T{hour}:{minute}:{second}{zone}")
    values += ["2026-02-04T10:00:00+08:00\n", "２026-03-01T10:00:00+08:00", "2026-02-04 10:00:00+08:00", ""]
    sure = set(surely_times(values))
    assert sure == {value for value in values if format_problem("yzw-datetime", value) is None}


@pytest.mark.parametrize("name", ["yzw-application-no", "yzw-case-no"])
def test_numbers_vouched_for_in_bulk_are_those_the_checker_passes(name: str) -> None:
    kind, fake, rng = name[4:].replace("-", "_"), make_faker(32), random.Random(32)
    channels = ("web", "app", "window", "terminal", "agent")
    good = [
        fake.application_no(rng.choice(channels)) if kind == "application_no" else fake.case_no() for _ in range(500)
    ]
    bad = [invalid_value(fake, kind, defect).value for defect in CODE_DEFECTS[kind] for _ in range(10)]
    spoilt = [value[:i] + rng.choice("0123456789X") + value[i + 1 :] for value in good for i in [rng.randrange(23)]]
    values = [*good, *bad, *spoilt, good[0] + "\n", good[1][:-1] + "x", *_digits_of_other_scripts(good[2])]
    sure = set(surely_numbers(values, NUMBERS[name], today_cn()))
    assert sure == {value for value in values if format_problem(name, value) is None}


def _digits_of_other_scripts(value: str) -> list[str]:
    """The value with each of its ASCII digits in turn written as an Arabic-Indic or a full-width one."""
    return [
        value[:i] + chr(ord(char) + offset) + value[i + 1 :]
        for i, char in enumerate(value)
        if char.isdigit()
        for offset in (0x630, 0xFEE0)
    ]


def _spoilt_application(event: dict[str, Any], rng: random.Random) -> None:
    """Defects in an SB's application, whose values the screen's recording formats leave to the code rules
    (recording.Recorder), and in the members its conditions read."""
    payload = event["payload"]
    applicant, materials = payload.get("applicant") or {}, payload.get("materials") or []
    choice = rng.randrange(11)
    if choice == 0:
        applicant["id_number"] = str(applicant.get("id_number", ""))[:-1] + "0"
    elif choice == 1:
        applicant.update(id_type=rng.choice(("414", "999", "")), id_number=rng.choice(("A1234567", "", "x")))
    elif choice == 2:
        payload["submitted_at"] = rng.choice(("2026-02-30T10:00:00+08:00", "2026-02-04T10:00:00Z", ""))
    elif choice == 3:
        licensed = [m for m in materials if isinstance(m, dict) and "license_id" in m] or [{}]
        licensed[0]["license_id"] = rng.choice(("1.2.156.3005.2.x", str(licensed[0].get("license_id"))[:-1] + "0"))
    elif choice == 4:
        payload["channel"] = rng.choice(("web", "app", "terminal", "agent", "fax"))
    elif choice == 5:
        payload["application_no"] = payload["application_no"][:-1] + rng.choice("0123456789X")
    elif choice == 6:
        payload["applicant"] = {
            "type": "legal",
            "name": "x",
            "uscc": rng.choice(("91330106MA2XXXXX0X", "913301067960000000", "")),
            "legal_rep": {"name": "y", "id_type": "111", "id_number": rng.choice(("110101199003070019", "1"))},
            "contact": {"name": "z", "phone": ""},
        }
    elif choice == 7:
        payload["division_code"] = rng.choice(("999999", "330106", "33010"))
    elif choice == 8:
        payload["agent"] = {"name": "a", "id_type": "111", "id_number": rng.choice(("110101199003070019", "2"))}
    elif choice == 9:
        payload["item_code"] = str(payload.get("item_code", ""))[:-1] + "X"
    else:
        payload["delivery"] = rng.choice(({"method": "post"}, {"method": "pickup"}, {"method": "post", "address": 5}))


@pytest.mark.parametrize("seed", [25, 26])
def test_applications_judged_as_the_row_audit_judges_them(tmp_path: Path, seed: int) -> None:
    assert _same([_spoilt_dump(tmp_path, seed, "SB", 0.7, _spoilt_application)]) > 100
