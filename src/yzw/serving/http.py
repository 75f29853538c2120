"""MSG-04 request steps shared by the kit's servers: body size, parsing (JSON, XML, forms), the raw path."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from yzw.errors import YzwError
from yzw.serving.errors import ApiError
from yzw.spec.limits import limits
from yzw.spec.validate import Unreadable
from yzw.spec.xml import XmlForbidden, XmlMalformed, from_xml, parse_xml

JSON, XML, FORM = "application/json", "application/xml", "application/x-www-form-urlencoded"


async def read_body(request: Request) -> bytes:
    limit = limits().max_body_bytes  # MSG-04
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is over {limit} bytes (MSG-04)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is over {limit} bytes (MSG-04)")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(body: bytes, content_type: str) -> Any:
    try:
        if content_type == FORM:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if content_type == XML:
            return from_xml(parse_xml(body))[1]
        if not body.strip():
            raise Unreadable("the body is empty")
        return json.loads(body.decode("utf-8"), parse_constant=_not_json)  # JSON only: no NaN, no YAML
    except XmlForbidden as exc:
        raise ApiError(400, "XML_FORBIDDEN_CONSTRUCT", f"{exc} (MSG-05)") from None
    except (Unreadable, XmlMalformed, ValueError) as exc:  # bad UTF-8, bad JSON, NaN
        raise ApiError(400, "MALFORMED_BODY", f"the body is not well-formed: {exc} (MSG-04)") from None
    except RecursionError:  # nested deeper than the parser goes: refused, never a 5xx (ROB-01)
        raise ApiError(400, "MALFORMED_BODY", "the body is nested too deeply to be read (MSG-04)") from None
    except YzwError as exc:  # well-formed XML that is no message of the XML form (a root outside the namespace)
        raise ApiError(400, "SCHEMA_INVALID", str(exc), [{"path": "/", "reason": str(exc)}]) from None


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def raw_path(scope: Any) -> str:
    """The path exactly as sent (SIG-01), not percent-decoded; `path` where a server gives no raw_path."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else str(scope["path"])


HTML = "text/html"


def prefers_html(accept: str) -> bool:
    """MSG-02: a browser-facing error is an HTML page when `Accept` gives text/html a higher q than JSON.

    Each type takes the q of its most specific matching range (`text/html` over `text/*` over `*/*`,
    RFC 9110 §12.5.1); no Accept, or a tie, is JSON.
    """
    return _quality(accept, HTML) > _quality(accept, JSON)


def _quality(accept: str, media: str) -> float:
    kind = media.split("/", maxsplit=1)[0]
    best: tuple[int, float] = (-1, 0.0)  # (specificity, q)
    for media_range in accept.split(",") if accept.strip() else ["*/*"]:
        name, *params = (part.strip() for part in media_range.split(";"))
        specificity = {media: 2, f"{kind}/*": 1, "*/*": 0}.get(name.lower(), -1)
        if specificity > best[0]:
            best = (specificity, _q(params))
    return best[1]


def _q(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0
