"""Province /catalog (CAT-01): the demo catalogue with versions, ETag / If-None-Match, and change notices."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from starlette.responses import JSONResponse, Response

from yzw.content import content_path
from yzw.errors import YzwError
from yzw.mock.pipeline import Call, endpoint
from yzw.serving.errors import ApiError
from yzw.serving.store import Store


def load_demo_catalogue(store: Store) -> None:
    """Load mocks/catalog.yaml as version 1 of each item (once; a reset keeps the catalogue)."""
    if store.one("SELECT 1 FROM items LIMIT 1") is not None:
        return
    path = content_path("mocks", "catalog.yaml")
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise YzwError(f"cannot read the demo catalogue {path}: {exc}") from None
    with store.transaction() as db:
        for item in items:
            row = (item["item_code"], item["version"], json.dumps(item, ensure_ascii=False))
            db.execute("INSERT INTO items (item_code, version, body) VALUES (?, ?, ?)", row)


def current_item(store: Store, item_code: str) -> dict[str, Any] | None:
    """The latest version of an item (active or retired), or None."""
    found = store.get_json("SELECT body FROM items WHERE item_code = ? ORDER BY version DESC LIMIT 1", item_code)
    return dict(found) if found else None


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


@endpoint(scope="catalog:read")
async def get_item(call: Call) -> Response:
    """GET /catalog/v1/items/{item_code}: the current version with its ETag; 304 when If-None-Match matches."""
    row = call.platform.store.one(
        "SELECT version, body FROM items WHERE item_code = ? ORDER BY version DESC LIMIT 1",
        call.request.path_params["item_code"],
    )
    if row is None:
        raise ApiError(404, "ITEM_UNKNOWN", "no such item in the catalogue (CAT-01)")
    etag = entity_tag(row["body"])
    if call.request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(row["body"], media_type="application/json", headers={"ETag": etag})  # stored as JSON text
