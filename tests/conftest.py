"""Shared fixtures of the kit's own tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from faker import Faker
from tests.mock_helpers import StubSystem, System, register
from typer.testing import CliRunner

from yzw.cli import app
from yzw.client import Credentials, SignedClient
from yzw.fixtures import make_faker
from yzw.mock.runner import RunningPlatform, start_platform
from yzw.reference.runner import RunningReference, start_reference
from yzw.sut import Registration

REPO = Path(__file__).resolve().parent.parent
NORM_FILE = REPO.parent / "shared" / "norm" / "YZW-NORM-2026.md"
TODAY = dt.date(2026, 11, 28)
RECORD = yaml.safe_load((REPO / "mocks" / "reference-sut.yaml").read_text(encoding="utf-8"))
REGISTRATION = Registration.from_mapping(RECORD)


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """`yzw demo` once per session: its exit code, output and report folder (the loop test's clean run)."""
    folder = tmp_path_factory.mktemp("demo-report")
    result = CliRunner().invoke(app, ["demo", "--report-dir", str(folder)])
    return result.exit_code, result.output, folder


@pytest.fixture
def fake() -> Faker:
    """A seeded zh_CN faker with the kit's provider."""
    return make_faker(seed=1234)


@pytest.fixture(scope="session")
def running_platform() -> Iterator[RunningPlatform]:
    """One mock platform (three nodes on free loopback ports) for the whole test session."""
    running = start_platform()
    yield running
    running.stop()


@pytest.fixture
def platform_nodes(running_platform: RunningPlatform) -> RunningPlatform:
    """The session's platform, reset before the test (registrations and the catalogue stay)."""
    httpx.post(running_platform.urls["province"] + "/_mock/reset").raise_for_status()
    return running_platform


@pytest.fixture
def stub() -> Iterator[StubSystem]:
    """A system that records the notices the platform sends it, checking their signatures."""
    receiver = StubSystem()
    yield receiver
    receiver.stop()


@pytest.fixture
def notified_system(platform_nodes: RunningPlatform, stub: StubSystem) -> Iterator[System]:
    """A registered system whose base_url is the stub, so that notices reach it."""
    registered = register(platform_nodes, base_url=stub.url)
    stub.platform_secret = registered.record["platform_secret"]
    yield registered
    registered.client.close()


@pytest.fixture
def reference(platform_nodes: RunningPlatform) -> Iterator[RunningReference]:
    """The reference system, registered with the mock platform as mocks/reference-sut.yaml says."""
    running = start_reference(platform_nodes, REGISTRATION)
    yield running
    running.stop()


@pytest.fixture
def portal(reference: RunningReference) -> Iterator[SignedClient]:
    """The platform's side: signs as the platform, as the unified application system does."""
    client = SignedClient(Credentials(reference.system.platform_app_id, reference.system.platform_secret))
    yield client
    client.close()


@pytest.fixture
def desk(reference: RunningReference) -> Iterator[SignedClient]:
    """The conformance driver's caller: signs with the system's own key (§11)."""
    client = SignedClient(Credentials(RECORD["app_id"], RECORD["app_secret"]))
    yield client
    client.close()
