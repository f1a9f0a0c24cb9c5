"""Drop suggestions not worth showing: blank, tiny, or repetitive."""

from __future__ import annotations

import re

from .base import FilterContext, Suggestion

_REPEATED_UNIT = re.compile(r"(.+?)\1{3,}", re.DOTALL)
_MAX_SAME_LINES = 3
_LOOP_SHARE = 0.5
"""A suggestion at least this much of which is a unit looping 4+ times is a degenerate model
loop ("x = the the the the ..."), even when it starts with something else."""


def looping_share(text: str) -> float:
    """The share of ``text`` covered by runs of one word-bearing unit (2+ chars) repeated 4+
    times (rulers like ``=====`` are not loops)."""
    covered = 0
    for match in re.finditer(r"(.{2,}?)\1{3,}", text, re.DOTALL):
        if any(c.isalnum() for c in match.group(1)):
            covered += match.end() - match.start()
    return covered / max(len(text), 1)


def is_repetitive(text: str) -> bool:
    """The same line 3+ times in a row, one short unit repeated 4+ times, or mostly a loop."""
    stripped = text.strip()
    if _REPEATED_UNIT.fullmatch(stripped):
        return True
    if looping_share(stripped) >= _LOOP_SHARE:
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
