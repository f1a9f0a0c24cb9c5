"""Bug-fix examples from synthetic single-token bugs.

A bug is planted in one token of a function (operator swap, off-by-one,
wrong variable, wrong literal); the prompt shows the buggy function and the
completion is the corrected line. Real before/after pairs from small git
commits use the same prompt (:mod:`codegen.training.data.tasks.commits`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import tree_sitter

from codegen.core.fim import FimFormat
from codegen.core.syntax import TextIndex, find_definitions, parse

from ..example import Example

FIX_KINDS: tuple[str, ...] = ("operator_swap", "off_by_one", "wrong_variable", "wrong_literal")

_SWAPS = {
    "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "===": "!==",
    "!==": "===", "+": "-", "-": "+", "and": "or", "or": "and", "&&": "||", "||": "&&",
    "+=": "-=", "-=": "+=",
}  # fmt: skip
_OPERATOR_PARENTS = ("binary", "comparison", "boolean_operator", "augmented", "compound_assignment")
_BOOLEANS = {"True": "False", "False": "True", "true": "false", "false": "true"}
_INTEGERS = {"integer", "number", "int_literal", "integer_literal"}
_NOT_A_USE = {
    "function_definition", "class_definition", "parameters", "typed_parameter",
    "default_parameter", "typed_default_parameter", "keyword_argument", "lambda_parameters",
    "import_statement", "import_from_statement", "dotted_name", "aliased_import",
    "formal_parameters", "required_parameter", "optional_parameter", "parameter_declaration",
    "parameter", "function_declaration", "method_declaration", "function_item",
    "variable_declarator", "for_in_clause", "for_statement", "with_item", "as_pattern",
}  # fmt: skip


@dataclass(frozen=True)
class Bug:
    kind: str
    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class FixConfig:
    per_file: int = 2
    max_function_chars: int = 3000


def build_fix_prompt(buggy_code: str, language: str) -> str:
    """The prompt asking for the corrected line; shared by synthetic and commit pairs."""
    mark = "#" if language == "python" else "//"
    code = buggy_code if buggy_code.endswith("\n") else buggy_code + "\n"
    return f"{mark} Fix the bug: one line of this {language} code is wrong.\n{code}{mark} Corrected line:\n"


def _is_variable_use(node: tree_sitter.Node) -> bool:
    parent = node.parent
    if parent is None or parent.type in _NOT_A_USE:
        return False
    for field in ("function", "attribute", "left", "name", "field", "property"):
        if parent.child_by_field_name(field) == node:
            return False
    return True


def _leaves(node: tree_sitter.Node, start: int, end: int) -> list[tree_sitter.Node]:
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.end_byte <= start or current.start_byte >= end:
            continue
        if current.child_count == 0:
            found.append(current)
        stack.extend(current.children)
    return found


def find_bugs(text: str, language: str) -> list[tuple[Bug, int, int]]:
    """Every candidate ``(bug, function start, function end)`` in function bodies."""
    idx = TextIndex(text)
    root = parse(text, language).root_node
    bugs: dict[tuple[int, str], tuple[Bug, int, int]] = {}
    for defn in find_definitions(text, language):
        if defn.kind == "class":
            continue
        body_start, body_end = idx.byte_offset(defn.signature_end_offset), idx.byte_offset(defn.end)
        leaves = _leaves(root, body_start, body_end)
        names = sorted(
            {idx.node_text(n) for n in leaves if n.type == "identifier" and _is_variable_use(n)}
        )
        for leaf in leaves:
            token = idx.node_text(leaf)
            parent = leaf.parent.type if leaf.parent else ""
            options: list[tuple[str, str]] = []
            if (
                token in _SWAPS
                and not leaf.is_named
                and any(k in parent for k in _OPERATOR_PARENTS)
            ):
                options.append(("operator_swap", _SWAPS[token]))
            elif leaf.type in _INTEGERS and token.isdigit():
                value = int(token)
                options.append(
                    (
                        "off_by_one",
                        str(value + 1 if value == 0 or leaf.start_byte % 2 else value - 1),
                    )
                )
            elif token in _BOOLEANS:
                options.append(("wrong_literal", _BOOLEANS[token]))
            elif leaf.type == "identifier" and _is_variable_use(leaf):
                others = [n for n in names if n != token]
                if others:
                    options.append(
                        ("wrong_variable", others[(leaf.start_byte + len(token)) % len(others)])
                    )
            start, end = idx.node_start(leaf), idx.node_end(leaf)
            for kind, replacement in options:
                bugs.setdefault(
                    (start, kind), (Bug(kind, start, end, replacement), defn.start, defn.end)
                )
    return [bugs[key] for key in sorted(bugs)]


def plant_bug(text: str, bug: Bug, func_start: int, func_end: int) -> tuple[str, str]:
    """``(buggy function from the start of its first line, original line of the bug)``."""
    line_start = text.rfind("\n", 0, func_start) + 1
    bug_line_start = text.rfind("\n", 0, bug.start) + 1
    bug_line_end = text.find("\n", bug.end)
    bug_line_end = len(text) if bug_line_end == -1 else bug_line_end
    buggy = text[line_start : bug.start] + bug.replacement + text[bug.end : func_end]
    return buggy, text[bug_line_start:bug_line_end]


def build_fix_examples(
    text: str, path: str, language: str, fmt: FimFormat, config: FixConfig, rng: random.Random
) -> list[Example]:
    """Up to ``per_file`` examples, each bug on a different line, kinds drawn evenly."""
    by_kind: dict[str, list[tuple[Bug, int, int]]] = {}
    for candidate in find_bugs(text, language):
        bug, start, end = candidate
        if end - start <= config.max_function_chars:
            by_kind.setdefault(bug.kind, []).append(candidate)
    examples: list[Example] = []
    used_lines: set[int] = set()
    while by_kind and len(examples) < config.per_file:
        kind = rng.choice(sorted(by_kind))
        bug, start, end = by_kind[kind].pop(rng.randrange(len(by_kind[kind])))
        if not by_kind[kind]:
            del by_kind[kind]
        line = text.count("\n", 0, bug.start)
        if line in used_lines:
            continue
        used_lines.add(line)
        buggy, fixed_line = plant_bug(text, bug, start, end)
        completion = fixed_line + "\n" + fmt.eot_token
        examples.append(
            Example("fix", build_fix_prompt(buggy, language), completion, path, language)
        )
    return examples
