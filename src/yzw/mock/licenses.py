"""Province /license (LIC-01, LIC-02): issue, verify with holder match; revocation and expiry through /_mock."""

from __future__ import annotations

import datetime as dt
import json

from starlette.responses import JSONResponse, Response

from yzw.codes.times import today_cn
from yzw.mock.pipeline import Call, endpoint
from yzw.serving.errors import ApiError
from yzw.serving.http import JSON, XML


@endpoint(scope="license:write", kind="license", media=(JSON, XML))
async def issue_license(call: Call) -> Response:
    """POST /license/v1/licenses: 201 with the license; the same license again is 200; another body 422."""
    license_ = call.document
    call.refuse_codes()
    store = call.platform.store
    known = store.get_json("SELECT body FROM licenses WHERE license_id = ?", license_["license_id"])
    if known is not None:
        if known == license_:
            return JSONResponse(license_, status_code=200)
        raise ApiError(422, "LICENSE_CONFLICT", "this license_id was issued with other content (LIC-01)")
    if call.platform.take_flag("refuse_license", call.app_id):
        raise ApiError(422, "LICENSE_CONFLICT", "the library refuses this license (injected fault)")
    store.execute(
        "INSERT INTO licenses (license_id, body, status) VALUES (?, ?, 'valid')",
        license_["license_id"],
        json.dumps(license_, ensure_ascii=False),
    )
    return JSONResponse(license_, status_code=201)


@endpoint(scope="license:read", kind="license-verify")
async def verify_license(call: Call) -> Response:
    """POST /license/v1/licenses/verify: valid, revoked, expired, not_found or holder_mismatch (LIC-02)."""
    request = call.document
    row = call.platform.store.one("SELECT body, status FROM licenses WHERE license_id = ?", request["license_id"])
    if row is None:
        return JSONResponse({"status": "not_found"})
    license_ = json.loads(row["body"])
    holder = license_["holder"].get("id_number") or license_["holder"].get("uscc")
    if holder != request["holder_id"]:
        return JSONResponse({"status": "holder_mismatch"})
    if row["status"] == "revoked":
        return JSONResponse({"status": "revoked"})
    until = license_.get("valid_until")
    if row["status"] == "expired" or (until and dt.date.fromisoformat(until) < today_cn()):
        return JSONResponse({"status": "expired"})
    return JSONResponse({"status": "valid"})
