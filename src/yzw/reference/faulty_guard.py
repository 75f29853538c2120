"""Seeded faults of the reference system's request pipeline (mocks/faults.yaml): each replaces a part of the
clean pipeline (`reference.guard`) and leaves the clean code paths as they are."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import replace

from starlette.responses import Response

from yzw.reference.guard import answer_in_kind
from yzw.serving import pipeline as serving
from yzw.serving.errors import ApiError
from yzw.serving.http import JSON, XML
from yzw.signing import NonceMemory, Nonces
from yzw.spec.xml import from_xml

TRACE = 'Traceback (most recent call last):\n  File "/srv/yzw/reference/intake.py", line 42'


def _forget_nonces(call: serving.Call) -> Nonces:
    return NonceMemory()  # a fresh memory per request: a replay is never seen


def _parse_resolving_doctype(pipeline: serving.Pipeline, call: serving.Call, route: serving.Route) -> None:
    """The standard library's parser without defusing: a DOCTYPE is taken and its entities expanded (MSG-05)."""
    if call.media == XML and call.has_body and (route.kind is not None or route.parse):
        call.document = from_xml(ET.fromstring(call.body))[1]
    else:
        serving.parse_document(pipeline, call, route)


def _answer_with_trace(error: ApiError, call: serving.Call) -> Response:
    traced = ApiError(error.status, error.code, f"{error.message}\n{TRACE}", error.details)
    return answer_in_kind(traced, call)


def _swap(steps: tuple[serving.Step, ...], old: serving.Step, new: serving.Step) -> tuple[serving.Step, ...]:
    return tuple(new if step is old else step for step in steps)


PipelineFault = Callable[[serving.Pipeline], serving.Pipeline]
GUARD_FAULTS: dict[str, PipelineFault] = {
    "xml-refused": lambda p: replace(p, media=(JSON,)),
    "wrong-error-order": lambda p: replace(p, steps=(serving.check_signature, serving.check_media, *p.steps[2:])),
    "nonce-not-remembered": lambda p: replace(p, nonces=_forget_nonces),
    "signature-unchecked": lambda p: replace(p, steps=tuple(s for s in p.steps if s is not serving.check_signature)),
    "xml-doctype-resolved": lambda p: replace(
        p, steps=_swap(p.steps, serving.parse_document, _parse_resolving_doctype)
    ),
    "stack-trace-in-errors": lambda p: replace(p, render=_answer_with_trace),
}


def with_faults(pipeline: serving.Pipeline, faults: Iterable[str]) -> serving.Pipeline:
    """The pipeline with the parts the chosen faults replace."""
    for name in faults:
        if name in GUARD_FAULTS:
            pipeline = GUARD_FAULTS[name](pipeline)
    return pipeline
