"""completion_mode golden cases and node_spans."""

from __future__ import annotations

import pytest

from codegen.core.syntax import completion_mode, node_spans


@pytest.mark.parametrize(
    ("language", "source", "line", "col", "mode"),
    [
        # after a block opener
        ("python", "def f(x):\n    \n", 1, 4, "multi"),
        ("python", "def f(x):  # note: here\n    \n", 1, 4, "multi"),
        ("python", "def f(x):", 0, 9, "multi"),
        ("python", "x = foo(\n", 0, 8, "multi"),
        ("javascript", "function f() {\n  \n}\n", 1, 2, "multi"),
        ("typescript", "if (ok) {\n  \n}\n", 1, 2, "multi"),
        ("go", "package p\nfunc f() {\n\t\n}\n", 2, 1, "multi"),
        ("rust", "fn f() {\n    \n}\n", 1, 4, "multi"),
        # empty function body (only a docstring / pass)
        ("python", 'def f(x):\n    """Doc."""\n    \n', 2, 4, "multi"),
        ("python", "def f(x):\n    pass\n    \n", 2, 4, "multi"),
        # blank line in a body that already has code
        ("python", "def f(x):\n    y = 1\n    \n", 2, 4, "single"),
        # mid-line
        ("python", "x = foo()\n", 0, 8, "single"),
        ("python", "x = 1 + \n", 0, 8, "single"),
        ("javascript", "const a = b.\n", 0, 12, "single"),
        # a ':' inside a string is not an opener
        ("python", "s = 'a:'\n\n", 1, 0, "single"),
        # a '{' inside a comment is not an opener
        ("javascript", "x = 1; // {\n\n", 1, 0, "single"),
        # inside a comment: prose completion, never multi-line
        ("python", "x = 1  # commen", 0, 15, "single"),
        ("python", "# intro:\n", 0, 8, "single"),
        # cursor touches a word on its right
        ("python", "print(x)\n", 0, 3, "none"),
        ("python", "foo(bar)\n", 0, 4, "none"),
        ("rust", "let _x = 1;\n", 0, 5, "none"),
        # unicode: columns are str indices
        ("python", "x = 'é😀' + fo", 0, 13, "single"),
        ("python", "x = 'é😀' + fo\n", 0, 12, "none"),
        ("python", "d = {'é😀':\n", 0, 10, "multi"),
    ],
)
def test_completion_mode_golden(language: str, source: str, line: int, col: int, mode: str) -> None:
    assert completion_mode(source, language, line, col) == mode


def test_completion_mode_clamps_out_of_range_columns() -> None:
    assert completion_mode("def f():\n", "python", 0, 99) == "multi"


def test_node_spans_python_golden() -> None:
    source = "def f(x):\n    return g(x) + 1\n"
    spans = [(s.start, s.end, s.kind, s.node_type) for s in node_spans(source, "python")]
    assert spans == [
        (0, 29, "statement", "function_definition"),
        (14, 29, "block", "block"),
        (14, 29, "statement", "return_statement"),
        (21, 29, "expression", "binary_operator"),
        (21, 25, "expression", "call"),
        (22, 25, "expression", "argument_list"),
    ]


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("javascript", "function f(a) {\n  return a * 2;\n}\n", "a * 2"),
        ("typescript", "const y: number = g(1);\n", "g(1)"),
        ("go", "package p\nfunc f() int {\n\treturn 1 + 2\n}\n", "1 + 2"),
        ("rust", "fn f() -> i32 {\n    1 + 2\n}\n", "1 + 2"),
    ],
)
def test_node_spans_cover_expressions(language: str, source: str, expected: str) -> None:
    spans = node_spans(source, language)
    texts = {source[s.start : s.end] for s in spans if s.kind == "expression"}
    assert expected in texts
    assert any(s.kind == "block" for s in spans) or language == "typescript"


def test_node_spans_use_str_offsets_with_non_ascii() -> None:
    source = "s = 'üü😀'\nt = len(s)\n"
    texts = {source[s.start : s.end] for s in node_spans(source, "python")}
    assert "len(s)" in texts
    assert "'üü😀'" in texts
