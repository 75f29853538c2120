"""Which of the department's catalogue items a run applies for (conformance scenarios and load alike).

A real system is configured per item, so the kit never invents items in the vendor's department: a check
that needs an item of some kind (one with a license-typed material, one that results in an e-license …)
chooses one among the department's own active items, and when there is none the check does not apply —
`NoFittingItem` names what was missing, for the not-applicable verdict's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yzw.errors import YzwError

Item = dict[str, Any]


class NoActiveItem(YzwError):
    """The catalogue holds no active item of the registered department: nothing to apply for."""

    def __init__(self, dept_uscc: str) -> None:
        self.dept_uscc = dept_uscc
        super().__init__(
            f"[REG-01] the catalogue holds no active item of the registered department (dept_uscc {dept_uscc}); "
            "register the department's unified social credit code as the catalogue knows it (sut.yaml dept_uscc), "
            "or give the department's own items (sut.yaml catalog:, or --catalog FILE)"
        )


@dataclass(frozen=True)
class Need:
    """What a check needs of an item, worded to finish "no item of <uscc> …"."""

    says: str
    holds: Callable[[Item], bool]


def _required_files(item: Item) -> int:
    return sum(1 for m in item["materials"] if m["required"] and "license_type" not in m)


LICENSE_MATERIAL = Need("has a license-typed material", lambda i: any("license_type" in m for m in i["materials"]))
E_LICENSE = Need("results in an e-license (license_type)", lambda i: "license_type" in i)
FILE_MATERIAL = Need("requires a file material", lambda i: _required_files(i) >= 1)
TWO_FILE_MATERIALS = Need("requires two file materials", lambda i: _required_files(i) >= 2)
AUTH_ABOVE_ONE = Need("requires an authentication level above 1", lambda i: int(i["required_auth_level"]) > 1)
PUBLIC_SERVICE = Need("is a 公共服务 item (type 20)", lambda i: str(i["type"]) == "20")
INSTANT = Need("is a 即办件 (case_kind 1)", lambda i: str(i["case_kind"]) == "1")
SUB_ITEM = Need("is a sub-item (sub-item number not 000)", lambda i: str(i["item_code"])[-3:] != "000")
TWO_LICENSE_MATERIALS = Need(
    "has two license-typed materials", lambda i: sum("license_type" in m for m in i["materials"]) >= 2
)


class NoFittingItem(YzwError):
    """The department has active items, but none has what a check needs: the check does not apply."""

    def __init__(self, dept_uscc: str, needs: tuple[Need, ...]) -> None:
        self.dept_uscc, self.needs = dept_uscc, needs
        self.reason = f"no item of {dept_uscc} " + " and ".join(need.says for need in needs)
        super().__init__(self.reason)


def own_items(catalogue: list[Item], dept_uscc: str) -> list[Item]:
    """The department's active items; NoActiveItem when it has none."""
    own = [item for item in catalogue if item["dept"]["uscc"] == dept_uscc and item["status"] == "active"]
    if not own:
        raise NoActiveItem(dept_uscc)
    return own


def choose_item(catalogue: list[Item], dept_uscc: str, *needs: Need) -> Item:
    """The department's active item with every need, and of those the one that exercises the most rules (a
    license material first, then the most materials); NoFittingItem when none has them all."""
    fitting = [item for item in own_items(catalogue, dept_uscc) if all(need.holds(item) for need in needs)]
    if not fitting:
        raise NoFittingItem(dept_uscc, needs)
    return max(fitting, key=lambda i: (LICENSE_MATERIAL.holds(i), len(i["materials"]), str(i["item_code"])))
