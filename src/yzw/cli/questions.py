"""What `yzw init` asks: every member a registration record (and its first catalogue item) needs, each answer
checked as it is typed by the kit's own rules — the code checkers of `yzw.codes` (CODE-02 USCC, CODE-03
division, CODE-04 base code), else the schemas of specs/schemas (sut, item). A refusal is one line: the
requirement, what is wrong, and the fix.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from yzw.codes import CodeProblem, check
from yzw.codes.lists import code_list
from yzw.spec import validate

Answers = dict[str, str]
Check = Callable[[str, Answers], str | None]  # None, or the refusal: "[REQ] what is wrong; fix: what to do"
NONE = "-"  # the answer to an optional question that leaves the member out
LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级"}  # tier → its exercise level in lists.yaml


@dataclass(frozen=True)
class Question:
    """One answer `yzw init` needs: its name (and flag `--name`), the question, its default, its check."""

    name: str
    text: str
    check: Check
    default: Callable[[Answers], str | None] = lambda answers: None
    optional: bool = False  # NONE leaves the member out
    secret: bool = False  # never shown: typed unseen, its default (a new random one) not printed, nor echoed back

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def refusal(self, answer: str, answers: Answers) -> str | None:
        """Why `answer` cannot be taken (one line), or None."""
        if self.optional and answer == NONE:
            return None
        return self.check(answer, answers)


def one_line(problem: CodeProblem) -> str:
    """A code problem as one refusal line: requirement, message, fix."""
    fix = problem.fix or (f"type {problem.expected}" if problem.expected else "type a valid value")
    return f"[{problem.requirement}] {problem.message}; fix: {fix}"


def code(kind: str) -> Check:
    """The kit's checker of a kind of code (`yzw codes check --kind KIND`)."""

    def checked(answer: str, answers: Answers) -> str | None:
        problem = check(kind, answer)
        return one_line(problem) if problem else None

    return checked


def member(schema: str, path: tuple[str, ...], fix: str, shape: Callable[[str], Any] = str) -> Check:
    """The schema's rule for one member (`path` in a document of `schema`), with what to type instead."""
    pointer = "/" + "/".join(path)

    def checked(answer: str, answers: Answers) -> str | None:
        document: Any = shape(answer)
        for step in reversed(path):
            document = {step: document}
        for finding in validate(schema, document):
            if finding.path.startswith(pointer) and finding.reason != "required member is missing":
                return f"[{finding.requirement}] {path[-1]}: {finding.reason}; fix: {fix}"
        return None

    return checked


def url(path: tuple[str, ...]) -> Check:
    """An http(s) URL with a host, as the record's URL members need (REG-01)."""
    schema = member("sut", path, "type an http:// or https:// URL, e.g. http://127.0.0.1:8600")

    def checked(answer: str, answers: Answers) -> str | None:
        refused = schema(answer, answers)
        if refused is None and not urlsplit(answer).hostname:
            return f"[REG-01] {path[-1]}: {answer!r} names no host; fix: type the URL with its host, e.g. http://127.0.0.1:8600"
        return refused

    return checked


def _secret(answer: str, answers: Answers) -> str | None:
    refused = member("sut", ("app_secret",), "type a longer one, or none: a new random one is made")(answer, answers)
    return refused.replace(json.dumps(answer), "the secret") if refused else None


def _formats(answer: str, answers: Answers) -> str | None:
    if "json" not in formats(answer):
        return (
            "[MSG-01] formats: json is missing (every system takes json; xml is optional); fix: type json, or json,xml"
        )
    return member("sut", ("formats",), "type json, or json,xml (each once)", shape=formats)(answer, answers)


def formats(answer: str) -> list[str]:
    """`json,xml` → ["json", "xml"] (commas or spaces)."""
    return [name for name in answer.replace(",", " ").split() if name]


def tier_of(division: str) -> str:
    """The tier a division code names (330000 the province, 330100 a city, 330106 a county)."""
    if division.endswith("0000"):
        return "province"
    return "city" if division.endswith("00") else "county"


def exercise_level(tier: str) -> str:
    """The 19th character of an item_code (CODE-04 行使层级) for a system of `tier`."""
    return next(digit for digit, name in code_list("exercise_levels").items() if name == LEVEL_NAMES[tier])


def _division_in_uscc(answers: Answers) -> str | None:
    """A USCC's characters 3-8 are the registering body's division: the likely default."""
    division = answers.get("dept_uscc", "")[2:8]
    return division if division and check("division", division) is None else None


def _item_name(answer: str, answers: Answers) -> str | None:
    return member("item", ("name",), "type the item's name as the 权力事项库 lists it")(answer, answers)


QUESTIONS: tuple[Question, ...] = (
    Question("dept_uscc", "Department's unified social credit code (USCC, CODE-02)", code("uscc")),
    Question(
        "division_code",
        "Division code of the department (a current Zhejiang code, CODE-03)",
        code("division"),
        default=_division_in_uscc,
    ),
    Question(
        "dept_seq",
        "dept_seq: the department's 3-digit number in its division (opens every case_no, CODE-06)",
        member("sut", ("dept_seq",), "type three digits, e.g. 012, the department's number in the division"),
    ),
    Question(
        "dept_name",
        "Department name (e.g. 杭州市西湖区文化广电旅游体育局)",
        member("item", ("dept", "name"), "type the department's full name"),
    ),
    Question(
        "tier",
        "Tier of the exchange the system pushes to (province, city or county)",
        member("sut", ("tier",), "type province, city or county"),
        default=lambda answers: tier_of(answers["division_code"]),
    ),
    Question(
        "app_id",
        "app_id: the system's name at the platform",
        member("sut", ("app_id",), "type a short name, e.g. xihu-wglt"),
        default=lambda answers: f"sys-{answers['division_code']}-{answers['dept_seq']}",
    ),
    Question(
        "app_secret",
        "app_secret: the shared secret the system signs with (SIG-01)",
        _secret,
        default=lambda answers: secrets.token_hex(24),
        secret=True,
    ),
    Question(
        "base_url",
        "base_url: where the platform reaches the system (REG-01)",
        url(("base_url",)),
        default=lambda answers: "http://127.0.0.1:8600",
    ),
    Question(
        "sso_url",
        "sso_url: the browser hand-off of single sign-on (SSO-01)",
        url(("sso_url",)),
        default=lambda answers: answers["base_url"].rstrip("/") + "/yzw/v1/sso",
    ),
    Question(
        "driver_url",
        f"driver URL (norm §11; {NONE} for none: an operator acts at the window)",
        url(("driver", "url")),
        default=lambda answers: answers["base_url"].rstrip("/") + "/_driver",
        optional=True,
    ),
    Question(
        "formats",
        "Message formats (json, or json,xml; MSG-01)",
        _formats,
        default=lambda answers: "json",
    ),
    Question("item_name", "First catalogue item: its name (事项名称)", _item_name),
    Question("base_code", "First catalogue item: its base code (事项基本编码, 12 digits, CODE-04)", code("base_code")),
)
