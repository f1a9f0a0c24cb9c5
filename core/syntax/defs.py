"""Definitions (functions, methods, classes), their docstrings, and enclosing scopes.

Docstrings are found by :mod:`codegen.core.syntax.docs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import tree_sitter

from .docs import Docstring, doc_comment, python_docstring
from .parse import TextIndex, cached_parse

DefinitionKind = Literal["function", "method", "class"]

_FUNCTIONS = {
    "function_definition",  # python
    "function_declaration",  # js, ts, go
    "generator_function_declaration",
    "method_definition",
    "method_declaration",  # go
    "function_item",  # rust
}
_CLASSES = {
    "class_definition",
    "class_declaration",
    "abstract_class_declaration",
    "impl_item",
    "struct_item",
    "enum_item",
    "trait_item",
}
_METHOD_CONTAINERS = {"class_definition", "class_body", "impl_item", "trait_item"}
_EMPTY_PYTHON_STATEMENTS = {"pass_statement", "ellipsis"}
_COMMENT_TYPES = {"comment", "line_comment", "block_comment"}
_BODY_BLOCKS = {
    "block",
    "statement_block",
    "class_body",
    "declaration_list",
    "field_declaration_list",
}


@dataclass(frozen=True)
class Definition:
    """A function, method or class. Lines are 0-based; offsets are ``str`` indices."""

    name: str
    kind: DefinitionKind
    start_line: int
    end_line: int
    start: int
    end: int
    signature_end: tuple[int, int]
    """(line, column) just after the header: after ``:`` in Python, after ``{`` elsewhere."""
    signature_end_offset: int
    body_start_line: int
    body_indent: str
    """Indentation of the body's statements (inferred when the body is empty)."""
    docstring: Docstring | None


@dataclass(frozen=True)
class Scope:
    """The innermost function or class around a position."""

    kind: Literal["function", "class"]
    name: str
    start_line: int
    end_line: int
    body_indent: str


def _name(node: tree_sitter.Node, idx: TextIndex) -> str | None:
    if node.type == "impl_item":
        target = node.child_by_field_name("type")
        trait = node.child_by_field_name("trait")
        if target is None:
            return None
        name = idx.node_text(target)
        return f"{idx.node_text(trait)} for {name}" if trait is not None else name
    name_node = node.child_by_field_name("name")
    if name_node is None and node.type in ("arrow_function", "function_expression"):
        parent = node.parent
        if parent is not None and parent.type == "variable_declarator":
            name_node = parent.child_by_field_name("name")
    return idx.node_text(name_node) if name_node is not None else None


def _kind(node: tree_sitter.Node) -> DefinitionKind | None:
    if node.type in _CLASSES:
        return "class"
    if node.type == "type_spec":  # go: only structs and interfaces act as classes
        inner = node.child_by_field_name("type")
        return (
            "class"
            if inner is not None and inner.type in ("struct_type", "interface_type")
            else None
        )
    if node.type in ("method_definition", "method_declaration"):
        return "method"
    if node.type in ("arrow_function", "function_expression"):
        parent = node.parent
        return "function" if parent is not None and parent.type == "variable_declarator" else None
    if node.type in _FUNCTIONS:
        container = node.parent
        if container is not None and container.type == "decorated_definition":
            container = container.parent
        while container is not None and container.type in ("block", "declaration_list"):
            container = container.parent
        return (
            "method"
            if container is not None and container.type in _METHOD_CONTAINERS
            else "function"
        )
    return None


def _outer(node: tree_sitter.Node) -> tree_sitter.Node:
    """The statement that carries the definition (decorators, export, const ...)."""
    if node.type in ("arrow_function", "function_expression"):
        node = node.parent.parent if node.parent and node.parent.parent else node
    while node.parent is not None and node.parent.type in (
        "decorated_definition",
        "export_statement",
        "type_declaration",
    ):
        node = node.parent
    return node


def _body(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type == "type_spec":
        inner = node.child_by_field_name("type")
        if inner is None:
            return None
        return next((c for c in inner.children if c.type.endswith("_list")), inner)
    return node.child_by_field_name("body")


def _infer_indent_unit(idx: TextIndex, language: str) -> str:
    """The file's indentation step: a tab, or the narrowest space indent of a code line."""
    cached = idx.memo.get("indent_unit")
    if cached is not None:
        return cached
    unit = (
        "\t"
        if language == "go"
        else ("  " if language in ("javascript", "typescript", "tsx") else "    ")
    )
    widths: list[int] = []
    for line in idx.source.split("\n")[1:]:
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("*", "#", "//")):
            continue
        lead = line[: len(line) - len(stripped)]
        if lead.startswith("\t"):
            widths = []
            unit = "\t"
            break
        if lead:
            widths.append(len(lead))
    if widths:
        unit = " " * min(min(widths), 8)
    idx.memo["indent_unit"] = unit
    return unit


def _definition(
    node: tree_sitter.Node, kind: DefinitionKind, idx: TextIndex, language: str
) -> Definition | None:
    name = _name(node, idx)
    if name is None:
        return None
    outer = _outer(node)
    body = _body(node)
    header_line = idx.line_text(node.start_point[0])
    header_indent = header_line[: len(header_line) - len(header_line.lstrip())]
    if body is None:
        sig_end = idx.node_end(node)
    elif language == "python":
        colon = body.prev_sibling
        sig_end = (
            idx.node_end(colon) if colon is not None and colon.type == ":" else idx.node_start(body)
        )
    else:
        sig_end = idx.node_start(body) + (1 if idx.node_text(body).startswith("{") else 0)
    sig_line, sig_col = idx.line_col(sig_end)
    if body is None:
        statements = []
    elif body.type in _BODY_BLOCKS:
        statements = [c for c in body.named_children if c.type not in _COMMENT_TYPES]
    else:  # an arrow function's expression body
        statements = [body]
    later = [c for c in statements if c.start_point[0] > sig_line]
    if later:
        text = idx.line_text(later[0].start_point[0])
        body_indent = text[: len(text) - len(text.lstrip())]
    else:
        body_indent = header_indent + _infer_indent_unit(idx, language)
    body_start_line = statements[0].start_point[0] if statements else sig_line + 1
    if language == "python":
        docstring = python_docstring(body, idx) if body is not None else None
    else:
        docstring = doc_comment(outer, language, idx)
    return Definition(
        name=name,
        kind=kind,
        start_line=node.start_point[0],
        end_line=node.end_point[0],
        start=idx.node_start(node),
        end=idx.node_end(node),
        signature_end=(sig_line, sig_col),
        signature_end_offset=sig_end,
        body_start_line=body_start_line,
        body_indent=body_indent,
        docstring=docstring,
    )


def definitions_in_tree(tree: tree_sitter.Tree, idx: TextIndex, language: str) -> list[Definition]:
    """Every definition in ``tree``, outer before inner, in source order."""
    found: list[Definition] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        kind = _kind(node)
        if kind is not None:
            definition = _definition(node, kind, idx, language)
            if definition is not None:
                found.append(definition)
        stack.extend(reversed(node.children))
    return found


def find_definitions(source: str, language: str) -> list[Definition]:
    """Functions, methods and classes in ``source``, in source order, with their docstrings."""
    return list(_cached_definitions(source, language))


@lru_cache(maxsize=8)
def _cached_definitions(source: str, language: str) -> tuple[Definition, ...]:
    # Server features and data tasks ask about the same text several times in a row.
    return tuple(definitions_in_tree(cached_parse(source, language), TextIndex(source), language))


def _python_contains(defn: Definition, idx: TextIndex, line: int, col: int) -> bool:
    # Python blocks end at their last statement; a blank, deeper-indented line
    # after it still belongs to the block the user is typing in.
    if line <= defn.end_line:
        return False
    text = idx.line_text(line)
    if text[:col].strip() or text.strip():
        return False
    if any(idx.line_text(i).strip() for i in range(defn.end_line + 1, line)):
        return False
    header = idx.line_text(defn.start_line)
    return col > len(header) - len(header.lstrip())


def definition_at(source: str, language: str, line: int, col: int) -> Definition | None:
    """The innermost definition containing the 0-based (line, ``str`` column).

    Runs on every completion request, so it builds only the definitions that can
    contain the position (the ancestors of a few nodes next to it), not every one in
    the text: the cost follows the nesting depth, not the file's size."""
    idx = TextIndex(source)
    offset = idx.offset(line, col)
    tree = cached_parse(source, language)
    best: Definition | None = None
    for node in _candidate_nodes(tree, idx, line, offset, language):
        kind = _kind(node)
        defn = _definition(node, kind, idx, language) if kind is not None else None
        if defn is None:
            continue
        inside = defn.start <= offset <= defn.end
        if not inside and language == "python":
            inside = defn.start <= offset and _python_contains(defn, idx, line, col)
        if inside and (best is None or defn.start >= best.start):
            best = defn
    return best


def _candidate_nodes(
    tree: tree_sitter.Tree, idx: TextIndex, line: int, offset: int, language: str
) -> list[tree_sitter.Node]:
    """Every node that may be a definition containing ``offset``, outer before inner.

    A definition containing the offset holds the character at it or the one before it
    (the cursor may sit at its very end), so it is an ancestor of the smallest node
    there. In Python a blank line after a block still belongs to it
    (:func:`_python_contains`): such a block ends on the last non-blank line before the
    cursor, and holds that line's first or last non-blank character."""
    chars = [offset, offset - 1]
    if language == "python":
        prev = next((i for i in range(line - 1, -1, -1) if idx.line_text(i).strip()), None)
        if prev is not None:
            text = idx.line_text(prev)
            start = idx.line_starts[prev]
            chars += [start + len(text) - len(text.lstrip()), start + len(text.rstrip()) - 1]
    root = tree.root_node
    found: dict[tuple[int, int, int], tree_sitter.Node] = {}
    for char in chars:
        if not 0 <= char < len(idx.source):
            continue
        byte = idx.byte_offset(char)
        node: tree_sitter.Node | None = root.descendant_for_byte_range(byte, byte)
        depth = 0
        chain = []
        while node is not None:
            chain.append(node)
            node = node.parent
        for depth, ancestor in enumerate(reversed(chain)):
            found.setdefault((ancestor.start_byte, -ancestor.end_byte, depth), ancestor)
    return [found[key] for key in sorted(found)]


def enclosing_scope(source: str, language: str, line: int, col: int) -> Scope | None:
    """The innermost function or class around (line, col), 0-based, ``str`` column."""
    defn = definition_at(source, language, line, col)
    if defn is None:
        return None
    kind: Literal["function", "class"] = "class" if defn.kind == "class" else "function"
    return Scope(kind, defn.name, defn.start_line, defn.end_line, defn.body_indent)


def is_body_empty(source: str, language: str, defn: Definition) -> bool:
    """True when the body holds nothing but a docstring, ``pass``/``...`` or comments."""
    idx = TextIndex(source)
    tree = cached_parse(source, language)
    node = tree.root_node.descendant_for_byte_range(
        idx.byte_offset(defn.start), idx.byte_offset(defn.end)
    )
    while node is not None and (idx.node_start(node), idx.node_end(node)) != (defn.start, defn.end):
        node = node.parent
    body = _body(node) if node is not None else None
    if body is None:
        return True
    for child in body.named_children:
        if child.type in _COMMENT_TYPES:
            continue
        if language == "python" and child.type == "expression_statement":
            inner = child.named_children[0] if child.named_child_count else None
            if inner is not None and inner.type in ("string", "ellipsis"):
                continue
        if language == "python" and child.type in _EMPTY_PYTHON_STATEMENTS:
            continue
        return False
    return True


__all__ = [
    "Definition",
    "DefinitionKind",
    "Docstring",
    "Scope",
    "definition_at",
    "definitions_in_tree",
    "enclosing_scope",
    "find_definitions",
    "is_body_empty",
]
