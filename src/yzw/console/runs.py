"""Runs started from the console: `yzw run` in a child process, watched line by line.

Each run is its own process (a conformance run is a pytest session; two at once in one process would share
pytest's global state). Its output is kept in the run's folder and read as it comes: a progress line becomes a
row of the run's checks, an `operator:` line becomes a card for the reviewer, and the card's answer (done,
skip, give up, or the application number a window application got) is written to the run's input — what a
person at a terminal would type.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from yzw.console.db import ConsoleDb, new_id, now

PROGRESS = re.compile(r"^\[\s*(\d+)/(\d+)\] \S (pass|fail|error|manual|n/a|waived)\s+(\S+)\s+(\S+)")
OPERATOR = "operator: "
PROMPT = "application_no: "  # the number prompt has no newline: the next line starts after it
ASKS_NUMBER = "type the application_no"
TERMINAL_HINT = re.compile(r"; type d \(done\), s \(skip\) or g \(give up\) and Enter")  # the card has buttons
ANSWERS = {"done": "d", "skip": "s", "give up": "g"}
RUNNING, PASSED, NOT_PASSED, FAILED_TO_RUN = "running", "passed", "not-passed", "error"


@dataclass(frozen=True)
class RunRequest:
    app_id: str
    record: dict[str, object]
    profile: str
    chapters: str  # comma-separated areas or numbers, "" for all
    only: str  # comma-separated requirement IDs, "" for all
    started_by: str


class RunManager:
    """Starts runs and follows them; one reader thread per running child process."""

    def __init__(self, db: ConsoleDb, data: Path, platform: str) -> None:
        self._db, self._data, self._platform = db, data, platform
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def start(self, request: RunRequest, waivers: list[dict[str, object]]) -> str:
        run_id = new_id()
        folder = self._data / "runs" / run_id
        folder.mkdir(parents=True)
        sut = folder / "sut.yaml"
        sut.write_text(yaml.safe_dump(request.record, allow_unicode=True), encoding="utf-8")
        command = [sys.executable, "-c", "from yzw.cli import main; main()", "run", "--sut", str(sut)]
        command += ["--platform", self._platform, "--profile", request.profile, "--report-dir", str(folder / "report")]
        if request.chapters:
            command += ["--chapter", request.chapters]
        if request.only:
            command += ["--only", request.only]
        if waivers:
            (folder / "waivers.yaml").write_text(yaml.safe_dump({"waivers": waivers}, allow_unicode=True), "utf-8")
            command += ["--waivers", str(folder / "waivers.yaml")]
        self._db.store.execute(
            "INSERT INTO console_runs (id, app_id, started_by, profile, chapters, only_ids, status, folder, "
            "started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            run_id,
            request.app_id,
            request.started_by,
            request.profile,
            request.chapters,
            request.only,
            RUNNING,
            str(folder),
            now(),
        )
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is printed, not in blocks
        )
        with self._lock:
            self._children[run_id] = child
        threading.Thread(target=self._follow, args=(run_id, child, folder), daemon=True, name=f"run-{run_id}").start()
        return run_id

    def answer(self, run_id: str, position: int, answer: str) -> bool:
        """Give the answer to the run's newest card, once (as a person types it at the prompt); False when the
        card is not the newest, was answered already, or the run no longer listens. An answer to an older card
        would be read as the answer to the current one."""
        with self._lock:
            child = self._children.get(run_id)
            if child is None or child.stdin is None or child.poll() is not None:
                return False
            newest = self._db.one("SELECT MAX(position) AS position FROM console_cards WHERE run_id = ?", run_id)
            if newest is None or newest["position"] != position:
                return False
            with self._db.store.transaction() as db:
                taken = db.execute(
                    "UPDATE console_cards SET answer = ? WHERE run_id = ? AND position = ? AND answer IS NULL",
                    (answer, run_id, position),
                )
                if getattr(taken, "rowcount", 1) != 1:
                    return False
            try:
                child.stdin.write((ANSWERS.get(answer, answer).strip() + "\n").encode("utf-8"))
                child.stdin.flush()
            except (OSError, ValueError):  # the run ended meanwhile
                return False
        return True

    def close_stale(self) -> int:
        """Runs a previous console left `running` (it stopped with them): now `error`; how many."""
        stale = self._db.rows("SELECT id FROM console_runs WHERE status = ?", RUNNING)
        for row in stale:
            self._db.store.execute(
                "UPDATE console_runs SET status = ?, finished_at = ? WHERE id = ? AND status = ?",
                FAILED_TO_RUN,
                now(),
                row["id"],
                RUNNING,
            )
        return len(stale)

    def stop_all(self) -> None:
        with self._lock:
            children = list(self._children.values())
        for child in children:
            if child.poll() is None:
                child.terminate()

    def _follow(self, run_id: str, child: subprocess.Popen[bytes], folder: Path) -> None:
        """Read the run's output to its end, then record how it ended — whatever happens while reading."""
        try:
            self._read(run_id, child, folder)
        finally:
            self._ended(run_id, child)

    def _read(self, run_id: str, child: subprocess.Popen[bytes], folder: Path) -> None:
        assert child.stdout is not None
        cards = 0
        with (folder / "output.log").open("wb") as log:
            for raw in iter(child.stdout.readline, b""):
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip("\n").removeprefix(PROMPT)
                if line.startswith(OPERATOR):
                    cards += 1
                    text = TERMINAL_HINT.sub("", line[len(OPERATOR) :])
                    asks = "number" if ASKS_NUMBER in text else "command"
                    self._db.store.execute(
                        "INSERT INTO console_cards (run_id, position, text, asks) VALUES (?, ?, ?, ?)",
                        run_id,
                        cards,
                        text,
                        asks,
                    )
                elif match := PROGRESS.match(line):
                    position, total, verdict, requirement, name = match.groups()
                    self._db.store.execute(
                        "INSERT INTO console_run_tests (run_id, position, total, verdict, requirement, name) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        run_id,
                        int(position),
                        int(total),
                        verdict,
                        requirement,
                        name,
                    )

    def _ended(self, run_id: str, child: subprocess.Popen[bytes]) -> None:
        if child.stdout is not None:
            for _ in iter(child.stdout.readline, b""):  # drain what is left, so the child never blocks on it
                pass
            child.stdout.close()
        if child.stdin is not None:
            with contextlib.suppress(OSError, ValueError):  # the child has gone: nothing left to flush
                child.stdin.close()
        code = child.wait()
        status = {0: PASSED, 1: NOT_PASSED}.get(code, FAILED_TO_RUN)
        self._db.store.execute(
            "UPDATE console_runs SET status = ?, exit_code = ?, finished_at = ? WHERE id = ?",
            status,
            code,
            now(),
            run_id,
        )
        with self._lock:
            self._children.pop(run_id, None)
