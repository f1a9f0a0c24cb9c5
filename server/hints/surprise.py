"""Surprise hints: tokens the model finds far less likely than the rest of the file.

Pure: :func:`find_surprise_hints` takes the text and its
:class:`~codegen.core.engine.TokenScore` list (one forward pass over the file)
and returns hints. A token is suspicious when both hold:

- it is far less likely than the rest of the file says it should be, by
  :func:`surprise_scores`, in standard deviations of the file's token
  log-probabilities: below the same token's log-probability at its other
  places in the file (a ``<=``, a ``1``, a variable the file uses elsewhere:
  exactly what a wrong operator, literal or variable is), or, for a token the
  file uses once, below the mean of the file's tokens of its kind (operators,
  words, numbers, other symbols). The file's own distribution is the yardstick,
  so a model that is unsure everywhere does not flag everything;
- the model's favourite token at that place is at least ``min_margin`` nats
  more likely than it (the model has a concrete alternative in mind).

The alternative must be the same kind of token (word for word, number for
number, symbol for symbol: the targets are a wrong operator, an off-by-one, a
wrong variable, a wrong literal), and an ``accept`` callback (tree-sitter in
the server) can reject replacements that break the file. At most one hint per
line, the most surprising lines first. Comments and strings (``skip``) are
neither judged nor counted.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codegen.core.engine import TokenScore

MIN_TOKENS = 16
"""Below this many code tokens the file's distribution means nothing."""
MIN_GROUP = 8
"""A kind with fewer tokens is judged against all of the file's code tokens."""
OPERATORS = frozenset(
    "< <= > >= == != + - * / // % ** += -= *= /= | & ^ << >> ~ and or not is in".split()
    + ["&&", "||", "===", "!=="]
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9][0-9A-Za-z_.]*")


@dataclass(frozen=True)
class SurpriseHint:
    line: int
    """0-based line of the token."""
    start: int
    """``str`` offsets of the replaced text (the token without its surrounding spaces)."""
    end: int
    original: str
    replacement: str
    z: float
    margin: float
    """top_logprob - logprob, in nats."""

    @property
    def message(self) -> str:
        return f"did you mean `{self.replacement}` instead of `{self.original}`?"


def token_kind(text: str) -> str:
    """``word``, ``number``, ``symbol`` or ``space`` for a stripped token text."""
    if not text:
        return "space"
    if _NUMBER.fullmatch(text):
        return "number"
    if _WORD.fullmatch(text):
        return "word"
    if any(ch.isalnum() for ch in text):
        return "mixed"
    return "symbol"


def compatible(original: str, replacement: str) -> bool:
    """Whether swapping these is a plausible single-token bug (and its fix)."""
    a, b = token_kind(original), token_kind(replacement)
    if "space" in (a, b) or "mixed" in (a, b) or original == replacement:
        return False
    if a == b:
        return True
    return {a, b} == {"word", "number"}  # x[0] vs x[i]


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def is_whole_token(text: str, start: int, end: int) -> bool:
    """The span is not a piece of a longer word or number."""
    if start < end and _is_word_char(text[start]) and start > 0 and _is_word_char(text[start - 1]):
        return False
    if start < end and _is_word_char(text[end - 1]) and end < len(text):
        return not _is_word_char(text[end])
    return True


def z_group(text: str) -> str:
    """The group a stripped token is compared with: ``operator`` or its :func:`token_kind`."""
    return "operator" if text in OPERATORS else token_kind(text)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    return mean, math.sqrt(var)


class _Locator:
    """Line numbers and skip-range membership by binary search."""

    def __init__(self, text: str, skip: Sequence[tuple[int, int]]) -> None:
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.skip = sorted(skip)
        self.skip_starts = [lo for lo, _ in self.skip]

    def line(self, offset: int) -> int:
        return bisect_right(self.newlines, offset - 1)

    def skipped(self, offset: int) -> bool:
        i = bisect_right(self.skip_starts, offset) - 1
        return i >= 0 and offset < self.skip[i][1]


def _code_tokens(scores: Sequence[TokenScore], where: _Locator) -> list[TokenScore]:
    return [s for s in scores if s.text.strip() and not where.skipped(_lstart(s))]


def z_scores(code: Sequence[TokenScore]) -> list[float]:
    """Each token's log-probability as a z-score within its group (see :func:`z_group`)."""
    overall = _mean_std([s.logprob for s in code])
    groups: dict[str, list[float]] = {}
    names = [z_group(s.text.strip()) for s in code]
    for name, s in zip(names, code, strict=True):
        groups.setdefault(name, []).append(s.logprob)
    stats = {
        name: _mean_std(values) if len(values) >= MIN_GROUP else overall
        for name, values in groups.items()
    }
    out = []
    for name, s in zip(names, code, strict=True):
        mean, std = stats[name]
        if std <= 1e-6:
            mean, std = overall
        out.append((s.logprob - mean) / std if std > 1e-6 else 0.0)
    return out


def surprise_scores(code: Sequence[TokenScore]) -> list[float]:
    """How far below expectation each token's log-probability is (negative: surprising).

    Expectation: the mean log-probability of the same token text at its other
    places in the file, in units of the file's log-probability spread; for a
    token the file uses once, its z-score within its kind (:func:`z_scores`).
    """
    by_kind = z_scores(code)
    spread = _mean_std([s.logprob for s in code])[1]
    texts = [s.text.strip() for s in code]
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for text, s in zip(texts, code, strict=True):
        totals[text] = totals.get(text, 0.0) + s.logprob
        counts[text] = counts.get(text, 0) + 1
    out = []
    for text, s, kind_z in zip(texts, code, by_kind, strict=True):
        if counts[text] < 2 or spread <= 1e-6:
            out.append(kind_z)
            continue
        others = (totals[text] - s.logprob) / (counts[text] - 1)
        out.append((s.logprob - others) / spread)
    return out


def _lstart(s: TokenScore) -> int:
    """Offset of the token's first non-space character."""
    return s.start + (len(s.text) - len(s.text.lstrip()))


def find_surprise_hints(
    text: str,
    scores: Sequence[TokenScore],
    z_threshold: float = 2.0,
    min_margin: float = 3.0,
    max_hints: int = 5,
    skip: Sequence[tuple[int, int]] = (),
    accept: Callable[[str, int], bool] | None = None,
) -> list[SurpriseHint]:
    """Hints for ``text``, most surprising first; ``skip`` holds ``[start, end)`` ranges
    (comments, strings) whose tokens are neither judged nor counted."""
    where = _Locator(text, skip)
    code = _code_tokens(scores, where)
    if len(code) < MIN_TOKENS or max_hints <= 0:
        return []
    candidates: list[tuple[float, SurpriseHint]] = []
    for s, z in zip(code, surprise_scores(code), strict=True):
        margin = s.top_logprob - s.logprob
        if z > -z_threshold or margin < min_margin:
            continue
        original, replacement = s.text.strip(), s.top_text.strip()
        if not compatible(original, replacement):
            continue
        start = _lstart(s)
        end = start + len(original)
        if text[start:end] != original or not is_whole_token(text, start, end):
            continue
        hint = SurpriseHint(where.line(start), start, end, original, replacement, z, margin)
        candidates.append((z, hint))
    candidates.sort(key=lambda item: item[0])
    hints: list[SurpriseHint] = []
    lines: set[int] = set()
    for _, hint in candidates:
        if hint.line in lines:
            continue
        new_text = text[: hint.start] + hint.replacement + text[hint.end :]
        if accept is not None and not accept(new_text, hint.line):
            continue
        lines.add(hint.line)
        hints.append(hint)
        if len(hints) >= max_hints:
            break
    return hints


def line_surprise(
    text: str, scores: Sequence[TokenScore], skip: Sequence[tuple[int, int]] = ()
) -> dict[int, float]:
    """The lowest :func:`surprise_scores` of each line (ranks lines without thresholds)."""
    where = _Locator(text, skip)
    code = _code_tokens(scores, where)
    if len(code) < MIN_TOKENS:
        return {}
    worst: dict[int, float] = {}
    for s, z in zip(code, surprise_scores(code), strict=True):
        line = where.line(_lstart(s))
        worst[line] = min(worst.get(line, z), z)
    return worst
