"""The XML form (MSG-01) and its safety (MSG-05): lossless, accepted by two validators, nothing resolved."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from tests.conftest import REPO

from yzw.errors import YzwError
from yzw.fixtures import make_faker
from yzw.fixtures.messages import MessageFactory
from yzw.spec import validate
from yzw.spec.xml import NS, XmlForbidden, from_xml, parse_xml, to_xml, xsd, xsd_errors

XSD_FILE = REPO / "specs" / "xsd" / "yzw.xsd"
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
SOME = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIBXML2 = etree.XMLSchema(etree.parse(str(XSD_FILE)))


def _xml_messages(seed: int) -> list[tuple[str, dict[str, Any]]]:
    factory = MessageFactory(make_faker(seed))
    channel = ["web", "window", "agent"][seed % 3]
    application, events = factory.case_history(channel=channel)
    return [
        ("application", application),
        ("application", factory.application("legal")),
        ("supplements", factory.supplements()),
        ("license", factory.license()),
        ("batch", {"events": events}),
        ("error", {"code": "SCHEMA_INVALID", "message": "bad", "details": [{"path": "/a", "reason": "b"}]}),
        *(("event", event) for event in events),
    ]


@SOME
@given(seed=SEEDS)
def test_json_to_xml_to_json_is_the_identity(seed: int) -> None:
    for kind, message in _xml_messages(seed):
        data = to_xml(kind, message)
        assert from_xml(parse_xml(data)) == (kind, message)


@SOME
@given(seed=SEEDS)
def test_xml_form_is_valid_for_xmlschema_and_libxml2_and_the_validator(seed: int) -> None:
    for kind, message in _xml_messages(seed):
        data = to_xml(kind, message)
        assert xsd_errors(data) == []
        assert LIBXML2.validate(etree.fromstring(data)), LIBXML2.error_log
        assert validate(kind, data) == []


@pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint (Debian libxml2-utils) is not installed")
def test_xmllint_accepts_the_xml_form(tmp_path: Path) -> None:
    files = []
    for index, (kind, message) in enumerate(_xml_messages(5)):
        path = tmp_path / f"{index}-{kind}.xml"
        path.write_bytes(to_xml(kind, message))
        files.append(str(path))
    result = subprocess.run(
        ["xmllint", "--noout", "--schema", str(XSD_FILE), *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_enumerations_match_the_code_lists() -> None:
    lists = yaml.safe_load((REPO / "specs" / "codes" / "lists.yaml").read_text(encoding="utf-8"))
    for xsd_name, list_name in (("Channel", "channels"), ("Step", "steps")):
        assert list(xsd().types[xsd_name].enumeration) == list(lists[list_name]["values"])


def test_unknown_elements_are_ignored_but_strict_xsd_names_them() -> None:
    _, events = MessageFactory(make_faker(2)).case_history(("SL",))
    data = to_xml("event", {**events[0], "x_future": {"deep": "1"}})
    assert validate("event", data) == []
    assert any("x_future" in reason for _, reason in xsd_errors(data))


def test_findings_in_xml_carry_xpath() -> None:
    application = MessageFactory(make_faker(2)).application()
    application["materials"][1]["license_id"] = "1.2.156.3005.2.bad"
    findings = validate("application", to_xml("application", application))
    assert [(f.path, f.requirement) for f in findings] == [("/application/materials/item[2]/license_id", "CODE-07")]


def test_wrong_root_and_non_names_are_reported() -> None:
    assert validate("event", to_xml("license", MessageFactory(make_faker(2)).license()))[0].requirement == "MSG-01"
    with pytest.raises(YzwError, match="XML element name"):
        to_xml("application", {"form": {"1st": "x"}})


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request made to it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<!ENTITY leaked 'LEAKED'>")

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _attacks(secret_file: Path, url: str) -> dict[str, str]:
    root = f'<event xmlns="{NS}"><event_id>&x;</event_id></event>'
    head = '<?xml version="1.0"?><!DOCTYPE event'
    return {
        "external-file": f'{head} [<!ENTITY x SYSTEM "file://{secret_file}">]>{root}',
        "external-url": f'{head} [<!ENTITY x SYSTEM "{url}/entity">]>{root}',
        "external-dtd": f'{head} SYSTEM "{url}/dtd"><event xmlns="{NS}"/>',
        "parameter-entity": f'{head} [<!ENTITY % p SYSTEM "{url}/p"> %p;]>{root}',
        "billion-laughs": f'{head} [<!ENTITY a "aaaa"><!ENTITY x "&a;&a;&a;&a;">]>{root}',
        "bare-doctype": f'{head}><event xmlns="{NS}"/>',
    }


def test_xml_with_doctype_or_entities_is_refused_and_nothing_is_resolved(
    tmp_path: Path, recorder: tuple[str, list[str]]
) -> None:
    url, hits = recorder
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    for name, attack in _attacks(secret, url).items():
        with pytest.raises(XmlForbidden):
            parse_xml(attack)
        findings = validate("event", attack)
        assert [f.requirement for f in findings] == ["MSG-05"], name
        assert "TOP-SECRET" not in repr(findings)
    assert hits == []


def test_the_readmes_pretty_printed_example_is_valid() -> None:
    readme = (REPO / "specs" / "xsd" / "README.md").read_text(encoding="utf-8")
    example = readme.split("```xml\n", 1)[1].split("```", 1)[0]
    assert validate("event", example) == []
    assert xsd_errors(example) == []
