"""Build the code context around the cursor under a token budget.

The cut is the token-budget window of :mod:`codegen.server.model.window`
(``prefix_ratio`` of the budget before the cursor, the rest after, whole
lines growing away from it), read straight from the document's lines so a
large file is never joined. Text is returned with ``\\n`` line endings
whatever the document uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..lsp.positions import line_content, with_lf
from ..model.window import fit_lines, split_budget


@dataclass(frozen=True)
class CodeWindow:
    prefix: str
    suffix: str
    first_line: int
    """Document line where the prefix window starts."""


def build_context(
    lines: Sequence[str],
    line: int,
    col: int,
    count_tokens: Callable[[str], int],
    max_tokens: int = 1500,
    prefix_ratio: float = 0.7,
) -> CodeWindow:
    """Prefix and suffix windows around (line, Python column) within ``max_tokens``."""
    current = line_content(lines[line])
    prefix_budget, suffix_budget = split_budget(max_tokens, prefix_ratio)

    def above() -> Iterator[str]:
        for i in range(line - 1, -1, -1):
            yield with_lf(lines[i])

    def below() -> Iterator[str]:
        for i in range(line + 1, len(lines)):
            yield "\n" + line_content(lines[i])

    prefix, used = fit_lines(current[:col], above(), prefix_budget, count_tokens, before=True)
    suffix, _ = fit_lines(current[col:], below(), suffix_budget, count_tokens, before=False)
    return CodeWindow(prefix, suffix, line - used)
