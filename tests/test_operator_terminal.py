"""The operator flow for a person (issue 15): `yzw run --profile acceptance` without a driver, in a real
pseudo-terminal. Each instruction appears at once (outside pytest's capture), the kit waits as long as a person
needs, and the operator's `d` (done) ends a wait for events that will never come. The person here reads the
screen, acts in the system's back office a second or so later, and types at the prompt, as a clerk would.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pexpect
import pytest
from tests.back_office import INSTRUCTION, PACE, WINDOW, BackOffice
from tests.certify import pointed_record, write_record
from tests.conftest import REGISTRATION
from tests.mock_helpers import YZW

from yzw.conformance.nodes import Nodes
from yzw.conformance.operator import Operator
from yzw.mock.runner import RunningPlatform
from yzw.reference.runner import start_reference


def _at_the_terminal(platform: RunningPlatform, folder: Path, only: str) -> tuple[list[str], str, int, str]:
    """`yzw run --profile acceptance --only ONLY` in a pseudo-terminal, a person following it: what they were
    told, the summary line, the exit status and the requirement's verdict in the report."""
    reference = start_reference(platform, REGISTRATION)
    office = BackOffice(pointed_record(reference)["driver"]["url"])
    record = {k: v for k, v in pointed_record(reference).items() if k != "driver"}
    command = [*YZW[1:], "run", "--sut", str(write_record(folder, record)), "--only", only]
    command += ["--platform", platform.urls["province"], "--profile", "acceptance"]
    command += ["--operator-wait", "90", "--report-dir", str(folder / "report")]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "300"}
    child = pexpect.spawn(YZW[0], command, env=env, encoding="utf-8", dimensions=(60, 300), timeout=120)
    screen = (folder / "screen.log").open("w", encoding="utf-8")
    child.logfile_read = screen  # what the person saw, for the assertion messages
    told: list[str] = []
    try:
        while (seen := child.expect([INSTRUCTION, WINDOW, r"(NOT )?PASSED: [^\n]*", pexpect.EOF])) < 2:
            time.sleep(PACE)
            if seen == 1:  # at the window: take the application in the back office, type the number it got
                told.append("window_apply")
                answer = office.client.request(
                    "POST", office.url, json={"action": "window_apply", "params": json.loads(child.match.group(1))}
                )
                child.sendline(str(answer.json().get("application_no", "")) if answer.status_code == 200 else "")
                continue
            verb, subject, params = child.match.groups()
            told.append(verb)
            assert "type d (done), s (skip) or g (give up)" in child.buffer + child.after
            if office.do(verb, subject, json.loads(params or "{}")) == 409:  # the system refused: nothing will come
                time.sleep(PACE)
                child.sendline("d")
        summary = child.after if isinstance(child.after, str) else ""
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
        office.client.close()
        reference.stop()
        screen.close()
    shown = (folder / "screen.log").read_text(encoding="utf-8")[-4000:]
    assert summary.startswith("PASSED"), shown
    verdicts = json.loads((folder / "report" / "report.json").read_text(encoding="utf-8"))["requirements"]
    return told, summary, int(child.exitstatus or 0), {r["id"]: r["verdict"] for r in verdicts}[only]


def test_a_person_at_the_terminal_is_told_what_to_do_and_ends_waits(
    running_platform: RunningPlatform, tmp_path: Path
) -> None:
    told, _, status, verdict = _at_the_terminal(running_platform, tmp_path, "ACC-06")
    assert told[:1] == ["refuse"], told  # the first instruction reached the screen, while the check ran
    assert "accept" in told
    assert (status, verdict) == (0, "pass")


def test_a_person_types_the_number_a_window_application_got(running_platform: RunningPlatform, tmp_path: Path) -> None:
    told, _, status, verdict = _at_the_terminal(running_platform, tmp_path, "CODE-05")
    assert "window_apply" in told, told
    assert (status, verdict) == (0, "pass")


def _waiting_operator(typed: str | None) -> tuple[Nodes, Operator, list[str]]:
    """A wait after an instruction, the operator typing a word that is no command and then `typed`."""
    lines = iter([None, "x\n", typed + "\n" if typed else None])
    said: list[str] = []
    operator = Operator(said.append, input, patience=1.5, listen=lambda: next(lines, None))
    nodes = Nodes.__new__(Nodes)  # only the wait: no platform behind it
    nodes.wait_seconds, nodes.operator = 0.3, operator
    operator.instruct("In the system, do `accept` on 1; the kit waits for its events")
    return nodes, operator, said


def test_skip_makes_the_check_manual() -> None:
    nodes, operator, said = _waiting_operator("s")
    with pytest.raises(pytest.skip.Exception, match="manual: the operator skipped"):
        nodes.wait_for(lambda: 0, lambda value: False)
    assert any("'x' is not a command here" in line for line in said)
    assert not operator.pending


@pytest.mark.parametrize(("typed", "at_most", "at_least"), [("g", 1.0, 0.0), ("d", 1.0, 0.3), (None, 9.0, 1.5)])
def test_give_up_done_and_silence_end_a_wait(typed: str | None, at_most: float, at_least: float) -> None:
    """give up judges at once, done after the check's own wait, silence after the person's whole budget."""
    nodes, operator, said = _waiting_operator(typed)
    started = time.monotonic()
    nodes.wait_for(lambda: 0, lambda value: False)
    assert at_least <= time.monotonic() - started < at_most
    assert any("'x' is not a command here" in line for line in said)
    assert not operator.pending


def test_the_end_of_input_is_no_command_and_the_wait_goes_on() -> None:
    """stdin closed (a pipe, /dev/null): no flood of complaints, no command; the wait lasts its budget."""
    said: list[str] = []
    operator = Operator(said.append, input, patience=0.4, listen=lambda: "")
    nodes = Nodes.__new__(Nodes)
    nodes.wait_seconds, nodes.operator = 0.1, operator
    operator.instruct("In the system, do `accept` on 1; the kit waits for its events")
    started = time.monotonic()
    nodes.wait_for(lambda: 0, lambda value: False)
    assert time.monotonic() - started >= 0.4
    assert len(said) == 1  # the instruction only
    assert operator.deaf
