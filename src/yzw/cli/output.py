"""Shared console output for the CLI: one console each for results and for messages, and its tables.

Nothing the kit prints is cut — no URL, path, ID or title ends in "…", with or without a terminal. Without
a terminal (a pipe, a log file, CI, a test) the consoles have no width limit, so a table row stays one whole
line however long; on a terminal, a cell of `new_table()` too wide for the window folds onto the next line.
Every table of the CLI is made by `new_table()` (tests/test_cli_output.py holds the rule).
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.table import Column, Table
from typer.core import TyperGroup

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


class WholeHelpGroup(TyperGroup):
    """A command group whose `--help` lists each command's whole first paragraph, wrapped, never cut with "…"
    (click shortens it to the width left over). Help goes through click's plain formatter, which wraps:
    rich's help panels cut paths and defaults to fit their columns."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:  # click's, or the one typer vendors
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                text = command.short_help or (command.help or "").split("\n\n")[0]
                rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def command_group(help_text: str, **options: Any) -> typer.Typer:
    """A `yzw` command group with help that is never cut."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None, cls=WholeHelpGroup, **options)


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
