"""A call to the system that got no answer is the system's failure (a verdict `fail`), not the kit's error."""

from __future__ import annotations

import httpx

from yzw.conformance.violations import unanswered

SYSTEM = ("http://127.0.0.1:8600", "http://127.0.0.1:8600/_driver")


def _dropped(url: str) -> httpx.RemoteProtocolError:
    request = httpx.Request("POST", url)
    return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def test_a_dropped_call_to_the_system_is_a_violation_naming_the_call() -> None:
    violation = unanswered(_dropped("http://127.0.0.1:8600/_driver/actions"), SYSTEM)
    assert violation is not None
    text = violation.render(("EVT-05",))
    assert text.startswith("[EVT-05] the system did not answer")
    assert "RemoteProtocolError" in text
    assert "POST /_driver/actions" in text


def test_a_broken_call_to_the_mock_platform_stays_the_kits_error() -> None:
    assert unanswered(_dropped("http://127.0.0.1:8700/_mock/traffic"), SYSTEM) is None
    assert unanswered(_dropped("http://127.0.0.1:86001/yzw/v1/health"), SYSTEM) is None  # another port, not a prefix
    assert unanswered(ValueError("a bug in a check"), SYSTEM) is None
    assert unanswered(httpx.ConnectError("refused"), SYSTEM) is None  # no request attached: nothing to blame
