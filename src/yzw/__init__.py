"""yzw-conform: conformance kit for departmental systems joining the provincial online service hall.

The public surface is small: the code rules (`yzw.codes`), the requirement register (`yzw.register`),
the working-day calendar (`yzw.codes.calendar`) and the faker provider (`yzw.fixtures`).
"""

from __future__ import annotations

__version__ = "0.1.0"
NORM = "YZW-NORM-2026"
