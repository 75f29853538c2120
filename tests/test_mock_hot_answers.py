"""The exchange's hot path answers byte for byte as pinned here (status, media type, length and body; receipt
ids and arrival times masked): accepted, duplicate, conflict, out of order, schema and code refusals, a bad
signature, and a batch of mixed outcomes. A faster intake must not change a byte of what a system reads."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.mock_helpers import System, register

from yzw.mock.runner import RunningPlatform
from yzw.signing import signed_headers

MASKS = (
    (re.compile(rb'"R-county-[0-9a-f]{32}"'), b'"R-county-*"'),
    (re.compile(rb'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00"'), b'"*time*"'),
)


@pytest.fixture
def system(platform_nodes: RunningPlatform) -> Iterator[System]:
    registered = register(platform_nodes, seed=16, app_id="hot-answers")
    yield registered
    registered.client.close()


def _answer(response: httpx.Response) -> tuple[int, str, str, bytes]:
    body = response.content
    for pattern, mask in MASKS:
        body = pattern.sub(mask, body)
    return response.status_code, response.headers["content-type"], response.headers["content-length"], body


def _post(system: System, path: str, document: Any, **changes: str) -> tuple[int, str, str, bytes]:
    body = json.dumps(document, ensure_ascii=False).encode()
    headers = signed_headers(system.record["app_id"], system.record["app_secret"], "POST", path, "", body)
    headers |= {**system.client._bearer(), "Content-Type": "application/json", **changes}
    return _answer(httpx.post(system.urls["county"] + path, content=body, headers=headers))


RECEIPT = b'{"receipt_id":"R-county-*","received_at":"*time*","duplicate":false}'
CONFLICT = b'{"code":"EVENT_CONFLICT","message":"this event_id was recorded with other content (EVT-07)","details":[]}'
ORDER = b"seq %d does not follow %d (seq starts at 1 and grows by 1 without gaps)"


def _order(seq: int, last: int) -> bytes:
    reason = ORDER % (seq, last)
    detail = b'[{"path":"/seq","reason":"%s","requirement":"EVT-03"}]' % reason
    return b'{"code":"SEQUENCE_INVALID","message":"%s","details":%s}' % (reason, detail)


def test_single_pushes_answer_as_pinned(system: System) -> None:
    _, (first, second) = system.factory.case_history(("SL", "CB"))
    push, json_media = "/exchange/v1/events", "application/json"
    assert _post(system, push, {**first, "handler": None}) == (
        400,
        json_media,
        "201",
        b'{"code":"SCHEMA_INVALID","message":"the body breaks the event schema (specs/schemas/event.schema.json)",'
        b'"details":[{"path":"/handler","reason":"null is not of type \\"object\\"","requirement":"EVT-02"}]}',
    )
    assert _post(system, push, first, **{"X-Yzw-Signature": "0" * 64}) == (
        401,
        json_media,
        "108",
        b'{"code":"SIGNATURE_INVALID","message":"signature does not match the canonical string (SIG-01)","details":[]}',
    )
    assert _post(system, push, {**first, "dept_uscc": "11330106002482061X"}) == (
        422,
        json_media,
        "191",
        '{"code":"CODE_INVALID","message":"a code breaks its rule (norm §2)","details":[{"path":"/dept_uscc",'
        '"reason":"USCC check character is wrong: expected \'L\', got \'X\'","requirement":"CODE-02"}]}'.encode(),
    )
    assert _post(system, push, second) == (422, json_media, "241", _order(2, 0))
    assert _post(system, push, first) == (200, json_media, "118", RECEIPT)
    assert _post(system, push, first) == (200, json_media, "117", RECEIPT.replace(b"false", b"true"))
    assert _post(system, push, {**first, "opinion": "changed"}) == (409, json_media, "105", CONFLICT)


def test_a_batch_of_mixed_outcomes_answers_as_pinned(system: System) -> None:
    _, events = system.factory.case_history(("SL", "CB", "SH"))
    sl, cb, sh = events
    batch = [sl, sl, {**sl, "opinion": "changed"}, sh, "not an event", {**cb, "step": 7}, cb, sh]
    ids = [str(event["event_id"]).encode() for event in events]
    schema = b'{"code":"SCHEMA_INVALID","message":"the event breaks its schema","details":[%s]}'
    step = (
        b'{"path":"/step","reason":"7 is not of type \\"string\\"","requirement":"EVT-02"},'
        b'{"path":"/step","reason":"7 is not one of \\"SB\\", \\"BZ\\" or 12 other candidates","requirement":"EVT-02"}'
    )
    results = [
        b'{"event_id":"%s","status":200,"receipt":%s}' % (ids[0], RECEIPT),
        b'{"event_id":"%s","status":200,"receipt":%s}' % (ids[0], RECEIPT.replace(b"false", b"true")),
        b'{"event_id":"%s","status":409,"error":%s}' % (ids[0], CONFLICT),
        b'{"event_id":"%s","status":422,"error":%s}' % (ids[2], _order(3, 1)),
        b'{"event_id":"","status":400,"error":%s}' % (schema % b""),
        b'{"event_id":"%s","status":400,"error":%s}' % (ids[1], schema % step),
        b'{"event_id":"%s","status":200,"receipt":%s}' % (ids[1], RECEIPT),
        b'{"event_id":"%s","status":200,"receipt":%s}' % (ids[2], RECEIPT),
    ]
    expected = b'{"results":[%s]}' % b",".join(results)
    assert _post(system, "/exchange/v1/events:batch", {"events": batch}) == (200, "application/json", "1733", expected)
