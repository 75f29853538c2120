"""Shared console output for the CLI: one console each for results and for messages, and its tables.

Nothing the kit prints is cut — no URL, path, ID or title ends in "…", with or without a terminal. Without
a terminal (a pipe, a log file, CI, a test) the consoles have no width limit, so a table row stays one whole
line however long; on a terminal, a cell of `new_table()` too wide for the window folds onto the next line.
Every table of the CLI is made by `new_table()` (tests/test_cli_output.py holds the rule).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.table import Column, Table

from yzw.codes.problem import CodeProblem

UNLIMITED = 1_000_000  # columns: wider than any line the kit prints


class _Console(Console):
    """A rich console as wide as a terminal's window, and without a limit when the output is no terminal.

    Rich otherwise takes 80 columns (or the width of whatever terminal stdin is) for a pipe and shrinks
    tables to fit, cutting their cells with "…".
    """

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if self.on_a_tty else ConsoleDimensions(UNLIMITED, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size

    @property
    def on_a_tty(self) -> bool:
        """Whether the output is a terminal's window (not `is_terminal`: FORCE_COLOR makes a pipe one)."""
        isatty = getattr(self.file, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed file
            return False


out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def new_table(*headers: str, **options: Any) -> Table:
    """A rich table whose cells never end in "…": on a narrow terminal a long cell folds onto more lines."""
    return Table(*(Column(header, overflow="fold") for header in headers), **options)


def print_problem(value: str, kind: str, problem: CodeProblem) -> None:
    """A failed value in the house format: title line, then Expected / Fix indented."""
    out.print(f"[red]✗[/] {value}  [bold]{kind}[/] [{problem.requirement}] {problem.message}")
    if problem.expected:
        out.print(f"    Expected: {problem.expected}")
    if problem.fix:
        out.print(f"    Fix: {problem.fix}")
