"""Use the document's line endings (the filters work with ``\\n``)."""

from __future__ import annotations

from .base import FilterContext, Suggestion


def use_document_line_endings(s: Suggestion, ctx: FilterContext) -> Suggestion:
    if ctx.eol == "\n":
        return s
    return s.with_text(s.text.replace("\n", ctx.eol))
