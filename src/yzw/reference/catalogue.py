"""Items from the province catalogue (CAT-01), cached with their ETag and refetched on change notices (CAT-03)."""

from __future__ import annotations

from typing import Any

import httpx

from yzw.codes import check_item_code
from yzw.reference.system import ReferenceSystem
from yzw.serving.errors import ApiError
from yzw.spec import validate_value


async def item(system: ReferenceSystem, item_code: str, refresh: bool = False) -> dict[str, Any] | None:
    """The item's current catalogue entry, or None when the catalogue does not know it.

    Raises 503 DEPENDENCY_UNAVAILABLE when the catalogue cannot answer (ROB-01).
    """
    if check_item_code(item_code) is not None:  # no catalogue holds a malformed code (CODE-04): no call to make
        return None
    cached = system.items.get(item_code)
    if cached is not None and not refresh:
        return cached
    headers = system.parts.item_condition(system, item_code) if cached else {}
    try:
        answer = await system.client.request(
            "GET", f"{system.province_url}/catalog/v1/items/{item_code}", headers=headers
        )
    except (httpx.HTTPError, OSError):
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the province catalogue cannot be reached (ROB-01)") from None
    if answer.status_code == 304 and cached is not None:
        return cached
    if answer.status_code == 404:
        system.items.pop(item_code, None)
        return None
    if answer.status_code != 200:
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", f"the province catalogue answered {answer.status_code} (ROB-01)")
    entry = system.parts.item_answer(answer)
    if entry is None:  # an answer that is not the norm's (ROB-01)
        raise ApiError(503, "DEPENDENCY_UNAVAILABLE", "the province catalogue gave an answer that is not an item")
    system.items[item_code] = entry
    system.etags[item_code] = answer.headers.get("ETag", "")
    system.item_versions[(item_code, int(entry["version"]))] = entry
    return entry


def item_of(answer: httpx.Response) -> dict[str, Any] | None:
    """CAT-01: the item of the catalogue's 200; None when it is not the norm's item (ROB-01: the catalogue cannot
    answer, 503, never 'no such item')."""
    try:
        entry = answer.json()
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and not validate_value("item", entry) else None


def filed_version(system: ReferenceSystem, application: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """CAT-03: an application is decided on the version it was filed under (its item_version) when that version
    is known, so a change notice between filing and decision changes nothing for it; else the current one."""
    filed = application.get("item_version")
    return system.item_versions.get((current["item_code"], filed), current) if isinstance(filed, int) else current


def echoed_etag(system: ReferenceSystem, item_code: str) -> dict[str, str]:
    """CAT-01: If-None-Match carries the ETag the catalogue answered, unchanged (it is opaque: never built)."""
    etag = system.etags.get(item_code)
    return {"If-None-Match": etag} if etag else {}


def active_for_department(system: ReferenceSystem, entry: dict[str, Any] | None) -> bool:
    """APP-03 / CAT-02: the item exists, is active, and belongs to this system's department."""
    return (
        entry is not None and entry.get("status") == "active" and entry["dept"]["uscc"] == system.registration.dept_uscc
    )
