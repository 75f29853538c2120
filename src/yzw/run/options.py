"""What a conformance run was asked to do: the options of `yzw run` and of the pytest plugin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yzw.errors import YzwError
from yzw.register import Requirement, load_register
from yzw.run.waivers import Waiver, in_force


@dataclass(frozen=True)
class RunOptions:
    """The options of one run; `only` and `chapters` narrow it to some requirements."""

    sut: Path
    platform: str = "http://127.0.0.1:8700"
    profile: str = "acceptance"
    only: frozenset[str] = frozenset()
    chapters: frozenset[str] = frozenset()
    wait: float = 10.0
    operator_wait: float = 600.0  # after an instruction to a person (acceptance profile, no driver)
    allow_manual: bool = False
    report_dir: Path | None = None
    waivers: tuple[Waiver, ...] = ()  # the office's waivers for this system (`--waivers`), in force or not

    def waived(self, on: dt.date) -> dict[str, Waiver]:
        """The waivers in force on day `on`, per requirement ID."""
        return in_force(self.waivers, on)

    @classmethod
    def checked(cls, **values: Any) -> RunOptions:
        """Options with unknown IDs and chapters refused by name."""
        options = cls(**values)
        register = load_register()
        unknown = sorted(options.only - set(register))
        if unknown:
            raise YzwError(f"--only: {', '.join(unknown)} not in specs/requirements.yaml (e.g. APP-01, SIG-02)")
        known = {r.area for r in register.values()} | {str(r.chapter) for r in register.values()}
        unknown = sorted(options.chapters - known)
        if unknown:
            areas = ", ".join(sorted({r.area for r in register.values()}))
            raise YzwError(f"--chapter: {', '.join(unknown)} is no chapter; use an area ({areas}) or a number")
        if options.wait <= 0:
            raise YzwError("--wait must be a positive number of seconds")
        if options.operator_wait <= 0:
            raise YzwError("--operator-wait must be a positive number of seconds")
        return options

    def selects(self, ids: tuple[str, ...], register: dict[str, Requirement]) -> bool:
        """Does the run include a test for these requirements?"""
        if self.only and not set(ids) & self.only:
            return False
        return not self.chapters or any(
            register[i].area in self.chapters or str(register[i].chapter) in self.chapters for i in ids
        )


def split_ids(text: str) -> frozenset[str]:
    return frozenset(part.strip().upper() for part in (text or "").split(",") if part.strip())
