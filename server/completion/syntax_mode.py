"""None / single-line / multi-line, from tree-sitter (``codegen.core.syntax``).

Only a window of lines around the cursor is parsed (the top-level statement
around it), so the cost does not grow with the document. Languages the
grammars do not cover fall back to indentation heuristics.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ..lsp.positions import line_content
from .postprocess.base import OPENERS

if TYPE_CHECKING:
    from codegen.core.syntax import CompletionMode

log = logging.getLogger(__name__)

WINDOW_BEFORE = 300
WINDOW_AFTER = 60


def language_of(uri: str, language_id: str) -> str | None:
    """The tree-sitter language for a document, or None."""
    try:
        from codegen.core import syntax

        lang = syntax.language_for_id(language_id) if language_id else None
        return lang or syntax.language_for_path(PurePosixPath(unquote(urlparse(uri).path)).name)
    except Exception:  # a broken grammar must not break completions
        log.exception("language detection failed for %s", uri)
        return None


def _top_level(text: str) -> bool:
    return text[:1].isalpha() or text[:1] in ("_", "@")


def syntax_window(lines: Sequence[str], line: int) -> tuple[int, int]:
    """[start, end) line range to parse: the top-level statement around ``line``, from
    the last top-level line at or before it to the next one after it that does not
    follow a decorator (at most
    :data:`WINDOW_BEFORE` / :data:`WINDOW_AFTER` lines away)."""
    floor = max(0, line - WINDOW_BEFORE)
    start = floor
    for i in range(line, floor - 1, -1):
        if _top_level(lines[i]):
            start = i
            break
    end = min(len(lines), line + WINDOW_AFTER)
    for i in range(line + 1, end):
        if _top_level(lines[i]) and not lines[i - 1].startswith("@"):  # a decorator's def stays
            return start, i
    return start, end


def heuristic_mode(line_prefix: str, line_suffix: str, previous_code_line: str) -> CompletionMode:
    """Mode without a parser: multi after a block opener or on a blank line after one."""
    if line_suffix[:1].isalnum() or line_suffix[:1] == "_":
        return "none"
    if line_suffix.strip():
        return "single"
    if line_prefix.strip():
        return "multi" if line_prefix.rstrip().endswith(OPENERS) else "single"
    return "multi" if previous_code_line.rstrip().endswith(OPENERS) else "single"


def completion_mode(
    lines: Sequence[str], line: int, col: int, language: str | None
) -> CompletionMode:
    """``none``, ``single`` or ``multi`` at (line, Python column) of ``lines``."""
    text = line_content(lines[line])
    before, after = text[:col], text[col:]
    if language is not None:
        start, end = syntax_window(lines, line)
        try:
            from codegen.core import syntax

            window = "".join(lines[start:end])
            if "\r" in window:  # the terminators LSP knows, all as "\n"
                window = window.replace("\r\n", "\n").replace("\r", "\n")
            if not window.endswith("\n"):
                window += "\n"
            return syntax.completion_mode(window, language, line - start, col)
        except Exception:
            log.exception("tree-sitter completion_mode failed; using indentation")
    previous = next((lines[i] for i in range(line - 1, -1, -1) if lines[i].strip()), "")
    return heuristic_mode(before, after, previous)
