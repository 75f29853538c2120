"""The norm's messages as data: JSON Schemas, the XML form, event order rules, and one validator.

`validate(kind, document)` takes a JSON value, JSON text or XML text and returns located findings, each
with the requirement it breaks; `validate_value(kind, value)` judges a value already parsed (servers).
`KINDS` lists the message kinds.
"""

from __future__ import annotations

from yzw.spec.findings import Finding
from yzw.spec.validate import detect_kind, message_kinds, validate, validate_value

__all__ = ["Finding", "detect_kind", "message_kinds", "validate", "validate_value"]
