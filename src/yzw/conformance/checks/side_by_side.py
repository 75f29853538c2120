"""Actions run side by side, so that their waits overlap: ROB-01's call budget is waited for once for several
platform services, not once for each.

A system that takes one request at a time answers them one after another, each after its own wait, and the last
may get no answer within the kit's budget. When the answers came spread out like that (the last more than half
as long again as the call budget after the first), an action that got no answer is asked again alone before it
is judged. A system that hangs on a slow service is not asked again: its answers do not queue, and each try
would leave it busy for longer (and the checks after it with it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from yzw.spec.limits import limits

Action = Callable[[], httpx.Response]


def side_by_side(actions: dict[str, Action]) -> dict[str, httpx.Response]:
    """Each action's answer, by name: all started at once; those that timed out asked again one by one when the
    others' answers queued."""
    answered_at: list[float] = []

    def timed(action: Action) -> httpx.Response:
        answer = action()
        answered_at.append(time.monotonic())
        return answer

    with ThreadPoolExecutor(max(1, len(actions))) as pool:
        started = {name: pool.submit(timed, action) for name, action in actions.items()}
    answers: dict[str, httpx.Response] = {}
    late: dict[str, httpx.TimeoutException] = {}
    for name, future in started.items():
        try:
            answers[name] = future.result()
        except httpx.TimeoutException as timeout:
            late[name] = timeout
    if late and not queued(answered_at):
        raise next(iter(late.values()))
    for name in late:
        answers[name] = actions[name]()  # alone now: a time-out here is the system's own (ROB-01)
    return answers


def queued(answered_at: list[float]) -> bool:
    """Whether the answers came one after another, each after its own wait (a system taking one request at a time)."""
    return len(answered_at) > 1 and max(answered_at) - min(answered_at) > 1.5 * limits().platform_call_seconds
