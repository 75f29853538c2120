"""Why a check failed, in the kit's failure format (STYLE.md): title, Expected, Received, where, Fix.

A check knows no requirement ID; the pytest plugin prefixes the IDs of the test that ran it.
"""

from __future__ import annotations

from typing import Any

import httpx

from yzw.codes import CodeProblem

RECEIVED_SHOWN = 300


class Violation(Exception):
    """A system did not do what the norm asks; carries what was expected, what came, and the fix."""

    def __init__(self, title: str, expected: str, received: Any, fix: str, where: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.expected = expected
        self.received = received if isinstance(received, str) else repr(received)
        self.fix = fix
        self.where = where

    @classmethod
    def from_code(cls, problem: CodeProblem, where: str) -> Violation:
        """A code rule's problem (CODE-xx) as a violation, keeping its expected form and fix."""
        return cls(
            problem.message,
            problem.expected or "a value following the code rule",
            f"{problem.received!r} ({len(problem.received)} chars)",
            problem.fix or "follow the code rule of norm §2",
            where,
        )

    def render(self, requirements: tuple[str, ...] = ()) -> str:
        """The failure as a vendor reads it; long values are cut."""
        tag = f"[{', '.join(requirements)}] " if requirements else ""
        received = self.received if len(self.received) <= RECEIVED_SHOWN else self.received[:RECEIVED_SHOWN] + " …"
        located = f" in {self.where}" if self.where else ""
        return f"{tag}{self.title}\nExpected: {self.expected}\nReceived: {received}{located}\nFix: {self.fix}"

    def __str__(self) -> str:
        return self.render()


def unanswered(error: BaseException, system_urls: tuple[str, ...]) -> Violation | None:
    """A call to the system under test that got no answer (refused, dropped, timed out) is the system's failure,
    not the kit's: a violation of the check's requirement, with the call. None for anything else (a call to the
    mock platform that broke is the kit's error)."""
    if not isinstance(error, httpx.TransportError):
        return None
    try:
        request = error.request
    except RuntimeError:  # raised before a request was made
        return None
    if not any(base and _under(request.url, httpx.URL(base)) for base in system_urls):
        return None
    return Violation(
        "the system did not answer",
        "an HTTP answer to every call (ROB-01: within its time budget, never a dropped connection)",
        f"{type(error).__name__}: {error}",
        "answer every request, an error included; see the evidence for the request that got no answer",
        f"{request.method} {request.url.path}",
    )


def _under(url: httpx.URL, base: httpx.URL) -> bool:
    """Whether `url` is on the same origin as `base` and below its path (port 86001 is not under 8600)."""
    same_origin = (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
    return same_origin and url.path.startswith(base.path.rstrip("/"))
