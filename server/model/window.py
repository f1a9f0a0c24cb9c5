"""The token-budget window: the code nearest a hole, cut to a budget at line boundaries.

Every prompt the server builds (inline completion, docstring slots, fixes)
puts a file around a small hole; the model sees the nearest ``max_tokens`` of
it, ``prefix_ratio`` of them before the hole and the rest after. Each side
keeps the partial line touching the hole (clipped to the side's budget) and
then grows whole lines away from it, estimated at :data:`CHARS_PER_TOKEN`
and checked with the real tokenizer for a few rounds. Texts here use ``\\n``
line endings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

CHARS_PER_TOKEN = 3.0
"""A cautious estimate for code; the real tokenizer has the last word."""
ROUNDS = 4
SHRINK = 0.95
"""Each round aims a little under the ratio the tokenizer reported."""


def split_budget(max_tokens: int, prefix_ratio: float) -> tuple[int, int]:
    """(prefix budget, suffix budget) in tokens."""
    prefix_budget = int(max_tokens * prefix_ratio)
    return prefix_budget, max_tokens - prefix_budget


def _clip(head: str, chars: int, before: bool) -> str:
    """The ``chars`` characters of ``head`` nearest the hole."""
    chars = max(0, chars)
    if len(head) <= chars:
        return head
    return head[len(head) - chars :] if before else head[:chars]


def fit_lines(
    head: str,
    pieces: Iterable[str],
    budget: int,
    count_tokens: Callable[[str], int],
    before: bool,
) -> tuple[str, int]:
    """``head`` plus as many whole-line ``pieces`` as fit in ``budget`` tokens.

    ``head`` is the partial line at the hole; ``pieces`` are whole lines, nearest
    the hole first: ``"line\\n"`` before it (``before=True``; the text is their
    reverse, then ``head``) or ``"\\nline"`` after it (``head``, then them). Only
    as many pieces are read as the character estimate allows, so ``pieces`` may
    lazily walk a large document. Returns (text, pieces used).
    """
    chars = int(budget * CHARS_PER_TOKEN)
    head = _clip(head, chars, before)
    taken: list[str] = []
    used = len(head)
    for piece in pieces:
        used += len(piece)
        if used > chars:
            break
        taken.append(piece)

    def join(n: int) -> str:
        return "".join(reversed(taken[:n])) + head if before else head + "".join(taken[:n])

    n = len(taken)
    for _ in range(ROUNDS):
        text = join(n)
        tokens = count_tokens(text)
        if tokens <= budget or not text:
            return text, n
        if n:
            n = int(n * budget / tokens * SHRINK)
        else:
            head = _clip(head, int(len(head) * budget / tokens * SHRINK), before)
    return join(n), n


def lines_before(text: str) -> tuple[str, Iterator[str]]:
    """(partial last line, whole lines ``"line\\n"`` nearest the end first) of ``text``."""
    end = text.rfind("\n") + 1

    def pieces() -> Iterator[str]:
        stop = end
        while stop > 0:
            start = text.rfind("\n", 0, stop - 1) + 1
            yield text[start:stop]
            stop = start

    return text[end:], pieces()


def lines_after(text: str) -> tuple[str, Iterator[str]]:
    """(partial first line, whole lines ``"\\nline"`` nearest the start first) of ``text``."""
    first = text.find("\n")

    def pieces() -> Iterator[str]:
        start = first
        while start != -1:
            stop = text.find("\n", start + 1)
            yield text[start : stop if stop != -1 else len(text)]
            start = stop

    return (text if first == -1 else text[:first]), pieces()


def fim_window(
    prefix: str,
    suffix: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 1500,
    prefix_ratio: float = 0.7,
) -> tuple[str, str]:
    """(prefix tail, suffix head) that together fit in about ``max_tokens`` tokens."""
    prefix_budget, suffix_budget = split_budget(max_tokens, prefix_ratio)
    head, above = lines_before(prefix)
    tail, below = lines_after(suffix)
    prefix, _ = fit_lines(head, above, prefix_budget, count_tokens, before=True)
    suffix, _ = fit_lines(tail, below, suffix_budget, count_tokens, before=False)
    return prefix, suffix
