"""MSG-04 request steps shared by the kit's servers: body size, parsing (JSON, XML, forms), the raw path."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from yzw.serving.errors import ApiError
from yzw.spec.limits import limits
from yzw.spec.validate import Unreadable, parse_text
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
        return parse_text(body.decode("utf-8"))
    except XmlForbidden as exc:
        raise ApiError(400, "XML_FORBIDDEN_CONSTRUCT", f"{exc} (MSG-05)") from None
    except (Unreadable, XmlMalformed, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "MALFORMED_BODY", f"the body is not well-formed: {exc} (MSG-04)") from None


def raw_path(scope: Any) -> str:
    """The path exactly as sent (SIG-01), not percent-decoded; `path` where a server gives no raw_path."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else str(scope["path"])
