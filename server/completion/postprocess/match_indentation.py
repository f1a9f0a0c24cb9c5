"""Keep indentation consistent with the file: tabs vs spaces, no doubled indent.

Lines after the first start at column 0, so their whole leading whitespace is
rewritten in the file's unit. The first line is appended at the cursor: when
the cursor already sits at (or past) the expected indentation, leading
whitespace from the model would indent it twice, so it is dropped.
"""

from __future__ import annotations

from .base import (
    OPENERS,
    TAB_WIDTH,
    FilterContext,
    Suggestion,
    indent_of,
    indent_width,
    is_blank,
)


def _suggestion_space_unit(lines: list[str]) -> int:
    widths = sorted({len(indent_of(line)) for line in lines if indent_of(line).strip(" ") == ""})
    steps = [b - a for a, b in zip([0, *widths], widths, strict=False) if b > a]
    return min(steps) if steps and min(steps) > 1 else TAB_WIDTH


def _convert(ws: str, unit: str, space_unit: int) -> str:
    if unit == "\t" and " " in ws:
        width = sum(space_unit if ch == "\t" else 1 for ch in ws)
        return "\t" * (width // space_unit) + " " * (width % space_unit)
    if unit != "\t" and "\t" in ws:
        return ws.replace("\t", unit)
    return ws


def _expected_indent(ctx: FilterContext) -> int:
    previous = ctx.prefix.split("\n")[:-1]
    for line in reversed(previous):
        if not is_blank(line):
            extra = indent_width(ctx.indent_unit) if line.rstrip().endswith(OPENERS) else 0
            return indent_width(indent_of(line)) + extra
    return 0


def match_file_indentation(s: Suggestion, ctx: FilterContext) -> Suggestion:
    lines = s.text.split("\n")
    space_unit = _suggestion_space_unit(lines[1:])
    for i in range(1, len(lines)):
        ws = indent_of(lines[i])
        lines[i] = _convert(ws, ctx.indent_unit, space_unit) + lines[i][len(ws) :]
    before = ctx.line_prefix
    if not before.strip() and indent_of(lines[0]) and before:
        if indent_width(before) >= _expected_indent(ctx):
            lines[0] = lines[0].lstrip(" \t")
    return s.with_text("\n".join(lines))
