"""A person at the system's back office, during a check of `--profile acceptance` without a driver (norm §11).

pytest captures what a test prints and refuses `input` while it does: an instruction printed from inside a
check never reached the screen, and the check waited its 10 s in silence. Here the kit speaks and listens
with pytest's capture suspended, waits as long as a person needs after each instruction, and hears the
operator during the wait: `d` (done: judge after the check's own wait), `s` (skip: the check is `manual`),
`g` (give up: judge now).
"""

from __future__ import annotations

import select
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

COMMANDS = {"d": "done", "done": "done", "s": "skip", "skip": "skip", "g": "give up", "give up": "give up"}
HINT = "type d (done), s (skip) or g (give up) and Enter"


class Capture(Protocol):
    """pytest's capture manager, as far as the operator needs it."""

    def suspend_global_capture(self, in_: bool = False) -> None: ...
    def resume_global_capture(self) -> None: ...


def _line_waiting() -> str | None:
    """A line the operator typed, if one is waiting on stdin (never blocks)."""
    try:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
    except (OSError, ValueError):  # no stdin to watch (closed, or not a file)
        return None
    return sys.stdin.readline() if ready else None


class Operator:
    """The kit's side of a conversation with the operator: instructions, a number typed, commands in waits."""

    def __init__(
        self,
        say: Callable[[str], None],
        ask: Callable[[str], str],
        patience: float,
        capture: Capture | None = None,
        listen: Callable[[], str | None] = _line_waiting,
    ) -> None:
        self._say, self._ask, self._listen = say, ask, listen
        self.patience = patience  # how long a wait after an instruction lasts (seconds)
        self.capture = capture
        self.pending = False  # an instruction was given and its wait has not ended
        self.deaf = False  # stdin has ended: no command can come

    @contextmanager
    def _terminal(self) -> Iterator[None]:
        """The real terminal, in and out, for the moment the kit speaks or listens."""
        if self.capture is None:
            yield
            return
        self.capture.suspend_global_capture(in_=True)
        try:
            yield
        finally:
            self.capture.resume_global_capture()

    def instruct(self, text: str) -> None:
        """Show an instruction at once; the next wait lasts as long as a person needs."""
        with self._terminal():
            self._say(f"{text} (waiting up to {self.patience:g} s; {HINT})")
        self.pending = True

    def ask(self, text: str, prompt: str) -> str:
        """Show `text` (it may be long: an application to take), then read the answer after a short `prompt`
        (a long prompt is wrapped by the terminal's line editor)."""
        with self._terminal():
            self._say(text)
            return self._ask(prompt)

    def budget(self, own: float) -> float:
        """The wait's budget: a person's after an instruction, else the check's own."""
        return max(self.patience, own) if self.pending else own

    def heard(self) -> str | None:
        """A command the operator typed during a wait (`done`, `skip`, `give up`), if any. At the end of input
        (stdin closed or not a terminal) the kit stops listening and simply waits; a blank line is ignored."""
        if self.deaf:
            return None
        with self._terminal():
            line = self._listen()
            if line == "":  # end of input: nobody can type here
                self.deaf = True
                return None
            word = line.strip().lower() if line is not None else ""
            if word and word not in COMMANDS:
                self._say(f"'{line.strip()}' is not a command here: {HINT}")  # type: ignore[union-attr]
        return COMMANDS.get(word)

    def settled(self) -> None:
        """The wait after an instruction is over."""
        self.pending = False


def capture_of(config: Any) -> Capture | None:
    """pytest's capture manager (None when the run captures nothing)."""
    found = config.pluginmanager.getplugin("capturemanager")
    return found if found is not None else None
