"""Build the code context around the cursor under a token budget.

The prefix window gets ``prefix_ratio`` of the budget and the suffix window
the rest; windows grow a whole line at a time away from the cursor. Text is
returned with ``\\n`` line endings whatever the document uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..lsp.positions import line_content

CHARS_PER_TOKEN = 3.0
"""A cautious estimate for code; the real tokenizer has the last word."""
MAX_ROUNDS = 4


@dataclass(frozen=True)
class CodeWindow:
    prefix: str
    suffix: str
    first_line: int
    """Document line where the prefix window starts."""


def _grow(pieces: Sequence[str], budget_chars: float) -> int:
    """How many of ``pieces`` (nearest first) fit in ``budget_chars``."""
    used = 0
    for n, piece in enumerate(pieces):
        used += len(piece)
        if used > budget_chars:
            return n
    return len(pieces)


def _fit(
    head: str, pieces: list[str], budget: int, count_tokens: Callable[[str], int], reverse: bool
) -> tuple[str, int]:
    """``head`` plus as many ``pieces`` as fit in ``budget`` tokens; (text, pieces used)."""

    def join(n: int) -> str:
        used = pieces[:n]
        return "".join(reversed(used)) + head if reverse else head + "".join(used)

    n = _grow(pieces, budget * CHARS_PER_TOKEN - len(head))
    for _ in range(MAX_ROUNDS):
        text = join(n)
        tokens = count_tokens(text)
        if tokens <= budget or n == 0:
            return text, n
        n = int(n * budget / tokens * 0.95)
    return join(n), n


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
    prefix_budget = int(max_tokens * prefix_ratio)
    suffix_budget = max_tokens - prefix_budget
    limit = int(max_tokens * CHARS_PER_TOKEN)
    head = current[:col][-limit:]
    tail = current[col:][:limit]
    scan = int(prefix_budget * CHARS_PER_TOKEN) // 2 + 8
    before = [line_content(lines[i]) + "\n" for i in range(line - 1, max(-1, line - 1 - scan), -1)]
    after_lines = range(line + 1, min(len(lines), line + 1 + scan))
    after = ["\n" + line_content(lines[i]) for i in after_lines]
    prefix, used = _fit(head, before, prefix_budget, count_tokens, reverse=True)
    suffix, _ = _fit(tail, after, suffix_budget, count_tokens, reverse=False)
    return CodeWindow(prefix, suffix, line - used)
