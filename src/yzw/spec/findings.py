"""A located finding of the validator: where, what, which requirement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One violation in a message.

    `path` is a JSON pointer for JSON input and an XPath for XML input; `field` is the member's name (the
    last path step that is not an index); `requirement` is the most specific requirement broken.
    """

    path: str
    field: str
    reason: str
    requirement: str

    def render(self) -> str:
        return f"{self.path or '/'}  {self.field or '(document)'}: {self.reason} [{self.requirement}]"


REFUSAL_STEP = "BYSL"
ATTRIBUTED = frozenset({"ACC-06", "MSG-03"})  # what `attributed` names: no general rule's check owns these


def attributed(requirement: str, member: str, *, step: object = None, after: object = None, empty: bool = False) -> str:
    """The norm's attribution rule (key-words paragraph), the one place the kit applies it.

    Anything about a refused application after its refusal (a `case_no` on `BYSL`, any event after `BYSL`)
    carries ACC-06; an empty `name`, in what a system receives or sends, MSG-03. Otherwise `requirement`.
    """
    if after == REFUSAL_STEP or (step == REFUSAL_STEP and member == "case_no"):
        return "ACC-06"
    if empty and member == "name":
        return "MSG-03"
    return requirement


def field_of(pointer: str) -> str:
    """The member name a JSON pointer ends in, skipping array indices."""
    steps = [step for step in pointer.split("/") if step and not step.isdigit()]
    return steps[-1].replace("~1", "/").replace("~0", "~") if steps else ""


def pointer_of(steps: list[str | int]) -> str:
    """A JSON pointer (RFC 6901) from path steps."""
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in steps)
