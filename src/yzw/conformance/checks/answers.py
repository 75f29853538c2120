"""Rules on a system's HTTP answers: status, error code, the MSG-02 error body."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from yzw.conformance.violations import Violation
from yzw.spec import validate
from yzw.spec.xml import from_xml, parse_xml

INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|\bSELECT\b|\bINSERT\b|sqlite|psycopg|Exception:"
    # SQL and database messages (MSG-02.12)
    r"|constraint failed|\bUPDATE\s+\w+\s+SET\s+\w+\s*=|\bDELETE\s+FROM\s+\w+\s+WHERE\b"
    r"|\bSQLSTATE\b|\bORA-\d{5}|syntax error at or near"
    # file paths: under a system folder, a file with a data or code suffix, or a Windows drive
    r"|(?<![\w/.:-])/(?:home|usr|tmp|var|etc|opt|srv|root|work|mnt|app)/"
    r"|(?<![\w/.:-])(?:/[\w.-]+)+\.(?:ya?ml|json|csv|toml|ini|cfg|db|sqlite3?|log|xsd|txt)\b"
    r"|\b[A-Z]:\\\\?[\w.-]",
    re.I,
)


def body_of(answer: httpx.Response) -> Any:
    """The answer's body as JSON data, from JSON or from the XML form; None when it is neither."""
    try:
        if "xml" in answer.headers.get("content-type", ""):
            return from_xml(parse_xml(answer.content))[1]
        return answer.json()
    except Exception:
        return None


def xml_error(answer: httpx.Response) -> None:
    """MSG-01: a registered xml system answers an XML request's error in the XML `error` form."""
    if "xml" not in answer.headers.get("content-type", "") or not isinstance(body_of(answer), dict):
        raise Violation(
            "an error to an XML request is not in the XML form",
            "Content-Type application/xml with an <error> element of namespace urn:yzw:norm:2026",
            f"{answer.headers.get('content-type')} {answer.text[:200]!r}",
            "answer XML requests' errors in the XML `error` form",
            where_of(answer),
        )


def where_of(answer: httpx.Response) -> str:
    return f"the answer to {answer.request.method} {answer.request.url.path}"


def answered(answer: httpx.Response, status: int | tuple[int, ...], code: str | None = None, *, fix: str) -> None:
    """The answer has the expected status (one of them) and, for errors, the expected MSG-02 code in an error body
    of the norm's shape without internals (MSG-02: every error of every endpoint). A finding here carries the
    calling check's requirement: the norm's attribution rule gives an answer's shape to the chapter stating it."""
    statuses = status if isinstance(status, tuple) else (status,)
    body = body_of(answer)
    received_code = body.get("code") if isinstance(body, dict) else None
    if answer.status_code in statuses and (code is None or received_code == code):
        if answer.status_code >= 400 and not _page_asked(answer):
            error_body(answer)  # MSG-02: every error of every endpoint; the finding is the calling check's
        return
    wanted = " or ".join(str(s) for s in statuses) + (f" with code {code}" if code else "")
    shown = f"{answer.status_code}" + (f" {received_code}" if received_code else "") + f" {answer.text[:200]!r}"
    raise Violation(f"answered {answer.status_code}, not {wanted}", wanted, shown, fix, where_of(answer))


def _page_asked(answer: httpx.Response) -> bool:
    """An HTML page answered to a request whose Accept names HTML (a browser-facing error; whether HTML was the
    preferred type is MSG-02's media check): no JSON error body to judge."""
    label = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    accept = answer.request.headers.get("accept", "").lower()
    return label == "text/html" and ("text/html" in accept or "text/*" in accept)


def error_body(answer: httpx.Response) -> None:
    """MSG-02: an error is {code, message, details} and shows no stack trace, SQL, file path or secret."""
    body = body_of(answer)
    findings = validate("error", body) if isinstance(body, dict) else []
    if not isinstance(body, dict) or findings:
        reason = "; ".join(f"{f.path} {f.reason}" for f in findings) or "not a JSON object"
        raise Violation(
            "the error body is not the norm's error shape",
            '{"code": "...", "message": "...", "details": [...]} (specs/schemas/error.schema.json)',
            f"{answer.text[:200]!r} ({reason})",
            "answer every error with the MSG-02 body",
            where_of(answer),
        )
    leak = INTERNALS.search(json.dumps(body, ensure_ascii=False))
    if leak:
        raise Violation(
            "the error body shows the system's internals",
            "a message for the caller, without stack traces, SQL, file paths or secrets",
            f"…{leak.group(0)}… in {str(body.get('message'))[:200]!r}",
            "log internals on the server and answer only the code and a plain message",
            where_of(answer),
        )


def no_secrets(answer: httpx.Response, secrets: dict[str, str]) -> None:
    """MSG-02: an error body shows no secret (the shared secrets of SIG-01, a bearer token), whole or in part."""
    text = answer.text
    for name, secret in secrets.items():
        if secret and (secret in text or (len(secret) >= 16 and secret[:12] in text)):
            raise Violation(
                f"the error body shows the {name}",
                "a message for the caller without secrets (MSG-02)",
                f"{answer.status_code} {text[:120]!r}… holds the {name}",
                "never echo a secret, a key or a token in an answer; log what is needed on the server",
                where_of(answer),
            )


def media(answer: httpx.Response, expected: str, *, fix: str) -> None:
    """MSG-02: a browser-facing endpoint answers in the media type the request's Accept prefers."""
    received = answer.headers.get("content-type", "").split(";")[0].strip()
    if received != expected:
        raise Violation(
            f"the error is answered as {received or 'no media type'}, not {expected}",
            f"Content-Type {expected} (the Accept range with the highest q-value; a tie is JSON)",
            f"{answer.status_code} {received} {answer.text[:120]!r}",
            fix,
            f"{where_of(answer)} with Accept {answer.request.headers.get('accept')!r}",
        )


def json_answer(answer: httpx.Response, kind: str, *, fix: str) -> dict[str, Any]:
    """The answer's JSON body, valid as `kind` of specs/schemas."""
    body = body_of(answer)
    findings = validate(kind, body) if isinstance(body, dict) else []
    if not isinstance(body, dict) or findings:
        reason = "; ".join(f"{f.path} {f.reason}" for f in findings[:3]) or "not a JSON object"
        raise Violation(
            f"the answer is not a valid {kind}",
            f"a body valid as {kind}",
            f"{answer.text[:200]!r} ({reason})",
            fix,
            where_of(answer),
        )
    return body


def equal(what: str, received: Any, expected: Any, *, fix: str, where: str) -> None:
    """One value the norm fixes."""
    if received != expected:
        raise Violation(f"{what} is not what the norm asks", repr(expected), received, fix, where)
