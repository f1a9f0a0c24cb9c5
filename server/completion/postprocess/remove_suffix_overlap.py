"""Remove text that repeats the code right after the cursor.

Two cases: the suggestion's lines run into the next line of code that is
already there (cut before it), and the suggestion's first line ends with
what already follows the cursor on its line (cut that ending). Closing
brackets and quotes alone are left to :mod:`.cover_auto_closed`.
"""

from __future__ import annotations

from .base import CLOSERS, QUOTES, FilterContext, Suggestion, cut_lines

_MIN_LOOSE_MATCH = 6


def _same_line(candidate: str, existing: str) -> bool:
    if candidate.rstrip() == existing.rstrip():
        return True
    stripped = candidate.strip()
    return len(stripped) >= _MIN_LOOSE_MATCH and stripped == existing.strip()


def remove_suffix_overlap(s: Suggestion, ctx: FilterContext) -> Suggestion:
    lines = s.text.split("\n")
    suffix_lines = ctx.suffix.split("\n")
    next_code = next((line for line in suffix_lines[1:] if line.strip()), None)
    first = 0 if not ctx.line_suffix.strip() and not ctx.line_prefix.strip() else 1
    if next_code is not None:
        for i in range(first, len(lines)):
            candidate = (ctx.line_prefix + lines[0]) if i == 0 else lines[i]
            if candidate.strip() and _same_line(candidate, next_code):
                return s.with_text(cut_lines(lines, i))
    rest = ctx.line_suffix.strip()
    if rest and not all(ch in CLOSERS or ch in QUOTES for ch in rest):
        head = lines[0].rstrip()
        if head.endswith(rest):
            lines[0] = head[: len(head) - len(rest)].rstrip()
            return s.with_text("\n".join(lines[:1]))
    return s
