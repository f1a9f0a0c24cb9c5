"""The parsed window is the top-level statement around the cursor, whatever the file's size."""

from __future__ import annotations

from codegen.server.completion.completer import _indent_unit
from codegen.server.completion.syntax_mode import WINDOW_AFTER, completion_mode, syntax_window
from codegen.server.lsp.positions import split_lines

FILE = split_lines(
    "import os\n"
    "\n"
    "def first(a):\n"
    "    return a\n"
    "\n"
    "@decorated\n"
    "def second(b):\n"
    "    total = 0\n"
    "\n"
    "    return total\n"
    "\n"
    "class Third:\n"
    "    pass\n"
)


def test_window_spans_only_the_enclosing_top_level_statement():
    assert syntax_window(FILE, 7) == (6, 11)  # from "def second" to before "class Third"
    assert syntax_window(FILE, 5) == (5, 11)  # a decorator keeps the definition it decorates
    assert syntax_window(FILE, 3) == (2, 5)
    assert syntax_window(FILE, 12) == (11, len(FILE))


def test_window_after_the_cursor_is_capped():
    lines = ["def f():\n"] + ["    x = 1\n"] * (WINDOW_AFTER + 50)
    assert syntax_window(lines, 1) == (0, 1 + WINDOW_AFTER)


def test_mode_is_the_same_on_a_large_file_as_on_the_lone_function():
    body = "def g(x):\n    if x:\n        \n"
    alone = split_lines(body)
    big = split_lines("".join(f"def h{i}():\n    return {i}\n\n" for i in range(2000)) + body)
    offset = len(big) - len(alone)
    assert completion_mode(alone, 2, 8, "python") == "multi"
    assert completion_mode(big, offset + 2, 8, "python") == "multi"
    crlf = [line.replace("\n", "\r\n") for line in big]
    assert completion_mode(crlf, offset + 2, 8, "python") == "multi"


def test_indent_unit_comes_from_the_window_then_the_file():
    file_lines = split_lines("class A:\n  def f(self):\n    pass\n")
    assert _indent_unit("def g():\n    return 1\n", file_lines) == "    "
    assert _indent_unit("x = 1\ny = 2\n", file_lines) == "  "
