"""The vendor samples in examples/ (Java with Bouncy Castle, Node.js with sm-crypto) against the norm and the mock.

Each sample is built once (javac; npm install, cached in examples/node/node_modules) and run as a vendor would:
(a) the norm's SIG-01 vector, (b) a signed call the mock platform accepts, (c) the IdP's SM2-signed user record
verified (and a tampered one refused), and SIG-02: the sample's receiver verifies the platform's real calls and
refuses bad ones with the norm's codes. Skipped, with the reason, when the sample's toolchain is missing.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from tests.mock_helpers import wait_until

from yzw.mock.platform import PLATFORM_APP_ID
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.signing import canonical_query, signed_headers
from yzw.sm2 import signed_bytes

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
BCPROV = Path(os.environ.get("YZW_BCPROV_JAR", "/usr/share/java/bcprov.jar"))
PLATFORM_SECRET = "samples-platform-secret-0123456789abcdef"
DEPT_USCC = "11330106002482061L"  # the reference department: the demo catalogue holds its items
VECTOR_SIGNATURE = "14fafbfd8c55ca06deb3a1c76dfe41dba6633bf55d2012eaef3f3b8073503425"  # SIG-01's vector
USER = {
    "user_id": "U330106000011",
    "user_type": "person",
    "name": "王小明",
    "auth_level": 2,
    "id_type": "111",
    "id_number": "11010519491231002X",
}
TIMEOUT = 30  # seconds for one run of a sample (a JVM start on two busy cores)


@dataclass
class Sample:
    """One built sample: the command that runs it."""

    name: str
    command: list[str]
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            check=False,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
        )


def _need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: the sample cannot run (.ci/run installs them)")


def _java(tmp: Path) -> Sample:
    _need("java", "javac")
    if not BCPROV.is_file():
        pytest.skip(f"Bouncy Castle not found at {BCPROV} (apt-get install libbcprov-java, or set YZW_BCPROV_JAR)")
    sources = sorted(str(p) for p in (EXAMPLES / "java").glob("*.java"))
    built = subprocess.run(
        ["javac", "-Xlint:-path", "-encoding", "UTF-8", "-cp", str(BCPROV), "-d", str(tmp), *sources],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, f"javac failed:\n{built.stderr}"
    return Sample("java", ["java", "-cp", f"{BCPROV}{os.pathsep}{tmp}", "YzwSigning"], EXAMPLES / "java")


def _node() -> Sample:
    _need("node", "npm")
    folder = EXAMPLES / "node"
    if not (folder / "node_modules" / "sm-crypto" / "package.json").is_file():  # cached after the first run
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            check=False,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert installed.returncode == 0, f"npm install failed in {folder}:\n{installed.stderr}"
    return Sample("node", ["node", "yzw-signing.js"], folder)


@pytest.fixture(scope="module", params=["java", "node"])
def sample(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return _java(tmp_path_factory.mktemp("java-classes")) if request.param == "java" else _node()


@pytest.fixture(scope="module")
def platform() -> Iterator[RunningPlatform]:
    """A mock platform of our own: its calls to systems are signed with a key we know (the sample's receiver)."""
    running = start_platform(platform_secret=PLATFORM_SECRET)
    yield running
    running.stop()


@dataclass
class Receiver:
    """A sample in `serve` mode: the departmental system's side of SIG-02, on a free port."""

    process: subprocess.Popen[str]
    url: str
    lines: queue.Queue[str] = field(default_factory=queue.Queue)


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


@pytest.fixture
def receiver(sample: Sample) -> Iterator[Receiver]:
    process = subprocess.Popen(
        [*sample.command, "serve", "0", PLATFORM_APP_ID, PLATFORM_SECRET],
        cwd=sample.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    try:
        first = lines.get(timeout=TIMEOUT)
        assert first.startswith("listening "), first
        yield Receiver(process, f"http://127.0.0.1:{first.split()[1]}", lines)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def _registered(platform: RunningPlatform, sample: Sample, base_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    """Register the sample as a departmental system of the reference department; its app id and secret."""
    record = {
        "app_id": f"sample-{sample.name}",
        "app_secret": f"sample-{sample.name}-secret-0123456789abcdef",
        "tier": "county",
        "division_code": "330106",
        "dept_uscc": DEPT_USCC,
        "dept_seq": "021",
        "base_url": base_url,
        "sso_url": base_url + "/yzw/v1/sso",
        "items": ["11330106002482061L4010000123000"],
        "formats": ["json"],
    }
    answer = httpx.post(platform.urls["province"] + "/_mock/systems", json=record)
    assert answer.status_code == 200, answer.text
    assert answer.json()["platform_secret"] == PLATFORM_SECRET
    return record


def test_sample_reproduces_the_norms_vector(sample: Sample) -> None:
    ran = sample.run("vector")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"signature {VECTOR_SIGNATURE} OK" in ran.stdout.splitlines()
    assert "MISMATCH" not in ran.stdout


QUERIES = [
    "",
    "b=2&a=1",
    "a=2&a=1",
    "flag",
    "a=1&&b=2&",
    "q=%E8%A5%BF%E6%B9%96+%E5%8C%BA",
    "bad=%zz&half=%4",
    "raw=%FF%FE&ok=%C3%A9",
    "sp=a%20b+c&plus=%2B&tilde=~&slash=/&star=*",
    "%EF%BD%9E=fullwidth&%F0%9F%98%80=emoji",  # U+FF5E before U+1F600 by code point, after by UTF-16 unit
    "k=%EF%BD%9E&k=%F0%9F%98%80&k=Z",
]


def test_sample_canonicalises_queries_as_the_kit_does(sample: Sample) -> None:
    """SIG-01's query rules on the cases the vector does not show (one run of the sample for all of them)."""
    ran = sample.run("canonical-query", *QUERIES)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.split("\n")[: len(QUERIES)] == [canonical_query(raw) for raw in QUERIES]


def test_sample_makes_a_signed_call_the_mock_accepts(sample: Sample, platform: RunningPlatform) -> None:
    record = _registered(platform, sample)
    province = platform.urls["province"]
    # a query to canonicalise: unsorted, a form-encoded space, UTF-8 escapes, an empty pair, a name without `=`
    path = f"/catalog/v1/items?page=1&note=%E8%A5%BF%E6%B9%96+%E5%8C%BA&&dept_uscc={DEPT_USCC}&flag"
    ran = sample.run("call", province, record["app_id"], record["app_secret"], path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    status, _, body = ran.stdout.strip().partition(" ")
    assert status == "200"
    items = json.loads(body)["items"]
    assert items
    assert all(item["dept"]["uscc"] == DEPT_USCC for item in items)

    wrong = sample.run("call", province, record["app_id"], "not-the-secret-0123456789abcdef-xyz", path)
    assert wrong.returncode != 0
    assert "SIGNATURE_INVALID" in wrong.stdout + wrong.stderr  # the mock does check: a wrong key is refused


def test_sample_verifies_the_idps_signed_user_record(sample: Sample, platform: RunningPlatform, tmp_path: Path) -> None:
    record = _registered(platform, sample)
    province = platform.urls["province"]

    def ticket() -> str:
        login = httpx.post(province + "/_mock/portal/login", json={"user": USER, "app_id": record["app_id"]})
        return str(login.json()["ticket"])

    # as a system does: validate the ticket (signed, bearer idp:ticket), fetch the IdP's key, verify SM2
    ran = sample.run("sso", province, record["app_id"], record["app_secret"], ticket())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip() == "valid " + signed_bytes(USER, "").decode()

    httpx.post(province + "/_mock/flags", json={"forge_signature": 1}).raise_for_status()  # signs other bytes
    forged = sample.run("sso", province, record["app_id"], record["app_secret"], ticket())
    assert forged.returncode == 1, forged.stdout + forged.stderr
    assert forged.stdout.startswith("INVALID")

    # a record the mock's IdP key signed, with what canonical JSON must get right: nested keys, escapes, emoji,
    # and keys that sort differently by code point than by UTF-16 unit (U+FF5E before U+1F600)
    key = platform.platform.key
    user = {
        **USER,
        "name": '张三 "老张" \\ \t 😀',
        "extra": {"～": 1, "😀": [True, None, 0, 20], "b": "\u0001", "a": {"z": "", "y": "é"}},
    }
    issued_at = "2026-11-28T09:30:00+08:00"
    signature = key.sign(user, issued_at)
    answer = {"user": user, "issued_at": issued_at, "kid": key.kid, "signature": signature}
    cases = {
        "genuine": answer,
        "tampered": {**answer, "user": {**user, "auth_level": 4}},
        "other-time": {**answer, "issued_at": "2026-11-28T09:30:01+08:00"},
        "bad-signature": {**answer, "signature": signature[:-1] + ("1" if signature[-1] != "1" else "2")},
    }
    files = []
    for name, changed in cases.items():
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(changed, ensure_ascii=False, indent=2), encoding="utf-8")
    verified = sample.run("verify-user", key.public_key_hex, *map(str, files))  # one run: a JVM starts slowly
    assert verified.returncode == 1, verified.stdout + verified.stderr  # not every file verified
    assert verified.stdout.splitlines() == [
        f"{files[0]}: valid " + signed_bytes(user, "").decode(),
        *(f"{file}: INVALID: the SM2 signature does not verify; refuse the login (SSO-02)" for file in files[1:]),
    ]


def test_sample_verifies_the_platforms_calls(sample: Sample, platform: RunningPlatform, receiver: Receiver) -> None:
    record = _registered(platform, sample, base_url=receiver.url)
    province = platform.urls["province"]

    # SIG-02 on a real call: the platform's single logout (SSO-06) reaches the sample, signed by the platform
    httpx.post(province + "/_mock/portal/logout", json={"user_id": USER["user_id"]}).raise_for_status()

    def answered() -> list[dict[str, Any]]:
        delivered = httpx.get(province + "/_mock/delivered").json()["delivered"]
        return [entry for entry in delivered if entry["to"] == record["app_id"]]

    assert wait_until(lambda: bool(answered())), "the platform's logout never reached the sample"
    assert answered()[-1].get("status") == 200, answered()
    assert receiver.lines.get(timeout=5) == "accepted POST /yzw/v1/sso/logout"

    # and the norm's refusals, in its order (401 with the code)
    path, body = "/yzw/v1/sso/logout", json.dumps({"user_id": "U1"}).encode()
    query = "b=2&a=%E8%A5%BF+x&&flag&raw=%FF"  # an empty pair, no `=`, bytes that are not UTF-8

    def send(headers: dict[str, str], content: bytes = body, raw_query: str = "") -> tuple[int, str]:
        url = receiver.url + path + (f"?{raw_query}" if raw_query else "")
        answer = httpx.post(url, content=content, headers={**headers, "Content-Type": "application/json"})
        return answer.status_code, str(answer.json().get("code", ""))

    def signed(**options: Any) -> dict[str, str]:
        raw_query = str(options.pop("raw_query", ""))
        return signed_headers(PLATFORM_APP_ID, PLATFORM_SECRET, "POST", path, raw_query, body, **options)

    fresh = signed(raw_query=query)
    assert send({**fresh, "X-Yzw-Signature": "0" * 64}, raw_query=query) == (401, "SIGNATURE_INVALID")
    assert send(fresh, raw_query=query) == (200, "")  # the rejected try did not burn the nonce
    assert send(fresh, raw_query=query) == (401, "NONCE_REPLAYED")
    assert send({}) == (401, "SIGNATURE_MISSING")
    assert send({**signed(), "X-Yzw-App-Id": "someone-else"}) == (401, "APP_UNKNOWN")
    assert send({**signed(), "X-Yzw-Nonce": "short"}) == (401, "SIGNATURE_INVALID")
    assert send(signed(timestamp=int(time.time()) - 301)) == (401, "TIMESTAMP_EXPIRED")
    assert send(signed(), content=body + b" ") == (401, "SIGNATURE_INVALID")
    assert send(signed(raw_query="a=1"), raw_query="a=2") == (401, "SIGNATURE_INVALID")
