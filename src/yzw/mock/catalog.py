"""Province /catalog (CAT-01): the demo catalogue (and the departments' own items, `mock.own_items`), with
versions, ETag / If-None-Match, and change notices."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.responses import JSONResponse, Response

from yzw.content import content_path
from yzw.errors import YzwError
from yzw.mock.pipeline import Call, endpoint
from yzw.serving.errors import ApiError
from yzw.serving.store import Store


def demo_items() -> list[dict[str, Any]]:
    """The demo department's items as mocks/catalog.yaml holds them (version 1 each): fresh copies, the caller's
    to change."""
    return [json.loads(row[2]) for row in _demo_rows()]


@functools.cache
def _demo_rows() -> tuple[tuple[str, int, str], ...]:
    """(item_code, version, body as JSON) of each demo item, read once per process: every reset of the demo
    department restores them, and parsing the YAML each time was a tenth of a conformance run's CPU."""
    path = content_path("mocks", "catalog.yaml")
    try:
        items = list(yaml.safe_load(path.read_text(encoding="utf-8"))["items"])
        return tuple((item["item_code"], item["version"], json.dumps(item, ensure_ascii=False)) for item in items)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise YzwError(f"cannot read the demo catalogue {path}: {exc}") from None


def load_demo_catalogue(store: Store, dept_uscc: str | None = None) -> None:
    """Load mocks/catalog.yaml as version 1 of each item (once; a reset keeps the catalogue), or only the items
    of one department (after a reset of that department's system)."""
    if dept_uscc is None and store.one("SELECT 1 FROM items LIMIT 1") is not None:
        return
    with store.transaction() as db:
        for row, item in zip(_demo_rows(), demo_items(), strict=True):
            if dept_uscc in (None, item["dept"]["uscc"]):
                db.execute("INSERT INTO items (item_code, version, body) VALUES (?, ?, ?)", row)


def current_item(store: Store, item_code: str) -> dict[str, Any] | None:
    """The latest version of an item (active or retired), or None."""
    found = store.get_json("SELECT body FROM items WHERE item_code = ? ORDER BY version DESC LIMIT 1", item_code)
    return dict(found) if found else None


def every_item_version(store: Store) -> list[dict[str, Any]]:
    """Every version of every item, retired ones too (an application is decided on the version it was filed
    under: CAT-03)."""
    return [json.loads(row["body"]) for row in store.rows("SELECT body FROM items ORDER BY item_code, version")]


def all_current_items(store: Store) -> list[dict[str, Any]]:
    rows = store.rows(
        "SELECT body FROM items i WHERE version = (SELECT MAX(version) FROM items WHERE "
        "item_code = i.item_code) ORDER BY item_code"
    )
    return [json.loads(row["body"]) for row in rows]


def save_version(store: Store, item: dict[str, Any]) -> None:
    store.execute(
        "INSERT INTO items (item_code, version, body) VALUES (?, ?, ?)",
        item["item_code"],
        item["version"],
        json.dumps(item, ensure_ascii=False),
    )


def entity_tag(body: str) -> str:
    """CAT-01: an opaque ETag (a digest of the stored version), so a system must echo it, not build it."""
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:24] + '"'


@endpoint(scope="catalog:read")
async def list_items(call: Call) -> Response:
    """GET /catalog/v1/items?dept_uscc=…: the department's current, active items."""
    dept = call.request.query_params.get("dept_uscc")
    if not dept:
        raise ApiError(
            400,
            "SCHEMA_INVALID",
            "query parameter dept_uscc is required (CAT-01)",
            [{"path": "dept_uscc", "reason": "required"}],
        )
    items = [i for i in all_current_items(call.platform.store) if i["dept"]["uscc"] == dept and i["status"] == "active"]
    return JSONResponse({"items": items})


@dataclass(frozen=True)
class RenderedItem:
    """An item's current version as answered: the full answer and the 304 for its ETag (Starlette responses
    hold only bytes and headers, so one object answers every request)."""

    etag: str
    answer: Response
    not_modified: Response


class ItemCache:
    """The rendered current items, kept while the store's items table is unchanged (a new version, a reset,
    a system's reset or its own items all change it); a store shared by replicas keeps nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._kept: tuple[int | None, dict[str, RenderedItem]] = (None, {})
        store.watch("items")

    def get(self, item_code: str) -> RenderedItem | None:
        version = self.store.version("items")  # read before the row: a change meanwhile empties the cache
        kept_at, kept = self._kept
        if version is None or version != kept_at:
            kept = {}
            self._kept = (version, kept)
        found = kept.get(item_code)
        if found is None:
            found = _rendered(self.store, item_code)
            if found is not None and version is not None:
                kept[item_code] = found
        return found


def _rendered(store: Store, item_code: str) -> RenderedItem | None:
    row = store.one("SELECT version, body FROM items WHERE item_code = ? ORDER BY version DESC LIMIT 1", item_code)
    if row is None:
        return None
    etag = entity_tag(row["body"])
    answer = Response(row["body"], media_type="application/json", headers={"ETag": etag})  # stored as JSON text
    return RenderedItem(etag, answer, Response(status_code=304, headers={"ETag": etag}))


@endpoint(scope="catalog:read")
async def get_item(call: Call) -> Response:
    """GET /catalog/v1/items/{item_code}: the current version with its ETag; 304 when If-None-Match matches."""
    items: ItemCache = call.request.app.state.items
    item = items.get(call.request.path_params["item_code"])
    if item is None:
        raise ApiError(404, "ITEM_UNKNOWN", "no such item in the catalogue (CAT-01)")
    return item.not_modified if call.request.headers.get("if-none-match") == item.etag else item.answer
