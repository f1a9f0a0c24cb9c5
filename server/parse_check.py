"""Does an edit keep a file parsing? tree-sitter for every language, plus ``ast`` for Python.

Model output is never trusted to be well-formed: every edit the server offers
(docstrings, hint fixes, explain-and-fix) is checked here first. An edit may
not add syntax errors, and none may touch the lines it wrote (a count alone
is fooled by a file that is already broken elsewhere); a Python file that
compiled before must still compile.
"""

from __future__ import annotations

import ast
import warnings


def syntax_error_lines(text: str, language: str | None) -> list[tuple[int, int]]:
    """(first, last) line of each syntax error tree-sitter finds."""
    if language is None:
        return []
    from codegen.core.syntax import syntax_errors

    return [(issue.start_line, issue.end_line) for issue in syntax_errors(text, language)]


def python_compiles(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def keeps_parsing(
    before: str, after: str, language: str | None, edited: tuple[int, int] | None = None
) -> bool:
    """True when ``after`` has no more syntax errors than ``before``, none of them on the
    ``edited`` lines (first, last; in ``after``), and, for Python, compiles if ``before`` did."""
    errors = syntax_error_lines(after, language)
    if len(errors) > len(syntax_error_lines(before, language)):
        return False
    if edited is not None and any(lo <= edited[1] and edited[0] <= hi for lo, hi in errors):
        return False
    if language == "python" and python_compiles(before):
        return python_compiles(after)
    return True


def edited_lines(text: str, start: int, new_text: str) -> tuple[int, int]:
    """The lines (first, last) that ``new_text`` inserted at offset ``start`` occupies."""
    first = text.count("\n", 0, start)
    return first, first + new_text.count("\n")
