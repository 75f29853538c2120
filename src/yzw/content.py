"""Where the kit's content folders (specs/, mocks/, fixtures/ …) live, installed or in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_FOLDERS = ("specs", "conformance", "mocks", "loadtests", "fixtures", "reports")


@cache
def content_root() -> Path:
    """The folder holding specs/ and its siblings: inside the wheel, or the repository root."""
    for candidate in (_PACKAGE / "_content", _PACKAGE.parent.parent):
        if (candidate / "specs" / "requirements.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        "yzw-conform cannot find its specs/ folder; reinstall the kit (pip install yzw-conform) "
        "or run it from a checkout of the repository"
    )


def content_path(*parts: str) -> Path:
    """A path below the content root, e.g. `content_path("specs", "codes", "divisions.csv")`."""
    if not parts or parts[0] not in _FOLDERS:
        raise ValueError(f"content path must start with one of {_FOLDERS}, got {parts!r}")
    return content_root().joinpath(*parts)
