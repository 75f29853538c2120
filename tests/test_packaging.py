"""The wheel carries the content folders, so `pip install` alone gives a working kit."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.conftest import REPO

hatchling = pytest.importorskip("hatchling.builders.wheel")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = hatchling.WheelBuilder(str(REPO)).build(directory=str(out), versions=["standard"])
    return Path(next(iter(built)))


def test_wheel_carries_specs_and_content_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (
        "yzw/_content/specs/requirements.yaml",
        "yzw/_content/specs/codes/zhejiang.csv",
        "yzw/_content/specs/rules/calendar.yaml",
        "yzw/_content/fixtures/departments.yaml",
        "yzw/_content/mocks/README.md",
        "yzw/cli/__init__.py",
    ):
        assert path in names


def test_unpacked_wheel_finds_its_content_without_the_repository(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    probe = (
        "from yzw.register import load_register; from yzw.content import content_root; "
        "print(len(load_register()), content_root())"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); " + probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    count, root = result.stdout.split()
    assert count == "63"
    assert root.startswith(str(tmp_path))
