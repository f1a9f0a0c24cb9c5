"""Drop suggestions not worth showing: blank, tiny, or repetitive."""

from __future__ import annotations

import re

from .base import FilterContext, Suggestion

_REPEATED_UNIT = re.compile(r"(.+?)\1{3,}", re.DOTALL)
_MAX_SAME_LINES = 3


def is_repetitive(text: str) -> bool:
    """The same line 3+ times in a row, or one short unit repeated 4+ times."""
    stripped = text.strip()
    if _REPEATED_UNIT.fullmatch(stripped):
        return True
    run, previous = 0, None
    for line in (line.strip() for line in stripped.split("\n")):
        if not line:
            continue
        run = run + 1 if line == previous else 1
        previous = line
        if run >= _MAX_SAME_LINES:
            return True
    return False


def drop_low_quality(s: Suggestion, ctx: FilterContext) -> Suggestion | None:
    content = "".join(s.text.split())
    if not content:
        return None
    if len(content) < ctx.min_length:
        return None
    if is_repetitive(s.text):
        return None
    return s
