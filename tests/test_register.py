"""The requirement register: schema-valid, complete against the norm, append-only."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml
from tests.conftest import NORM_FILE, REPO

from yzw.errors import SpecError, UnknownRequirement
from yzw.reference.faults import catalogue as fault_catalogue
from yzw.register import _clauses, clauses, load_register, requirement
from yzw.spec.coverage import marked_tests

SCHEMA = json.loads((REPO / "specs" / "schemas" / "register.schema.json").read_text(encoding="utf-8"))
RAW = yaml.safe_load((REPO / "specs" / "requirements.yaml").read_text(encoding="utf-8"))


def test_register_validates_against_its_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(RAW, SCHEMA)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"verification": "not-tested"}, "reason"),
        ({"level": "MAY"}, "level"),
        ({"id": "ACC-4"}, "id"),
        ({"applies_to": "vendor"}, "applies_to"),
    ],
)
def test_schema_rejects_a_broken_entry(change: dict[str, str], path: str) -> None:
    broken = copy.deepcopy(RAW)
    broken["requirements"][0].update(change)
    with pytest.raises(jsonschema.ValidationError, match=path):
        jsonschema.validate(broken, SCHEMA)


@pytest.mark.skipif(not NORM_FILE.exists(), reason="shared/norm is not beside the repository")
def test_register_holds_exactly_the_norms_ids() -> None:
    norm_ids = set(
        re.findall(
            r"\b(?:REG|CODE|MSG|SIG|SSO|APP|ACC|EVT|CAT|LIC|SUP|EVAL|ROB|PERF)-\d{2}\b",
            NORM_FILE.read_text(encoding="utf-8"),
        )
    )
    assert set(load_register()) == norm_ids


def test_no_published_id_is_ever_removed() -> None:
    published = [
        line
        for line in (REPO / "tests" / "data" / "register_ids.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    missing = [rid for rid in published if rid not in load_register()]
    assert not missing, f"IDs are never renumbered or removed: {missing}"


def test_chapters_follow_the_norms_areas() -> None:
    chapters = {
        "REG": {1},
        "CODE": {2},
        "MSG": {3},
        "SIG": {4},
        "SSO": {5},
        "APP": {6},
        "ACC": {7},
        "EVT": {8},
        "CAT": {9},
        "LIC": {9},
        "SUP": {10},
        "EVAL": {10},
        "ROB": {12},
        "PERF": {12},
    }
    wrong = [r.id for r in load_register().values() if r.chapter not in chapters[r.area]]
    assert not wrong


def test_lookup_is_case_insensitive_and_unknown_ids_name_neighbours() -> None:
    assert requirement(" acc-04 ").id == "ACC-04"
    with pytest.raises(UnknownRequirement, match="ACC-01"):
        requirement("ACC-99")


def test_yaml_files_read_the_same_in_yaml_1_1_and_1_2() -> None:
    """A bare 008 or 019606110000 is a string to PyYAML (YAML 1.1) but a number to YAML 1.2 readers (Prism,
    most JavaScript tools): every code that starts with 0 must be quoted."""
    bare = re.compile(r"^\s*(?:-\s+|[\w-]+:\s+)0\d+\s*$")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("specs", "mocks", "fixtures")
        for path in sorted((REPO / folder).rglob("*.yaml"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if bare.match(line.split("#")[0])
    ]
    assert offenders == []


def _norm_text() -> str:
    return re.sub(r"\s+", " ", NORM_FILE.read_text(encoding="utf-8"))


@pytest.mark.skipif(not NORM_FILE.exists(), reason="shared/norm is not beside the repository")
def test_every_clause_quotes_the_norm() -> None:
    """A clause's source is a verbatim excerpt of the norm (line breaks read as one space), as the register's
    IDs are: a clause that quotes nothing the norm says is the kit's invention."""
    norm = _norm_text()
    invented = [c.id for c in clauses().values() if re.sub(r"\s+", " ", c.source) not in norm]
    assert invented == []


def test_every_system_requirement_is_split_into_clauses() -> None:
    unsplit = [r.id for r in load_register().values() if r.applies_to == "system" and not r.clauses]
    assert unsplit == []


def test_clauses_belong_to_their_requirement_and_are_numbered_in_order() -> None:
    one, two = ({"id": f"APP-03.{n}", "says": "x", "source": "y"} for n in (1, 2))
    assert [c.id for c in _clauses({"id": "APP-03", "clauses": [one, two]})] == ["APP-03.1", "APP-03.2"]
    for entry in ({"id": "APP-03", "clauses": [two, one]}, {"id": "APP-04", "clauses": [one]}):
        with pytest.raises(SpecError, match="numbered"):
            _clauses(entry)


def test_checks_and_faults_name_only_clauses_of_the_register() -> None:
    known = clauses()
    named = [(f"{t.module}::{t.test}", c) for t in marked_tests() for c in t.clauses]
    named += [(fault.name, c) for fault in fault_catalogue().values() for c in fault.clauses]
    assert [f"{who} names {clause}" for who, clause in named if clause not in known] == []
