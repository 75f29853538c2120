"""What nodes send on their own: relay of events (EVT-09) and notices to systems (CAT-03, SUP-02, SSO-06).

Each node runs these loops in its event loop. Relay keeps order per target and stops at the first event the
target did not take, so a parent that is down gets everything, in order, once it is back; the parent's
dedup on event_id makes a resend harmless (nothing lost, nothing doubled).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
from typing import Any

import httpx

from yzw.client import AsyncSignedClient, Credentials
from yzw.codes.times import CN_TZ
from yzw.mock import supervision
from yzw.mock.platform import PLATFORM_APP_ID, Platform
from yzw.mock.topology import NodeSpec

log = logging.getLogger("yzw.mock")
RELAY_BATCH = 200
NOTICE_PATHS = {
    "catalog": "/yzw/v1/catalog/notifications",
    "supervision": "/yzw/v1/supervision/notices",
    "logout": "/yzw/v1/sso/logout",
}


async def relay_loop(platform: Platform, node: NodeSpec, stop: asyncio.Event) -> None:
    """Forward this node's outbox to its targets until stopped; back off while a target is unreachable."""
    credentials = Credentials(
        platform.node_app_id(node.name),
        platform.node_secret(node.name),
        token_url=platform.url(platform.topology.province.name) + "/idp/v1/oauth/token",
    )
    client = AsyncSignedClient(credentials)
    backoff = 0.0
    try:
        while not stop.is_set():
            try:
                moved = await _relay_once(platform, node, client)
            except Exception:  # a store that times out or deadlocks under load must not end the relay for good
                log.exception("relay %s: the store failed; will retry", node.name)
                moved = False
            backoff = 0.0 if moved is not False else min(max(backoff * 2, 0.5), 5.0)
            await _sleep(stop, backoff or (0.05 if moved else 0.2))
    finally:
        await client.aclose()


async def _relay_once(platform: Platform, node: NodeSpec, client: AsyncSignedClient) -> bool | None:
    """True when events moved, None when there was nothing to move (or a reset is under way), False when a
    target refused or failed."""
    if not platform.relays.enter():
        return None
    try:
        return await _relay_rows(platform, node, client)
    finally:
        platform.relays.leave()


async def _relay_rows(platform: Platform, node: NodeSpec, client: AsyncSignedClient) -> bool | None:
    rows = platform.store.rows(
        "SELECT id, target, body FROM outbox WHERE node = ? ORDER BY id LIMIT ?", node.name, RELAY_BATCH
    )
    if not rows:
        return None
    target = rows[0]["target"]
    batch = [row for row in rows if row["target"] == target]
    try:
        response = await client.request(
            "POST",
            platform.url(target) + "/exchange/v1/events:batch",
            json={"events": [json.loads(row["body"]) for row in batch]},
        )
    except (httpx.HTTPError, OSError) as exc:
        log.info("relay %s → %s: %s; will retry", node.name, target, exc)
        return False
    if response.status_code != 200:
        log.warning("relay %s → %s answered %s; will retry", node.name, target, response.status_code)
        return False
    taken: list[int] = []
    for row, result in zip(batch, response.json().get("results", []), strict=False):
        if result.get("status") != 200:
            log.warning("relay %s → %s refused event %s: %s", node.name, target, result.get("event_id"), result)
            break
        taken.append(row["id"])
    with platform.store.transaction() as db:
        db.executemany("DELETE FROM outbox WHERE id = ?", [(row_id,) for row_id in taken])
    return bool(taken)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


CARD_ROUND_SECONDS = 0.5  # how often supervision cards are raised and their notices sent (SUP-01: minutes)
NOTICE_POLL_SECONDS = 0.05  # how soon a queued catalogue or logout notice goes out (CAT-03's 60 s start then)


async def notice_loop(platform: Platform, node: NodeSpec, stop: asyncio.Event) -> None:
    """Raise supervision cards and send notices (this node's, and the province's catalogue and logout ones).

    Cards are a half-second round; a queued notice goes out within NOTICE_POLL_SECONDS, so that a check waiting
    for a system to apply it waits for the system, not for this loop."""
    client = AsyncSignedClient(Credentials(PLATFORM_APP_ID, platform.platform_secret))
    next_cards = 0.0
    try:
        while not stop.is_set():
            try:
                if time.monotonic() >= next_cards:
                    next_cards = time.monotonic() + CARD_ROUND_SECONDS
                    await _cards_once(platform, node, client)
                await _queued_notices(platform, node, client)
            except Exception:  # as in the relay: one failure of the store must not stop supervision
                log.exception("notices %s: the store failed; will retry", node.name)
            await _sleep(stop, NOTICE_POLL_SECONDS)
    finally:
        await client.aclose()


async def _cards_once(platform: Platform, node: NodeSpec, client: AsyncSignedClient) -> None:
    supervision.raise_cards(platform, node)
    for card in supervision.take_due_notices(platform, node):
        await _notify(platform, client, "supervision", card["dept_uscc"], _notice(card))


async def _queued_notices(platform: Platform, node: NodeSpec, client: AsyncSignedClient) -> None:
    while node.tier == "province" and platform.pending_notices:
        kind, to, body = platform.pending_notices.popleft()
        await _notify(platform, client, kind, to, body)


def _notice(card: dict[str, Any]) -> dict[str, Any]:
    issued = dt.datetime.now(CN_TZ).replace(microsecond=0)
    return {
        "notice_id": "N-" + secrets.token_hex(8),
        "case_no": card["case_no"],
        "card": card["level"],
        "issued_at": issued.isoformat(),
        "respond_by": supervision.respond_by(issued),
    }


async def _notify(platform: Platform, client: AsyncSignedClient, kind: str, to: str, body: dict[str, Any]) -> None:
    """Send a notice to every registered system it concerns (by dept_uscc, or everyone for a logout)."""
    systems = platform.systems() if kind == "logout" else platform.systems_of(to)
    for system in systems:
        url = system.base_url + NOTICE_PATHS[kind]
        entry: dict[str, Any] = {"kind": kind, "to": system.app_id, "url": url, "body": body}
        started = time.monotonic()
        try:
            response = await client.request("POST", url, json=body)
            entry["status"] = response.status_code
        except (httpx.HTTPError, OSError) as exc:
            entry["error"] = str(exc)
        entry["seconds"] = round(time.monotonic() - started, 3)  # how long the system took to answer (CAT-03)
        platform.delivered.append(entry)
