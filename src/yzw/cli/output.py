"""Shared console output for the CLI: one console each for results and for messages."""

from __future__ import annotations

from rich.console import Console

from yzw.codes.problem import CodeProblem

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_problem(value: str, kind: str, problem: CodeProblem) -> None:
    """A failed value in the house format: title line, then Expected / Fix indented."""
    out.print(f"[red]✗[/] {value}  [bold]{kind}[/] [{problem.requirement}] {problem.message}")
    if problem.expected:
        out.print(f"    Expected: {problem.expected}")
    if problem.fix:
        out.print(f"    Fix: {problem.fix}")
