"""Stop at the end of the current scope, judged by indentation.

After a block opener on the cursor's line (``def f():|``, ``if (x) {|``) the
scope is the block's body: stop at the first line indented no deeper than the opener's line.
Otherwise stop at the first line indented less than the cursor's line. A
closing bracket line that ends the block is kept, unless the code after the
cursor already has it.
"""

from __future__ import annotations

from .base import CLOSERS, OPENERS, FilterContext, Suggestion, cut_lines, indent_of, indent_width


def _next_code_line(suffix: str) -> str:
    for line in suffix.split("\n")[1:]:
        if line.strip():
            return line.strip()
    return ""


def limit_scope_by_indent(s: Suggestion, ctx: FilterContext) -> Suggestion:
    lines = s.text.split("\n")
    if len(lines) == 1:
        return s
    before = ctx.line_prefix
    first_line = before + lines[0]
    if before.strip():
        base = indent_width(indent_of(before))
    else:
        base = indent_width(indent_of(first_line))
    # Only a block opened on the cursor's line (before or by the first line)
    # makes the block's body the scope; a fresh statement at the cursor's
    # indentation continues the enclosing scope.
    opens_block = bool(before.strip()) and first_line.rstrip().endswith(OPENERS)
    for i in range(1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        width = indent_width(indent_of(line))
        if width > base or (width == base and not opens_block):
            continue
        stripped = line.strip()
        closes = stripped[0] in CLOSERS and width == base and opens_block
        if closes and not _next_code_line(ctx.suffix).startswith(stripped[0]):
            return s.with_text(cut_lines(lines, i + 1))
        return s.with_text(cut_lines(lines, i))
    return s
