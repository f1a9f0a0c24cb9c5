"""Docstrings and doc comments of definitions.

Per language: Python's is the first string statement of the body;
JavaScript/TypeScript's is a ``/** ... */`` comment right before the definition;
Go's is the run of ``//`` comments right before it; Rust's the ``///`` (or
``/** */``) comments right before it, attributes allowed in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from .parse import TextIndex


@dataclass(frozen=True)
class Docstring:
    """A docstring or doc comment: ``text`` is its content without quotes/comment markers."""

    text: str
    start: int
    """``str`` offset where the literal or comment starts (quotes/markers included)."""
    end: int
    start_line: int
    end_line: int


def python_docstring(body: tree_sitter.Node, idx: TextIndex) -> Docstring | None:
    first = next((c for c in body.named_children if c.type != "comment"), None)
    if first is None or first.type != "expression_statement" or first.named_child_count != 1:
        return None
    literal = first.named_children[0]
    if literal.type != "string" or any(c.type == "interpolation" for c in literal.children):
        return None
    parts = [c for c in literal.children if c.type == "string_content"]
    text = "".join(idx.node_text(c) for c in parts)
    start, end = idx.node_start(literal), idx.node_end(literal)
    return Docstring(text, start, end, literal.start_point[0], literal.end_point[0])


def _comment_text(raw: str) -> str:
    if raw.startswith("/*"):
        body = raw[3:] if raw.startswith("/**") else raw[2:]
        body = body[:-2] if body.endswith("*/") else body
        lines = [line.strip() for line in body.strip("\n").splitlines()]
        return "\n".join(
            line[1:].lstrip(" ") if line.startswith("*") else line for line in lines
        ).strip()
    return "\n".join(line.lstrip("/!").removeprefix(" ") for line in raw.splitlines())


def doc_comment(node: tree_sitter.Node, language: str, idx: TextIndex) -> Docstring | None:
    comments: list[tree_sitter.Node] = []
    expect_row = node.start_point[0]
    sibling = node.prev_named_sibling
    while sibling is not None:
        if language == "rust" and sibling.type == "attribute_item":
            expect_row = sibling.start_point[0]
            sibling = sibling.prev_named_sibling
            continue
        if sibling.type not in ("comment", "line_comment", "block_comment"):
            break
        text = idx.node_text(sibling)
        # Rust line comments include their newline; their last row is the next line.
        end_row = sibling.end_point[0] - (1 if text.endswith("\n") else 0)
        if end_row < expect_row - 1:
            break
        if text.startswith("/**") and not text.startswith("/**/"):
            comments.insert(0, sibling)
            break
        line_doc = (language == "go" and text.startswith("//")) or (
            language == "rust" and text.startswith("///") and not text.startswith("////")
        )
        if not line_doc:
            break
        comments.insert(0, sibling)
        expect_row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    if not comments:
        return None
    start, end = idx.node_start(comments[0]), idx.node_end(comments[-1])
    raw = idx.source[start:end].rstrip("\n")
    lines = [line.strip() for line in raw.splitlines()]
    text = _comment_text(raw) if raw.startswith("/*") else _comment_text("\n".join(lines))
    end = start + len(raw)
    return Docstring(text, start, end, comments[0].start_point[0], idx.line_col(end)[0])
