"""Cases a check needs, built for the system's own department from the catalogue, and the steps they produce."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import threading
from typing import Any

import httpx
import pytest

from yzw.client import SignedClient
from yzw.codes.lists import platform_channels, zhejiang_divisions
from yzw.conformance.driver import Driver
from yzw.conformance.nodes import Nodes, Push, distinct
from yzw.conformance.violations import Violation
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.run.items import LICENSE_MATERIAL, Need, NoActiveItem, NoFittingItem, choose_item
from yzw.run.target import Target

APPLICATIONS = "/yzw/v1/applications"
FULL_CASE = ("SL", "CB", "SH", "PZ", "BJ", "SD")
TAKEN = (200, 202)  # only APP-01 judges the exact 202; elsewhere any 2xx means the system took it
WINDOW_SYSTEM_MEMBERS = ("application_no", "channel", "submitted_at", "division_code")  # what the system adds (APP-06)


def neighbour(division_code: str) -> str:
    """Another current division of the province, in the same city when there is one: an application a system
    takes may be filed in any division, and its events carry that division (EVT-02)."""
    others = [code for code in zhejiang_divisions() if code != division_code and not code.endswith("0000")]
    same_city = [code for code in others if code[:4] == division_code[:4]]
    return sorted(same_city or others)[0]


NEW_ITEM_CODES: set[str] = set()  # every code new_item handed out (see new_item)
NEW_ITEM_LOCK = threading.Lock()


class Scenario:
    """Applications for one of the system's catalogue items, submitted and driven through their steps."""

    def __init__(self, target: Target, nodes: Nodes, portal: SignedClient, driver: Driver, seed: int) -> None:
        self.target, self.nodes, self.portal, self.driver = target, nodes, portal, driver
        registration = target.registration
        self.factory = MessageFactory(make_faker(seed), division=registration.division_code)
        self.factory.dept = {
            **self.factory.dept,
            "uscc": registration.dept_uscc,
            "dept_seq": registration.dept_seq,
            "division_code": registration.division_code,
        }
        self.item = self._item()

    def _item(self) -> dict[str, Any]:
        # never an item the kit made for a check (new_item): another check may retire it meanwhile
        self._catalogue = [item for item in self.nodes.catalogue() if item["item_code"] not in NEW_ITEM_CODES]
        try:
            return choose_item(self._catalogue, self.target.registration.dept_uscc)
        except NoActiveItem as missing:
            raise Violation(
                "the catalogue holds no active item of the registered department",
                f"items of dept_uscc {missing.dept_uscc} in the province catalogue",
                "none",
                "register the department's unified social credit code as the catalogue knows it, or give the "
                "department's own items (sut.yaml catalog:, or --catalog FILE)",
                "sut.yaml dept_uscc",
            ) from None

    def use(self, *needs: Need) -> dict[str, Any]:
        """Apply from now on for the department's item that has what the check needs; without one the check
        does not apply (`not-applicable` with the reason): the kit never invents an item in the department."""
        try:
            self.item = choose_item(self._catalogue, self.target.registration.dept_uscc, *needs)
        except NoFittingItem as missing:
            pytest.skip(f"not-applicable: {missing.reason}")
        return self.item

    def prefer(self, *needs: Need) -> dict[str, Any]:
        """Such an item when the department has one, else the usual one: for checks that judge more with it
        but still judge something without it."""
        with contextlib.suppress(NoFittingItem):
            self.item = choose_item(self._catalogue, self.target.registration.dept_uscc, *needs)
        return self.item

    def new_item(self) -> dict[str, Any]:
        """A copy of the department's item under a new sub-item code (CODE-04: its last three digits), new each
        time: an item no system has cached or been told of (CAT-01, ROB-01). A code handed out once is never
        handed out again in this process: a reset forgets the item at the platform, but the system may still hold
        it (retired, or of another version), and a real catalogue never reuses a code."""
        code = str(self.item["item_code"])
        catalogued = {i["item_code"] for i in self.nodes.catalogue()}
        with NEW_ITEM_LOCK:  # checks side by side hand out codes at once (yzw.conformance.beside)
            known = catalogued | NEW_ITEM_CODES
            sub = next(
                s
                for _ in range(1000)
                if code[:-3] + (s := f"{self.factory.fake.random_int(100, 989):03d}") not in known
            )
            NEW_ITEM_CODES.add(code[:-3] + sub)
        fields = {k: v for k, v in self.item.items() if k not in ("item_code", "version", "status")}
        return {
            **fields,
            "item_code": code[:-3] + sub,
            "base_code": str(self.item["base_code"])[:-3] + sub,
            "name": f"{self.item['name']}（新增）",
        }

    def instant_item(self) -> dict[str, Any]:
        """An active 即办件 of the department (promised_days 0) from the catalogue; `not-applicable` if none."""
        dept = self.target.registration.dept_uscc
        for item in self.nodes.catalogue():
            if item["dept"]["uscc"] == dept and item["status"] == "active" and item["promised_days"] == 0:
                return item
        pytest.skip(f"not-applicable: the catalogue holds no 即办件 (promised_days 0) of department {dept}")

    def application(
        self,
        omit: tuple[str, ...] = (),
        channel: str = "web",
        applicant: str = "person",
        submitted: dt.datetime | None = None,
        item: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A valid application for the item (or another `item` of the department's catalogue) with every required
        material (less `omit`); licenses are seeded. The platform's exchange knows its `submitted_at`, as for every
        application the platform forwards (EVT-04)."""
        item = item or self.item
        application = self.factory.application(applicant, channel, submitted)
        if channel in platform_channels():  # numbered by the platform: unique on it, whoever else it serves
            application["application_no"] = self.nodes.issue_number(
                application["division_code"], channel, application["submitted_at"]
            )
        else:  # a window or agent-point number of the system's own (dept_seq) range, as the kit made it
            self.nodes.forwarded(application["application_no"], application["submitted_at"])
        application |= {"item_code": item["item_code"], "item_version": item["version"]}
        application["materials"] = [
            self._material(material, application["applicant"])
            for material in item["materials"]
            if material["required"] and material["material_code"] not in omit
        ]
        return application

    def license_for(self, material: dict[str, Any], applicant: dict[str, Any]) -> dict[str, Any]:
        """A license material of the catalogue, as a new license of the applicant the library holds as valid."""
        return self._material(material, applicant)

    def _material(self, material: dict[str, Any], applicant: dict[str, Any]) -> dict[str, Any]:
        code, name = material["material_code"], material["name"]
        if "license_type" not in material:
            file = {"name": f"{code}.pdf", "size": 1024, "sm3": "0" * 64, "url": f"https://files.example/{code}.pdf"}
            return {"material_code": code, "name": name, "kind": "file", "file": file}
        license_ = self.factory.license()
        holder_id = applicant.get("id_number") or applicant.get("uscc")
        license_["holder"] = {"type": "person", "name": applicant["name"], "id_number": holder_id}
        self.nodes.seed_license(license_)
        return {"material_code": code, "name": name, "kind": "license", "license_id": license_["license_id"]}

    def accepted_with_revoked_license(self) -> tuple[dict[str, Any], dict[str, Any], httpx.Response]:
        """An application whose license material the library has revoked, submitted and then accepted:
        it, the material and the intake answer (`not-applicable` when no item of the department takes a license)."""
        application, material, answer, _ = self.accepted_with_license("revoked")
        return application, material, answer

    def accepted_with_license(
        self, status: str
    ) -> tuple[dict[str, Any], dict[str, Any], httpx.Response, httpx.Response | None]:
        """An application whose (first) license material the library verifies as `status` (revoked, expired,
        not_found: a license it never issued, holder_mismatch: another person's), submitted and then accepted: it,
        the material, the intake answer and the driver's answer (`not-applicable` when no item of the department
        takes a license)."""
        self.use(LICENSE_MATERIAL)
        application = self.application()
        material = self.license_materials(application)[0]
        if status in ("revoked", "expired"):
            self.nodes.set_license_status(material["license_id"], status)
        else:
            another = self.factory.license()  # held by someone else; the library learns of it only if seeded
            if status == "holder_mismatch":
                self.nodes.seed_license(another)
            material["license_id"] = another["license_id"]
        answer = self.submit(application)
        return application, material, answer, self.driver.act("accept", application["application_no"])

    def license_materials(self, application: dict[str, Any]) -> list[dict[str, Any]]:
        return [m for m in application["materials"] if m["kind"] == "license"]

    def submit(self, application: dict[str, Any]) -> httpx.Response:
        """The unified application system forwards the application, signed as the platform (APP-01)."""
        return self.portal.request("POST", self.target.base_url + APPLICATIONS, json=application)

    def submitted(self, **options: Any) -> dict[str, Any]:
        """An application the system has taken (202), or a violation saying it was not."""
        application = self.application(**options)
        answer = self.submit(application)
        if answer.status_code not in TAKEN:
            raise Violation(
                "a valid application was not taken",
                "202 with {application_no, received_at, status}",
                f"{answer.status_code} {answer.text[:200]}",
                "take every valid application signed by the platform (APP-01); see the evidence for the body sent",
                f"POST {APPLICATIONS}",
            )
        return application

    def steps(self, application_no: str, *wanted: str, budget: float | None = None) -> list[Push]:
        """The pushes of this application, once every wanted step has been pushed (or the wait ran out)."""
        pushes = self.nodes.wait_for(
            lambda: self.nodes.pushes(application_no),
            lambda found: set(wanted) <= {p.event.get("step") for p in found},
            budget,
        )
        self.nodes.observe(pushes)
        return pushes

    def accepted(self) -> tuple[dict[str, Any], Push]:
        """A complete application, accepted: it and the SL push (a violation when no SL came)."""
        application = self.submitted()
        self.driver.act("accept", application["application_no"])
        return application, self.pushed(application["application_no"], "SL")

    def case(self) -> tuple[dict[str, Any], Push, str]:
        """An accepted case and its case_no; `not-applicable` when SL named none (ACC-02 judges that)."""
        application, sl = self.accepted()
        case_no = sl.event.get("case_no")
        if not case_no:
            pytest.skip("not-applicable: the SL event carried no case_no to go on with (see ACC-02)")
        return application, sl, str(case_no)

    def completed(self) -> tuple[dict[str, Any], list[Push]]:
        """An application taken, accepted, approved and delivered: it and every push of its steps."""
        application = self.submitted()
        number = application["application_no"]
        self.driver.act("accept", number)
        self.pushed(number, "SL")
        self.driver.act("complete", number, result="approved")
        self.driver.act("deliver", number)
        return application, self.steps(number, *FULL_CASE)

    def pushed(self, application_no: str, step: str) -> Push:
        """The first push of `step` for the application, or a violation (EVT-01's wording)."""
        found = [p for p in distinct(self.steps(application_no, step)) if p.event.get("step") == step]
        if not found:
            raise Violation(
                f"no {step} event was pushed",
                f"a {step} event for application {application_no} at the exchange {self.target.exchange_url}",
                f"nothing within {self.nodes.wait_seconds:g} s",
                "push every process step to the exchange of the system's own tier as it happens",
                "the exchange's traffic",
            )
        return found[0]

    def came(self, application_no: str, step: str, answer: httpx.Response | None = None) -> Push:
        """The first push of a step a check goes on from or judges; `not-applicable` when the system never pushed
        it (EVT-01 judges a step not pushed), or when the driver's `answer` refused the action that makes it."""
        if answer is not None and answer.status_code != 200:
            pytest.skip(f"not-applicable: the driver refused the action that pushes {step} ({answer.status_code})")
        found = [p for p in distinct(self.steps(application_no, step)) if p.event.get("step") == step]
        if not found:
            pytest.skip(f"not-applicable: the system pushed no {step} of {application_no} to judge (see EVT-01)")
        return found[0]

    def judged_step(self, pushes: list[Push], step: str) -> Push:
        """The push of `step` in a full case; `not-applicable` when an earlier step was refused or never sent."""
        found = {p.event.get("step"): p for p in distinct(pushes)}
        if step in found:
            return found[step]
        before, after = FULL_CASE[: FULL_CASE.index(step)], FULL_CASE[FULL_CASE.index(step) + 1 :]
        if any(s in found for s in after):
            pytest.skip(f"not-applicable: a step after {step} came without it (see EVT-01, EVT-03)")
        if any(s not in found or not found[s].accepted for s in before):
            taken = [s for s in before if s in found and found[s].accepted]
            pytest.skip(
                f"not-applicable: no {step} to judge; the exchange took only {taken} of {list(before)} (see EVT-01)"
            )
        number = str(next(iter(found.values())).event.get("application_no")) if found else "?"
        return self.pushed(number, step)

    def window_params(self, applicant: str = "person", channel: str = "window") -> dict[str, Any]:
        """A window (or agent-point) application as a clerk types it: no application_no, the system issues one
        (APP-06)."""
        application = self.application(channel=channel, applicant=applicant)
        return {k: copy.deepcopy(v) for k, v in application.items() if k != "application_no"}

    def window_apply(self, params: dict[str, Any]) -> tuple[httpx.Response | None, str | None]:
        """Take it at the window through the driver: the driver's answer and the number issued."""
        answer = self.driver.act("window_apply", **params)
        number = answer.json().get("application_no") if answer is not None and answer.status_code == 200 else None
        return answer, number
