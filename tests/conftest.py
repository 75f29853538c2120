"""Shared fixtures of the kit's own tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from faker import Faker
from tests.mock_helpers import StubSystem, System, register

from yzw.fixtures import make_faker
from yzw.mock.runner import RunningPlatform, start_platform

REPO = Path(__file__).resolve().parent.parent
NORM_FILE = REPO.parent / "shared" / "norm" / "YZW-NORM-2026.md"
TODAY = dt.date(2026, 11, 28)


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
