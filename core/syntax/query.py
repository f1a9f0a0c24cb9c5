"""Syntax errors, completion modes and FIM-aligned node spans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import tree_sitter

from .defs import definition_at, is_body_empty
from .parse import TextIndex, cached_parse

CompletionMode = Literal["none", "single", "multi"]
SpanKind = Literal["statement", "expression", "block"]

_COMMENTS = {"comment", "line_comment", "block_comment"}
_OPENERS = {"python": ":([{"}
_C_OPENERS = "{(["

_BLOCKS = {
    "block",
    "statement_block",
    "class_body",
    "declaration_list",
    "field_declaration_list",
    "switch_body",
    "match_block",
}
_PY_EXPRESSIONS = {
    "call",
    "attribute",
    "subscript",
    "binary_operator",
    "boolean_operator",
    "comparison_operator",
    "not_operator",
    "unary_operator",
    "lambda",
    "list",
    "tuple",
    "dictionary",
    "set",
    "list_comprehension",
    "dictionary_comprehension",
    "set_comprehension",
    "generator_expression",
    "conditional_expression",
    "assignment",
    "augmented_assignment",
    "argument_list",
    "await",
    "string",
}
_C_EXPRESSIONS = {
    "arrow_function",
    "object",
    "array",
    "template_string",
    "arguments",
    "argument_list",
    "macro_invocation",
    "composite_literal",
    "closure_expression",
    "string",
    "interpreted_string_literal",
    "string_literal",
}


@dataclass(frozen=True)
class SyntaxIssue:
    """One syntax error; 0-based lines, columns are ``str`` indices within the line."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    message: str


@dataclass(frozen=True)
class Span:
    """A syntax node's extent as ``str`` offsets ``[start, end)``."""

    start: int
    end: int
    kind: SpanKind
    node_type: str


def syntax_errors(source: str, language: str) -> list[SyntaxIssue]:
    """ERROR and MISSING nodes of ``source``, outermost first, in source order."""
    tree = cached_parse(source, language)
    if not tree.root_node.has_error:
        return []
    idx = TextIndex(source)
    issues: list[SyntaxIssue] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            start, end = idx.node_start(node), idx.node_end(node)
            if node.is_missing:
                message = f"syntax error: missing {node.type!r}"
            else:
                snippet = idx.source[start:end].strip().split("\n", 1)[0][:40]
                message = f"syntax error: unexpected {snippet!r}" if snippet else "syntax error"
            (sl, sc), (el, ec) = idx.line_col(start), idx.line_col(end)
            issues.append(SyntaxIssue(sl, sc, el, ec, message))
        elif node.has_error:
            stack.extend(reversed(node.children))
    return issues


def _comment_at(tree: tree_sitter.Tree, idx: TextIndex, offset: int) -> tree_sitter.Node | None:
    """The comment node covering the character at ``offset``, if any."""
    if offset < 0 or offset >= len(idx.source):
        return None
    start = idx.byte_offset(offset)
    node: tree_sitter.Node | None = tree.root_node.descendant_for_byte_range(start, start + 1)
    while node is not None:
        if node.type in _COMMENTS:
            return node
        node = node.parent
    return None


def _last_code_char(tree: tree_sitter.Tree, idx: TextIndex, line: int) -> str:
    """The last character of ``line`` that is code (not whitespace, not comment)."""
    text = idx.line_text(line)
    pos = len(text.rstrip())
    line_start = idx.line_starts[line]
    while pos > 0:
        comment = _comment_at(tree, idx, line_start + pos - 1)
        if comment is None:
            return text[pos - 1]
        comment_start = idx.node_start(comment)
        if comment_start < line_start:
            return ""
        pos = len(text[: comment_start - line_start].rstrip())
    return ""


def _previous_code_line(idx: TextIndex, line: int) -> int | None:
    for prev in range(line - 1, -1, -1):
        if idx.line_text(prev).strip():
            return prev
    return None


def completion_mode(source: str, language: str, line: int, col: int) -> CompletionMode:
    """How much to complete at 0-based (line, ``str`` column).

    - ``none``: the cursor touches a word on its right (``pri|nt``): any insertion
      would split an identifier, so completing is pointless.
    - ``multi``: the line is blank (or the cursor ends the line) right after a
      block opener (``:`` or a bracket in Python, ``{``/bracket elsewhere), or the
      line is blank inside a function whose body is still empty (only a
      docstring, ``pass``, ``...`` or comments).
    - ``single``: anything else, including inside comments and strings:
      completing prose in a comment is useful, but never spans lines there.
    """
    idx = TextIndex(source)
    text = idx.line_text(line)
    col = min(max(col, 0), len(text))
    before, after = text[:col], text[col:]
    if after[:1].isalnum() or after[:1] == "_":
        return "none"
    tree = cached_parse(source, language)
    offset = idx.offset(line, col)
    if _comment_at(tree, idx, offset - 1) is not None and before.strip():
        return "single"
    if after.strip():
        return "single"
    openers = _OPENERS.get(language, _C_OPENERS)
    if before.strip():
        return "multi" if _last_code_char(tree, idx, line) in set(openers) else "single"
    prev = _previous_code_line(idx, line)
    if prev is not None and _last_code_char(tree, idx, prev) in set(openers):
        return "multi"
    defn = definition_at(source, language, line, col)
    if defn is not None and defn.kind != "class" and line > defn.signature_end[0]:
        if is_body_empty(source, language, defn):
            return "multi"
    return "single"


def _span_kind(node: tree_sitter.Node, language: str) -> SpanKind | None:
    kind = node.type
    if kind in _BLOCKS or kind.endswith("_block") or kind.endswith("_body"):
        return "block"
    if kind.endswith(("statement", "definition", "declaration", "_item", "_clause")):
        return "statement"
    if kind.endswith("expression") or kind.endswith("_literal"):
        return "expression"
    expressions = _PY_EXPRESSIONS if language == "python" else _C_EXPRESSIONS
    return "expression" if kind in expressions else None


def node_spans(source: str, language: str) -> list[Span]:
    """Statements, expressions and blocks of ``source`` (leaves excluded), by start then size.

    Training and eval cut fill-in-the-middle holes on these spans so that the
    middle is a whole syntactic unit, as users mostly ask for.
    """
    tree = cached_parse(source, language)
    idx = TextIndex(source)
    spans: list[Span] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.child_count == 0 or node.type == "ERROR" or node.is_missing:
            continue
        kind = _span_kind(node, language)
        if kind is not None and node.end_byte > node.start_byte:
            spans.append(Span(idx.node_start(node), idx.node_end(node), kind, node.type))
    spans.sort(key=lambda s: (s.start, -s.end, s.node_type))
    return spans
