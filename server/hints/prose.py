"""Where a file holds prose rather than code: comments and string literals (tree-sitter).

Surprise hints skip these: a model is rightly unsure about the words of a
comment, and that says nothing about bugs.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

PROSE_NODES = frozenset(
    {
        "comment",
        "line_comment",
        "block_comment",
        "string",
        "template_string",
        "string_literal",
        "raw_string_literal",
        "interpreted_string_literal",
        "char_literal",
        "rune_literal",
    }
)


def prose_ranges(text: str, language: str | None) -> list[tuple[int, int]]:
    """``[start, end)`` ``str`` offsets of the comments and strings of ``text``."""
    if language is None:
        return []
    from codegen.core.syntax import TextIndex, parse

    try:
        tree = parse(text, language)
    except Exception:  # an unknown grammar: judge everything
        log.exception("parsing for prose ranges failed")
        return []
    idx = TextIndex(text)
    ranges: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in PROSE_NODES:
            ranges.append((idx.node_start(node), idx.node_end(node)))
            continue
        stack.extend(node.children)
    ranges.sort()
    return ranges
