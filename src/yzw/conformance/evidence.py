"""The exact requests and answers a check saw, kept as evidence with secrets redacted and people masked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from yzw.codes.masking import mask

BODY_KEPT = 4000
SECRET_HEADERS = {"authorization", "x-yzw-signature", "cookie", "set-cookie"}


def _headers(headers: httpx.Headers) -> dict[str, str]:
    return {name: "***" if name.lower() in SECRET_HEADERS else mask(value) for name, value in headers.items()}


def _text(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return mask(text if len(text) <= BODY_KEPT else text[:BODY_KEPT] + f" … ({len(body)} bytes)")


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the kit sent it or as a mock node recorded it."""

    source: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    elapsed_ms: float | None = None


def _sent(request: httpx.Request) -> bytes:
    """The request's body; a streamed (chunked) body is not kept, only said."""
    try:
        return request.content
    except httpx.RequestNotRead:
        return b"(a streamed body, sent chunked)"


@dataclass
class Evidence:
    """What one test saw: the kit's own calls (httpx hooks) and the system's calls observed at the nodes."""

    exchanges: list[Exchange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    delays: list[dict[str, Any]] = field(default_factory=list)

    def hooks(self) -> dict[str, list[Any]]:
        """httpx event hooks that record every answer the kit receives."""
        return {"response": [self._record]}

    def _record(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self.exchanges.append(
            Exchange(
                "kit → system",
                request.method,
                mask(str(request.url)),
                _headers(request.headers),
                _text(_sent(request)),
                response.status_code,
                _headers(response.headers),
                _text(response.content),
                round(response.elapsed.total_seconds() * 1000, 1),
            )
        )

    def observed(self, entry: dict[str, Any], node_url: str) -> None:
        """A request the system made to a mock node, as the node's traffic log holds it."""
        self.exchanges.append(
            Exchange(
                f"system → {entry.get('node', 'platform')}",
                str(entry.get("method")),
                mask(f"{node_url}{entry.get('path')}" + (f"?{entry['query']}" if entry.get("query") else "")),
                {"X-Yzw-App-Id": str(entry.get("app_id") or "")},
                _text(str(entry.get("request", "")).encode()),
                entry.get("status"),
                {},
                _text(str(entry.get("response", "")).encode()),
                entry.get("duration_ms"),
            )
        )

    def note(self, text: str) -> None:
        self.notes.append(mask(text))

    def take(self, other: Evidence) -> None:
        """Keep what another record of the same check saw (the check ran side by side: yzw.conformance.beside)."""
        self.exchanges += other.exchanges
        self.notes += other.notes
        self.delays += other.delays

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(exchange) for exchange in self.exchanges]
