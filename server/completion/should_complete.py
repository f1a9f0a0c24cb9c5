"""Decide whether to complete at all, and how much (first stage of the pipeline).

Automatic triggers (the user is typing) are strict: never inside a word and
never with code to the right of the cursor other than closing brackets.
Invoked triggers (the user asked) only need a valid place to insert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .postprocess.base import CLOSERS, QUOTES

if TYPE_CHECKING:
    from codegen.core.syntax import CompletionMode

AUTOMATIC, INVOKED = "automatic", "invoked"
_TRAILING_OK = set(CLOSERS) | set(QUOTES) | set(";,:")


def should_complete(
    mode: CompletionMode, line_prefix: str, line_suffix: str, trigger: str
) -> CompletionMode:
    """The completion mode to use (``none``, ``single``, ``multi``) for this request."""
    if trigger == INVOKED:
        return "single" if mode == "none" else mode
    if mode == "none":
        return "none"
    rest = line_suffix.strip()
    if rest and not set(rest) <= _TRAILING_OK:
        return "none"
    if not line_prefix.strip() and len(line_prefix) > 0 and rest:
        return "none"
    return mode
