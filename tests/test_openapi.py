"""specs/openapi: valid OpenAPI 3.1, valid examples, every norm error code listed, fuzzable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.readers import read_from_filename
from tests.conftest import NORM_FILE, REPO

from yzw.register import load_register
from yzw.spec import validate

FILES = {name: REPO / "specs" / "openapi" / f"{name}.yaml" for name in ("department", "platform")}
METHODS = ("get", "post", "put", "delete", "patch")


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(FILES[name].read_text(encoding="utf-8"))


def _operations(name: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, route in _load(name)["paths"].items()
        for method, op in route.items()
        if method in METHODS
    ]


@pytest.mark.parametrize("name", FILES)
def test_openapi_document_is_valid(name: str) -> None:
    spec, _ = read_from_filename(str(FILES[name]))
    validate_openapi(spec, base_uri=FILES[name].resolve().as_uri())


def _media_examples(node: dict[str, Any]) -> list[tuple[str, Any]]:
    """(schema kind, example value) of every media type whose schema is a reference to a message schema."""
    found = []
    for media in node.get("content", {}).values():
        match = re.fullmatch(r"\.\./schemas/([a-z-]+)\.schema\.json", media.get("schema", {}).get("$ref", ""))
        for example in media.get("examples", {}).values():
            if match and "value" in example:
                found.append((match.group(1), example["value"]))
    return found


def _all_examples(name: str) -> list[tuple[str, str, Any]]:
    document = _load(name)
    found = []
    for path, method, op in _operations(name):
        parts = [op.get("requestBody", {}), *op["responses"].values()]
        for given_part in parts:
            ref = given_part.get("$ref", "")
            part = document["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else given_part
            found += [(f"{method.upper()} {path}", kind, value) for kind, value in _media_examples(part)]
    return found


@pytest.mark.parametrize("name", FILES)
def test_every_example_validates_against_its_schema(name: str) -> None:
    examples = _all_examples(name)
    assert len(examples) > 20
    bad = [(where, kind, validate(kind, value)) for where, kind, value in examples if validate(kind, value)]
    assert not bad


@pytest.mark.parametrize("name", FILES)
def test_every_operation_is_tagged_and_exemplified(name: str) -> None:
    register = load_register()
    for path, _method, op in _operations(name):
        assert op["operationId"]
        assert all(rid in register for rid in op["x-requirements"])
        assert op["x-requirements"] or path == "/actions", f"{path} names no requirement"
        has_example = any(
            _media_examples(part) or any(m.get("examples") for m in part.get("content", {}).values())
            for part in [op.get("requestBody", {}), *op["responses"].values()]
        )
        has_example = has_example or any("example" in p for p in op.get("parameters", []))
        assert has_example, f"{path} has no named example"


def test_every_error_code_of_the_norm_is_listed() -> None:
    listed = {
        code
        for name in FILES
        for response in _load(name)["components"]["responses"].values()
        for code in response["x-error-codes"]
    }
    if not NORM_FILE.exists():
        pytest.skip("shared/norm is not beside the repository")
    text = NORM_FILE.read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:\d{3} )?([A-Z][A-Z]+(?:_[A-Z]+)+)`", text)) - {"UPPER_SNAKE"}
    assert named - listed == set()


def _schemathesis_cases(path: Path) -> dict[str, int]:
    schema = schemathesis.openapi.from_path(str(path))
    counts: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        _generate(operation.as_strategy(), operation.label, counts)
    return counts


def _generate(strategy: Any, label: str, counts: dict[str, int]) -> None:
    @given(case=strategy)
    @settings(max_examples=2, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def generate(case: Any) -> None:
        counts[label] = counts.get(label, 0) + 1

    generate()


@pytest.mark.parametrize("name", FILES)
def test_schemathesis_generates_cases_for_every_operation(name: str) -> None:
    counts = _schemathesis_cases(FILES[name])
    assert len(counts) == len(_operations(name))
    assert all(count >= 1 for count in counts.values())
