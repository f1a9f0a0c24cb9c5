"""Trim: LF line endings, no trailing whitespace, no doubled space after the cursor."""

from __future__ import annotations

from .base import FilterContext, Suggestion


def trim(s: Suggestion, ctx: FilterContext) -> Suggestion:
    text = s.text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    before = ctx.line_prefix
    if before.strip() and before[-1:] in (" ", "\t"):
        text = text.lstrip(" \t")
    return s.with_text(text)
