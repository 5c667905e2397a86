"""The one rule for CSV cells a spreadsheet would run as formulas, both ways.

Spreadsheets run a cell that starts with = + - @ (or tab / carriage return) as a formula, so an export
writes such a cell with a leading apostrophe (OWASP's rule for CSV injection), which spreadsheets show
as text and do not display. An import takes exactly that apostrophe off again. A value that already
starts with apostrophes before such a character gets one more on export, so the two are inverses:
`unguard(guard(v)) == v` for every string.
"""

from __future__ import annotations

import re
from typing import Any

_GUARDED = re.compile(r"'*[=+\-@\t\r]")
_UNGUARD = re.compile(r"'+[=+\-@\t\r]")


def guard(value: Any) -> Any:
    if isinstance(value, str) and _GUARDED.match(value):
        return "'" + value
    return value


def unguard(value: str) -> str:
    return value[1:] if _UNGUARD.match(value) else value
