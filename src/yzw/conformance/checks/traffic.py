"""Rules on the calls the system made to the platform, as the mock nodes recorded them (SIG-01, SIG-03…05)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from yzw.conformance.nodes import Nodes
from yzw.conformance.violations import Violation
from yzw.spec import validate

TOKEN_PATH = "/idp/v1/oauth/token"
RESENT_AFTER = 0.5  # seconds: a call on the refused path this much later is the refused call sent again, not a twin


def stray_calls(nodes: Nodes, since: float) -> list[dict[str, Any]]:
    """Calls since `since` that name no registered caller: without X-Yzw-App-Id and without a token of any
    system, or refused APP_UNKNOWN. When the system made no call under its own app_id, these are its calls."""
    strays: list[dict[str, Any]] = []
    watched: set[str] = set()
    for name, url in nodes.urls.items():
        if url in watched:
            continue
        watched.add(url)
        for entry in nodes.traffic(name, "/", own=False):
            if float(entry.get("t", 0)) < since or str(entry.get("path", "")).startswith("/_mock"):
                continue
            anonymous = not entry.get("app_id") and not entry.get("bearer_app")
            if anonymous or (entry.get("status") == 401 and '"APP_UNKNOWN"' in str(entry.get("response", ""))):
                strays.append(entry)
                nodes.evidence.observed(entry, url)
    return strays


def own_calls(nodes: Nodes) -> list[dict[str, Any]]:
    """Every call the system made to the province and to its exchange in this test, kept as evidence."""
    calls: list[dict[str, Any]] = []
    watched: set[str] = set()
    for name, url in nodes.urls.items():
        if url in watched:  # a province-tier system's exchange is the province node
            continue
        watched.add(url)
        for entry in nodes.traffic(name, "/"):
            calls.append(entry)
            nodes.evidence.observed(entry, url)
    return calls


def no_refusal(calls: Iterable[dict[str, Any]], codes: tuple[str, ...], *, fix: str) -> None:
    """None of the calls was refused with one of `codes`; and there was at least one call to judge."""
    calls = list(calls)
    if not calls:
        raise Violation(
            "the system made no call to the platform",
            "calls to the catalogue, the license library or the exchange while it handled an application",
            "no request from its app_id at the province or its exchange",
            "call the platform as the norm asks (CAT-01, APP-05, EVT-01), signed with the registered app_id",
            "the mock nodes' traffic",
        )
    for entry in calls:
        answer = str(entry.get("response", ""))
        found = next((code for code in codes if f'"{code}"' in answer), None)
        if entry.get("status") == 401 and found:
            raise Violation(
                f"the platform refused the system's call with {found}",
                "calls the platform accepts",
                f"401 {answer[:200]}",
                fix,
                f"{entry.get('method')} {entry.get('path')} at {entry.get('node')}",
            )


def bearer_on_every_call(calls: list[dict[str, Any]]) -> None:
    """SIG-03: every call to the platform, the token request aside, carries a bearer token."""
    platform_calls = [e for e in calls if e["path"] != TOKEN_PATH]
    if not platform_calls and any(e.get("status") != 200 for e in calls):
        return  # the IdP refused the token request and the system stopped there: SIG-01/SIG-05 judge that
    no_refusal(platform_calls, (), fix="")  # at least one call to judge
    for entry in platform_calls:
        if not entry.get("bearer"):
            raise Violation(
                "a call to the platform carries no bearer token",
                "Authorization: Bearer <token from POST /idp/v1/oauth/token> on every call",
                f"no Authorization header; the node answered {entry.get('status')} {str(entry.get('response'))[:120]}",
                "get a token by client credentials from the province IdP and send it on every call",
                f"{entry.get('method')} {entry.get('path')} at {entry.get('node')}",
            )


def tokens_reused(calls: list[dict[str, Any]], token_codes: tuple[str, ...]) -> None:
    """SIG-04: one token, plus one per token refusal; after a refusal, a new token and one retry that works."""
    calls = sorted(calls, key=lambda e: float(e.get("t", 0)))  # in time, across the nodes
    refusals = [
        (index, e)
        for index, e in enumerate(calls)
        if e["path"] != TOKEN_PATH and e.get("status") == 401 and any(c in str(e.get("response")) for c in token_codes)
    ]
    fetched = sum(1 for e in calls if e["path"] == TOKEN_PATH and e.get("status") == 200)
    if fetched > 1 + len(refusals):
        raise Violation(
            "the system fetched more tokens than it needed",
            f"one token, and one more per token refusal ({len(refusals)} refused): at most {1 + len(refusals)}",
            f"{fetched} tokens fetched for {len(calls) - fetched} other calls",
            "keep the token until it expires; on 401 TOKEN_EXPIRED or TOKEN_INVALID fetch one and retry once",
            "the province IdP's traffic",
        )
    for index, refused in refusals:
        later = calls[index + 1 :]
        token_at = next((k for k, e in enumerate(later) if e["path"] == TOKEN_PATH and e.get("status") == 200), None)
        resent = [  # the refused call sent again, seconds later, before any new token: with the refused token
            e
            for e in later[:token_at]
            if (e["path"], e.get("node")) == (refused["path"], refused.get("node"))
            and float(e.get("t", 0)) - float(refused.get("t", 0)) >= RESENT_AFTER
        ]
        if token_at is None or resent:
            raise Violation(
                "after a token refusal no new token was fetched before the call went again",
                "a token request (POST /idp/v1/oauth/token) right after the refusal, then the call once more",
                f"401 {str(refused.get('response'))[:120]}; then "
                + (
                    f"{resent[0].get('method')} {resent[0].get('path')} again without a new token"
                    if resent
                    else "no token request"
                ),
                "on 401 TOKEN_EXPIRED or TOKEN_INVALID, fetch a new token and retry the call once with it",
                f"{refused.get('method')} {refused.get('path')} at {refused.get('node')}",
            )
        retried = [e for e in later if e["path"] == refused["path"] and e.get("status") != 401]
        if not retried:
            raise Violation(
                "after a token refusal the call was not retried with a new token",
                "a new token, then the same call once more, accepted",
                f"401 {str(refused.get('response'))[:150]} and no successful retry",
                "on 401 TOKEN_EXPIRED or TOKEN_INVALID, fetch a new token and retry the call once",
                f"{refused.get('method')} {refused.get('path')} at {refused.get('node')}",
            )


FORM = "application/x-www-form-urlencoded"


def token_requests_are_forms(calls: list[dict[str, Any]]) -> None:
    """SIG-03: every token request is a form (application/x-www-form-urlencoded) with
    `grant_type=client_credentials`."""
    for entry in (e for e in calls if e["path"] == TOKEN_PATH):
        media = str(entry.get("content_type") or "").split(";")[0].strip().lower()
        form = dict(parse_qsl(str(entry.get("request", ""))))
        if media != FORM or form.get("grant_type") != "client_credentials":
            raise Violation(
                "a token request is not a client-credentials form",
                f"Content-Type: {FORM}; grant_type=client_credentials&scope=…",
                f"Content-Type: {entry.get('content_type')}; body {str(entry.get('request', ''))[:150]}",
                "POST the token request as a form: grant_type=client_credentials and scope (space-separated names)",
                f"POST {TOKEN_PATH} at {entry.get('node')}",
            )


def token_requests_valid(calls: list[dict[str, Any]]) -> None:
    """SIG-05: every token request asks only for the norm's scopes (its form is SIG-03's to judge)."""
    for entry in (e for e in calls if e["path"] == TOKEN_PATH):  # none at all is SIG-03's to judge
        form = dict(parse_qsl(str(entry.get("request", ""))))
        if form.get("grant_type") != "client_credentials":
            continue  # no client-credentials form: SIG-03
        findings = validate("token-request", form)
        if findings:
            raise Violation(
                "a token request asks for a scope outside the norm's list (or is no client-credentials form)",
                "scope made of exchange:write catalog:read license:read license:write idp:ticket",
                form,
                "ask for the union of the scopes the system needs, from the norm's list only",
                f"POST {TOKEN_PATH} ({findings[0].path} {findings[0].reason})",
            )


def etags_echoed(calls: list[dict[str, Any]]) -> None:
    """CAT-01: every If-None-Match the system sent for an item is an ETag the catalogue answered for it before.

    Conditional requests are optional; a system that sends none passes. The mock's ETags are opaque, so a
    value built from the item's version (`"v1"`) is never one the catalogue answered.
    """
    answered: dict[str, set[str]] = {}
    for entry in calls:
        sent, path = entry.get("if_none_match"), str(entry.get("path"))
        if sent and sent not in answered.get(path, set()):
            raise Violation(
                "If-None-Match is not the ETag the catalogue answered",
                f"one of the ETags the catalogue sent for this item, unchanged: {sorted(answered.get(path, set()))}",
                f"If-None-Match: {sent}",
                "keep the ETag header of the catalogue's answer with the item and send it back as it came",
                f"GET {path} at {entry.get('node')}",
            )
        if entry.get("etag"):
            answered.setdefault(path, set()).add(str(entry["etag"]))
