"""Shared fixtures of the kit's own tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from faker import Faker

from yzw.fixtures import make_faker

REPO = Path(__file__).resolve().parent.parent
NORM_FILE = REPO.parent / "shared" / "norm" / "YZW-NORM-2026.md"
TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def fake() -> Faker:
    """A seeded zh_CN faker with the kit's provider."""
    return make_faker(seed=1234)
