"""The kit's exception tree. Every user-facing error names the requirement, the field and the fix.

YzwError                    anything the kit reports to a user instead of a traceback
├── SpecError               specs/ content is missing or malformed (names the file and the entry)
├── UnknownRequirement      an ID that the register does not hold
└── CalendarYearMissing     CODE-08: a working-day computation reached a year the calendar lacks
"""

from __future__ import annotations


class YzwError(Exception):
    """An error meant for the user: one clear message, no traceback."""


class SpecError(YzwError):
    """A file under specs/ is missing or does not hold what the kit expects."""


class UnknownRequirement(YzwError, KeyError):
    """A requirement ID that is not in specs/requirements.yaml."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown requirement"


class CalendarYearMissing(YzwError):
    """CODE-08/ACC-04: the working-day calendar holds no data for a year a computation needs."""

    def __init__(self, year: int, calendar_file: str) -> None:
        self.year = year
        self.calendar_file = calendar_file
        super().__init__(
            f"[CODE-08] the working-day calendar has no data for {year}; add the State Council "
            f"holiday schedule of {year} to {calendar_file} (see README, 'Adding a calendar year')"
        )
