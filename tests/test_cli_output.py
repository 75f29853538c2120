"""Nothing the `yzw` command prints is cut: URLs, paths, IDs and requirement titles stay whole, piped or not."""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from tests.certify import pointed_record, write_record
from tests.conftest import REGISTRATION, REPO
from tests.mock_helpers import YZW
from typer.testing import CliRunner

from yzw.cli import app
from yzw.cli.output import _Console, new_table
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import start_reference
from yzw.register import load_register

LONG_URL = "http://127.0.0.1:65535/" + "/".join(f"segment-{n}" for n in range(30))
URL = re.compile(r"http://127\.0\.0\.1:\d+[^\s│]*")
NARROW = {**os.environ, "COLUMNS": "60"}  # what a narrow terminal or CI would announce


def cut_rows(output: str) -> list[str]:
    """Table rows with a cell ended in "…" (rich's ellipsis; the kit's own messages may say "…")."""
    return [line for line in output.splitlines() if "…" in line and ("│" in line or "┃" in line)]


def longest_title() -> tuple[str, str, str]:
    """(ID, title_zh, title_en) of the requirement with the longest title in specs/requirements.yaml."""
    req = max(load_register().values(), key=lambda r: len(r.title_zh) + len(r.title_en))
    return req.id, req.title_zh, req.title_en


def test_every_console_and_table_of_the_cli_comes_from_output_py() -> None:
    made_elsewhere = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "src" / "yzw" / "cli").glob("*.py"))
        if path.name != "output.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![\w.])(Console|Table|Panel|Columns)\(", line)
    ]
    assert not made_elsewhere, "use yzw.cli.output (out, err, new_table), which never cut:\n" + "\n".join(
        made_elsewhere
    )


def test_without_a_terminal_a_table_row_is_one_whole_line() -> None:
    text = io.StringIO()
    console = _Console(file=text, width=40, highlight=False, soft_wrap=True)  # a pipe: the 40 does not hold
    table = new_table("node", "URL", title="nodes")
    table.add_row("county", LONG_URL)
    console.print(table)
    assert cut_rows(text.getvalue()) == []
    assert any(LONG_URL in line and "county" in line for line in text.getvalue().splitlines())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_narrow_terminal_a_long_cell_folds_and_loses_nothing() -> None:
    text = _Terminal()
    console = _Console(file=text, width=40, highlight=False, soft_wrap=True, color_system=None)
    table = new_table("node", "URL")
    table.add_row("county", LONG_URL)
    console.print(table)
    lines = text.getvalue().splitlines()
    assert cut_rows(text.getvalue()) == []
    assert max(len(line) for line in lines) <= 40
    cells = [line.split("│")[2].strip() for line in lines if line.count("│") == 3]
    assert "".join(cells) == LONG_URL


def test_spec_list_shows_the_longest_title_and_every_id_whole() -> None:
    req_id, title_zh, title_en = longest_title()
    result = CliRunner().invoke(app, ["spec", "list"], env=NARROW)
    assert result.exit_code == 0, result.output
    assert cut_rows(result.output) == []
    assert f"{title_zh} {title_en}" in result.output
    assert re.search(rf"│ {req_id} +│", result.output)
    assert all(f"│ {rid} " in result.output for rid in load_register())


def test_spec_coverage_and_show_keep_ids_and_titles_whole() -> None:
    req_id, title_zh, title_en = longest_title()
    coverage = CliRunner().invoke(app, ["spec", "coverage"], env=NARROW)
    assert coverage.exit_code == 0, coverage.output
    assert cut_rows(coverage.output) == []
    assert all(f"│ {rid} " in coverage.output for rid in load_register())
    shown = CliRunner().invoke(app, ["spec", "show", req_id], env=NARROW)
    assert f"{title_zh} — {title_en}" in shown.output


def test_a_runs_verdict_table_and_report_paths_are_whole(running_platform: RunningPlatform, tmp_path: Path) -> None:
    req_id, title_zh, title_en = longest_title()
    reports = tmp_path / ("a-report-folder-with-a-name-far-longer-than-eighty-columns-" * 2)
    reference = start_reference(running_platform, REGISTRATION)
    try:
        sut = write_record(tmp_path, pointed_record(reference))
        args = ["run", "--sut", str(sut), "--platform", running_platform.urls["province"], "--only", req_id]
        result = CliRunner().invoke(app, [*args, "--report-dir", str(reports)], env=NARROW)
    finally:
        reference.stop()
    assert result.exit_code == 0, result.output
    assert cut_rows(result.output) == []
    assert f"{title_zh} · {title_en}" in result.output
    assert f"JSON report: {reports / 'report.json'}" in result.output
    assert f"HTML report: {reports / 'report.html'}" in result.output


@pytest.fixture
def mock_up_piped() -> Iterator[subprocess.Popen[str]]:
    """`yzw mock up --with-reference` on free ports with its stdout a pipe (as in `… | tee log`); always stopped."""
    process = subprocess.Popen(
        [*YZW, "mock", "up", "--port-base", "0", "--with-reference", "--duration", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=NARROW,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _lines_until(process: subprocess.Popen[str], last: str, timeout: float = 60) -> list[str]:
    """The lines the process printed, up to the first that contains `last` (read in a thread: no hang)."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not (seen and last in seen[-1]):
        try:
            seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            pytest.fail(f"no line with {last!r} within {timeout} s; printed:\n{''.join(seen)}")
    return seen


def test_mock_up_piped_prints_whole_urls_that_answer(mock_up_piped: subprocess.Popen[str]) -> None:
    printed = "".join(_lines_until(mock_up_piped, "reference system"))
    assert cut_rows(printed) == []
    rows = {m.group(1): m.group(2) for m in re.finditer(r"│ (province|city|county) .*?│ (http://\S+) +│", printed)}
    assert rows.keys() == {"province", "city", "county"}, printed
    urls = set(URL.findall(printed))
    assert set(rows.values()) <= urls
    assert len(urls) >= 5  # three nodes, /_mock/systems at the province, the reference system and its driver
    for url in rows.values():
        assert httpx.get(url + "/_mock/clock", timeout=5).status_code == 200, f"{url} as printed does not answer"
    reference = re.search(r"reference system \S+ at (http://\S+) \(driver: (http://\S+)\)", printed)
    assert reference, printed
    assert httpx.get(reference.group(1) + "/yzw/v1/health", timeout=5).status_code == 200
    assert reference.group(2) == reference.group(1) + "/_driver"


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command below a click group (click's or the one typer vendors), with its path of names."""
    for name, command in group.commands.items():
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


@pytest.mark.parametrize("columns", ["60", "200"])
def test_every_help_text_is_whole_on_a_narrow_terminal_and_in_a_pipe(columns: str) -> None:
    """Each word of every command's and option's help stands whole in `--help` (rich's panels cut them)."""
    runner, env = CliRunner(), {**os.environ, "COLUMNS": columns}
    for path, command in _commands(typer.main.get_command(app)):
        shown = "".join(runner.invoke(app, [*path, "--help"], env=env).output.split())  # wrapped lines joined
        listed = [(sub.help or "").split("\n\n")[0] for sub in getattr(command, "commands", {}).values()]
        texts = [command.help or "", *listed, *(getattr(p, "help", None) or "" for p in command.params)]
        words = " ".join(texts).split()
        missing = [word for word in words if word not in shown]
        assert not missing, f"yzw {' '.join(path)} --help cuts {missing[:5]}"
