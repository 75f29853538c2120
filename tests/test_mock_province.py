"""Province services of the mock platform: identity (SIG-03/05, SSO), catalogue (CAT-01/03), licenses (LIC)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from tests.independent_sm2 import independent_verifier
from tests.mock_helpers import DEPT_USCC, FOOD_ITEM, StubSystem, System, wait_until

from yzw.client import Credentials, SignedClient
from yzw.signing import signed_headers
from yzw.sm2 import signed_bytes
from yzw.sm2 import verify as sm2_verify
from yzw.spec import validate

USER = {
    "user_id": "U330106000001",
    "user_type": "person",
    "name": "张三",
    "auth_level": 3,
    "id_type": "111",
    "id_number": "11010519491231002X",
}


@pytest.fixture
def system(notified_system: System) -> System:
    return notified_system


def _login(system: System) -> str:
    answer = httpx.post(
        system.urls["province"] + "/_mock/portal/login", json={"user": USER, "app_id": system.record["app_id"]}
    )
    assert answer.status_code == 200
    assert answer.json()["redirect"].startswith(system.record["sso_url"] + "?ticket=ST-")
    return str(answer.json()["ticket"])


def _validate(system: System, ticket: str) -> httpx.Response:
    return system.client.request(
        "POST",
        system.urls["province"] + "/idp/v1/tickets/validate",
        json={"ticket": ticket, "app_id": system.record["app_id"]},
    )


def test_ticket_validates_once_into_an_sm2_signed_user_record(system: System) -> None:
    ticket = _login(system)
    answer = _validate(system, ticket)
    assert answer.status_code == 200
    record = answer.json()
    assert validate("ticket-validation", record) == []
    assert record["user"] == USER
    keys = httpx.get(system.urls["province"] + "/idp/v1/keys").json()["keys"]
    assert validate("keys", {"keys": keys}) == []
    key = next(k["public_key"] for k in keys if k["kid"] == record["kid"])  # the next key is published first
    assert sm2_verify(key, record["user"], record["issued_at"], record["signature"])
    independent = independent_verifier(key)
    assert independent.verify_with_sm3(record["signature"], signed_bytes(record["user"], record["issued_at"]))
    again = _validate(system, ticket)
    assert (again.status_code, again.json()["code"]) == (400, "TICKET_USED")


@pytest.mark.parametrize(("flag", "code"), [("use_ticket", "TICKET_USED"), ("expire_ticket", "TICKET_EXPIRED")])
def test_ticket_faults(system: System, flag: str, code: str) -> None:
    httpx.post(system.urls["province"] + "/_mock/flags", json={flag: 1}).raise_for_status()
    answer = _validate(system, _login(system))
    assert (answer.status_code, answer.json()["code"]) == (400, code)


def test_unknown_ticket_and_forged_signature(system: System) -> None:
    unknown = _validate(system, "ST-" + "0" * 40)
    assert (unknown.status_code, unknown.json()["code"]) == (400, "TICKET_INVALID")
    httpx.post(system.urls["province"] + "/_mock/flags", json={"forge_signature": 1}).raise_for_status()
    record = _validate(system, _login(system)).json()
    key = httpx.get(system.urls["province"] + "/idp/v1/keys").json()["keys"][0]["public_key"]
    assert not sm2_verify(key, record["user"], record["issued_at"], record["signature"])


@pytest.mark.parametrize(
    ("form", "path"),
    [
        ("grant_type=client_credentials&scope=exchange:write+admin", "/scope"),
        ("grant_type=password&scope=exchange:write", "/grant_type"),
    ],
)
def test_token_requests_outside_the_norm_are_refused(system: System, form: str, path: str) -> None:
    bare = SignedClient(Credentials(system.record["app_id"], system.record["app_secret"]))
    answer = bare.request(
        "POST",
        system.urls["province"] + "/idp/v1/oauth/token",
        content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    bare.close()
    assert (answer.status_code, answer.json()["code"]) == (400, "SCHEMA_INVALID")
    assert [d["path"] for d in answer.json()["details"]] == [path]


def test_catalogue_versions_etag_and_change_notices(system: System, stub: StubSystem) -> None:
    province = system.urls["province"]
    items = system.client.request("GET", province + "/catalog/v1/items", params={"dept_uscc": DEPT_USCC}).json()
    assert [i["name"] for i in items["items"]] == [
        "食品经营许可",
        "食品经营许可延续",
        "个体工商户登记",
        "个体工商户变更登记",
        "市场主体登记信息查询",
    ]
    first = system.client.request("GET", f"{province}/catalog/v1/items/{FOOD_ITEM}")
    etag = first.headers["etag"]
    assert first.status_code == 200
    assert etag.startswith('"')
    assert "v1" not in etag  # opaque: a system echoes it, it cannot build it
    item_url = f"{province}/catalog/v1/items/{FOOD_ITEM}"
    unchanged = system.client.request("GET", item_url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    built = system.client.request("GET", f"{province}/catalog/v1/items/{FOOD_ITEM}", headers={"If-None-Match": '"v1"'})
    assert built.status_code == 200
    changed = httpx.post(f"{province}/_mock/catalog/{FOOD_ITEM}", json={"promised_days": 4})
    assert changed.json()["version"] == 2
    second = system.client.request("GET", f"{province}/catalog/v1/items/{FOOD_ITEM}", headers={"If-None-Match": etag})
    assert (second.status_code, second.json()["promised_days"]) == (200, 4)
    assert second.headers["etag"] != etag
    assert wait_until(lambda: any(r["path"] == "/yzw/v1/catalog/notifications" for r in stub.received))
    notice = next(r for r in stub.received if r["path"] == "/yzw/v1/catalog/notifications")
    assert notice["body"] == {"item_code": FOOD_ITEM, "version": 2, "change": "updated"}
    assert notice["signature"] == "ok"
    current = httpx.get(province + "/_mock/catalog").json()["items"]
    every = httpx.get(province + "/_mock/catalog", params={"versions": "all"}).json()["items"]
    assert [i["version"] for i in current if i["item_code"] == FOOD_ITEM] == [2]
    versions = {i["version"]: i["promised_days"] for i in every if i["item_code"] == FOOD_ITEM}
    assert versions[2] == 4
    assert versions[1] != 4  # the year-end day 0 serves an application filed under v1 too
    missing = system.client.request("GET", f"{province}/catalog/v1/items/{FOOD_ITEM[:-1]}9")
    assert (missing.status_code, missing.json()["code"]) == (404, "ITEM_UNKNOWN")


def test_single_logout_reaches_every_system(system: System, stub: StubSystem) -> None:
    httpx.post(system.urls["province"] + "/_mock/portal/logout", json={"user_id": "U330106000001"})
    assert wait_until(lambda: any(r["path"] == "/yzw/v1/sso/logout" for r in stub.received))
    assert next(r for r in stub.received if r["path"] == "/yzw/v1/sso/logout")["signature"] == "ok"


def test_licenses_issue_verify_revoke_expire(system: System) -> None:
    province = system.urls["province"] + "/license/v1/licenses"
    license_ = system.factory.license()
    assert system.client.request("POST", province, json=license_).status_code == 201
    assert system.client.request("POST", province, json=license_).status_code == 200
    clash = system.client.request("POST", province, json={**license_, "name": "另一个证照"})
    assert (clash.status_code, clash.json()["code"]) == (422, "LICENSE_CONFLICT")
    holder = license_["holder"]["id_number"]

    def status(holder_id: str, license_id: str = license_["license_id"]) -> str:
        answer = system.client.request(
            "POST", province + "/verify", json={"license_id": license_id, "holder_id": holder_id}
        )
        assert validate("license-status", answer.json()) == []
        return str(answer.json()["status"])

    assert status(holder) == "valid"
    assert status("11010519491231002X") == "holder_mismatch"
    assert status(holder, system.factory.fake.license_id()) == "not_found"
    control = f"{system.urls['province']}/_mock/licenses/{license_['license_id']}"
    httpx.post(control, json={"status": "revoked"})
    assert status(holder) == "revoked"
    httpx.post(control, json={"status": "expired"})
    assert status(holder) == "expired"


def test_a_key_made_now_is_published_and_signs_the_next_validation(system: System) -> None:
    """SSO-02 (review round 2, a18): the flag new_key makes a key under a new kid at the next validation,
    publishes it before that answer goes out, and signs that answer with it; the validation after is as before."""
    before = {k["kid"] for k in httpx.get(system.urls["province"] + "/idp/v1/keys").json()["keys"]}
    httpx.post(system.urls["province"] + "/_mock/flags", json={"new_key": 1}).raise_for_status()
    record = _validate(system, _login(system)).json()
    keys = httpx.get(system.urls["province"] + "/idp/v1/keys").json()["keys"]
    assert validate("keys", {"keys": keys}) == []
    assert record["kid"] not in before
    key = next(k["public_key"] for k in keys if k["kid"] == record["kid"])
    assert sm2_verify(key, record["user"], record["issued_at"], record["signature"])
    assert _validate(system, _login(system)).json()["kid"] in before
    httpx.post(system.urls["province"] + "/_mock/flags", json={"latest_key": 1}).raise_for_status()
    assert _validate(system, _login(system)).json()["kid"] == record["kid"]  # the key made last, once more


def test_the_province_is_served_under_its_gateway_prefix_and_signatures_cover_it(system: System) -> None:
    """SIG-01.15: PATH is the path as sent, not stripped of the gateway's prefix (review round 2, a14)."""
    province = system.urls["province"]
    parts = urlsplit(province)
    assert parts.path == "/gw/zj"
    root = f"{parts.scheme}://{parts.netloc}"
    outside = httpx.get(root + "/idp/v1/keys")
    assert (outside.status_code, outside.json()["code"]) == (404, "NOT_FOUND")
    assert httpx.get(root + "/_mock/clock").status_code == 200  # the control API answers at the root too
    query = f"dept_uscc={DEPT_USCC}"

    def items(signed_path: str) -> httpx.Response:
        headers = signed_headers(system.record["app_id"], system.record["app_secret"], "GET", signed_path, query)
        return httpx.get(f"{province}/catalog/v1/items?{query}", headers={**headers, **system.client._bearer()})

    assert items("/gw/zj/catalog/v1/items").status_code == 200
    refused = items("/catalog/v1/items")
    assert (refused.status_code, refused.json()["code"]) == (401, "SIGNATURE_INVALID")
    logged = httpx.get(root + "/_mock/traffic", params={"path": "/catalog/v1/items"}).json()["entries"]
    assert [e["status"] for e in logged[-2:]] == [200, 401]  # logged and matched on the path within the prefix
