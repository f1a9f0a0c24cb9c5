"""Cut a FIM prefix and suffix down to a token budget, at line boundaries.

Docstring and fix prompts put a whole file around a small hole; the model sees
the nearest ``max_tokens`` of it (``prefix_ratio`` of them before the hole).
"""

from __future__ import annotations

from collections.abc import Callable

CHARS_PER_TOKEN = 3.0
ROUNDS = 4


def _tail(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    cut = text[-chars:]
    newline = cut.find("\n")
    return cut[newline + 1 :] if 0 <= newline < len(cut) - 1 else cut


def _head(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    cut = text[:chars]
    newline = cut.rfind("\n")
    return cut[:newline] if newline > 0 else cut


def fim_window(
    prefix: str,
    suffix: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 1500,
    prefix_ratio: float = 0.7,
) -> tuple[str, str]:
    """(prefix tail, suffix head) that together fit in about ``max_tokens`` tokens."""
    budgets = (int(max_tokens * prefix_ratio), max_tokens - int(max_tokens * prefix_ratio))
    out = []
    for text, budget, cut in ((prefix, budgets[0], _tail), (suffix, budgets[1], _head)):
        chars = int(budget * CHARS_PER_TOKEN)
        piece = cut(text, chars)
        for _ in range(ROUNDS):
            tokens = count_tokens(piece)
            if tokens <= budget or not piece:
                break
            chars = int(chars * budget / tokens * 0.9)
            piece = cut(text, chars)
        out.append(piece)
    return out[0], out[1]
