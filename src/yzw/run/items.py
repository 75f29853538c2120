"""Which of the department's catalogue items a run applies for (conformance scenarios and load alike)."""

from __future__ import annotations

from typing import Any

from yzw.errors import YzwError


class NoActiveItem(YzwError):
    """The catalogue holds no active item of the registered department: nothing to apply for."""

    def __init__(self, dept_uscc: str) -> None:
        self.dept_uscc = dept_uscc
        super().__init__(
            f"[REG-01] the catalogue holds no active item of the registered department (dept_uscc {dept_uscc}); "
            "register the department's unified social credit code as the catalogue knows it (sut.yaml dept_uscc)"
        )


def choose_item(catalogue: list[dict[str, Any]], dept_uscc: str) -> dict[str, Any]:
    """The department's active item with the most materials (a license one first): it exercises the most rules."""
    own = [item for item in catalogue if item["dept"]["uscc"] == dept_uscc and item["status"] == "active"]
    if not own:
        raise NoActiveItem(dept_uscc)
    return max(own, key=lambda i: (any("license_type" in m for m in i["materials"]), len(i["materials"])))
