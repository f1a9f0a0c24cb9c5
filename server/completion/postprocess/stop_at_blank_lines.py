"""Stop at a run of blank lines longer than ``max_blank_lines`` (the end of a unit)."""

from __future__ import annotations

from .base import FilterContext, Suggestion, cut_lines, is_blank


def stop_at_blank_lines(s: Suggestion, ctx: FilterContext) -> Suggestion:
    lines = s.text.split("\n")
    run = 0
    # Line 0 continues the cursor's line, so an empty one is not a blank line.
    for i in range(1, len(lines)):
        run = run + 1 if is_blank(lines[i]) else 0
        if run > ctx.max_blank_lines:
            return s.with_text(cut_lines(lines, i - run + 1))
    return s
