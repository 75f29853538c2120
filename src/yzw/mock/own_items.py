"""A registered department's own catalogue items (its sut record's `catalog`), kept across resets.

They live apart from the live catalogue, in `own_items`, so that every reset can put them back: a check may
retire or change an item, and the next check starts again from what the vendor wrote.
"""

from __future__ import annotations

import json
from typing import Any

from yzw.serving.store import Store

OWN_ITEMS = "own_items"  # the table a reset keeps


def keep_own_items(store: Store, items: list[dict[str, Any]]) -> None:
    """A department's own items (checked already): they replace what the catalogue and the kept items held for
    that department, now and after every reset."""
    departments = sorted({str(item["dept"]["uscc"]) for item in items})
    with store.transaction() as db:
        for uscc in departments:
            db.execute("DELETE FROM own_items WHERE dept_uscc = ?", (uscc,))
        for item in items:
            db.execute(
                "INSERT INTO own_items (item_code, dept_uscc, body) VALUES (?, ?, ?) ON CONFLICT (item_code) "
                "DO UPDATE SET dept_uscc = excluded.dept_uscc, body = excluded.body",
                (item["item_code"], item["dept"]["uscc"], json.dumps(item, ensure_ascii=False)),
            )
    restore_own_items(store)


def restore_own_items(store: Store, dept_uscc: str | None = None) -> None:
    """Every kept department's items (or one department's) back in the catalogue as written, in place of that
    department's items (the demo's too: a department's own catalogue is the whole of its catalogue)."""
    rows = store.rows("SELECT dept_uscc, body FROM own_items ORDER BY item_code")
    kept = [json.loads(row["body"]) for row in rows if dept_uscc in (None, row["dept_uscc"])]
    departments = {item["dept"]["uscc"] for item in kept}
    replaced = [i["item_code"] for i in map(json.loads, _bodies(store)) if i["dept"]["uscc"] in departments]
    replaced += [item["item_code"] for item in kept]
    with store.transaction() as db:
        for code in sorted(set(replaced)):
            db.execute("DELETE FROM items WHERE item_code = ?", (code,))
        for item in kept:
            row = (item["item_code"], item["version"], json.dumps(item, ensure_ascii=False))
            db.execute("INSERT INTO items (item_code, version, body) VALUES (?, ?, ?)", row)


def _bodies(store: Store) -> list[str]:
    return [row["body"] for row in store.rows("SELECT body FROM items")]
