"""What a code rule reports when a value breaks it: one precise, named defect."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeProblem:
    """One defect of one value, keyed by the requirement it breaks.

    `defect` is a stable name (`length`, `charset`, `check`, `division`, `birth_date` …) that tests and
    fixtures use; `message` is the sentence a person reads; `position` is 1-based where one applies.
    """

    requirement: str
    defect: str
    message: str
    received: str
    expected: str | None = None
    position: int | None = None
    fix: str | None = None

    def render(self, where: str | None = None) -> str:
        """The failure in the kit's house format: title, Expected, Received (and where), Fix."""
        lines = [f"[{self.requirement}] {self.message}"]
        if self.expected is not None:
            lines.append(f"Expected: {self.expected}")
        located = f" in {where}" if where else ""
        lines.append(f"Received: {self.received!r} ({len(self.received)} chars){located}")
        if self.fix:
            lines.append(f"Fix: {self.fix}")
        return "\n".join(lines)


def not_in_list(requirement: str, values: dict[str, object], what: str, value: str) -> CodeProblem | None:
    """None when `value` is one of the list's codes, else an `unknown` defect listing them."""
    if value in values:
        return None
    listed = ", ".join(f"{code} {name}" for code, name in values.items())
    return CodeProblem(requirement, "unknown", f"{what} {value!r} is not in the norm's list", value, expected=listed)


def length_problem(requirement: str, value: str, expected: int, what: str) -> CodeProblem | None:
    """A wrong-length defect, or None when the length is right."""
    if len(value) == expected:
        return None
    return CodeProblem(
        requirement,
        "length",
        f"{what} must be {expected} characters, got {len(value)}",
        value,
        expected=f"{expected} characters",
    )


def charset_problem(
    requirement: str, value: str, allowed: str, what: str, *, start: int = 0, stop: int | None = None
) -> CodeProblem | None:
    """The first character of value[start:stop] outside `allowed`, reported with its 1-based position."""
    end = len(value) if stop is None else stop
    for index in range(start, end):
        if value[index] not in allowed:
            return CodeProblem(
                requirement,
                "charset",
                f"{what} has a bad character {value[index]!r} at position {index + 1}",
                value,
                expected=_describe(allowed),
                position=index + 1,
            )
    return None


def check_problem(requirement: str, value: str, expected: str, what: str, algorithm: str) -> CodeProblem:
    """A wrong check character (always the last one)."""
    return CodeProblem(
        requirement,
        "check",
        f"{what} check character is wrong: expected {expected!r}, got {value[-1]!r}",
        value,
        expected=f"check character {expected!r} ({algorithm})",
        position=len(value),
        fix=f"replace the last character with {expected!r}",
    )


def _describe(allowed: str) -> str:
    if allowed == DIGITS:
        return "digits 0-9"
    if allowed == DIGITS + "X":
        return "digits 0-9, or X as the check character"
    return f"characters from {allowed!r}"


DIGITS = "0123456789"
