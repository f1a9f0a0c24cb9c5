"""Limit the number of lines: one in single-line mode, ``max_lines`` otherwise."""

from __future__ import annotations

from .base import FilterContext, Suggestion, cut_lines


def limit_max_lines(s: Suggestion, ctx: FilterContext) -> Suggestion:
    lines = s.text.split("\n")
    if ctx.mode == "single":
        keep = 1 if lines[0].strip() or len(lines) == 1 else 2
    else:
        keep = max(1, ctx.max_lines)
    return s if len(lines) <= keep else s.with_text(cut_lines(lines, keep))
