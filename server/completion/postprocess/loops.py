"""Find degenerate model loops: a unit repeated back to back, over and over. Pure.

A code model that loses its way repeats itself: ``guard_guard_guard_guard``,
``foliolioliolio``, ``the the the the``, ``.foo().foo().foo()``, ``a.b.a.b.a.b``,
the same line again and again. :func:`find_loops` looks, at several levels,
for a unit of ``p`` items (the shortest period: the unit is not itself a
repetition) repeated at least ``k`` times in a row:

=========  ===========================================  ========  ==========
level      items                                        periods   copies (k)
=========  ===========================================  ========  ==========
subword    characters of one identifier                 2..8      4 (3 **)
segment    an identifier's snake/camel-case segments    1..3      3
word       one word repeated, only spaces between       1         3
token      words and punctuation marks, on one line     2..8      4
chain      the links of ``a.b().c[0]`` (calls kept)     1..3      3 (4 *)
line       non-blank lines (same text and indentation)  1..3      3 (6 *)
=========  ===========================================  ========  ==========

Legitimate code repeats too, so these are not loops:

- units without letters: rulers ``====``, ``[0, 0, 0, 0]``, ``}`` lines, ``'-' * 40``;
- one character over and over (period 1 inside a word): ``aaaa``, ``__init__``;
- number literals (words starting with a digit): ``0x0F0F0F0F``;
- units made only of data literals (numbers, ``None``, ``True``, ``null``...);
- fewer than :data:`MIN_LETTERS` letters in the unit: ``x_x_x``, ``x.x.x.x``;
- at word and token level, units without a word of :data:`MIN_LETTERS`
  letters (``%s %s %s %s``, ``\\n\\n\\n\\n``, ``x = 1; x = 1; ...``) and units
  holding a comma (list items: ``Tuple[int, int, int, int, int]``,
  ``VALUES (%s, %s, %s, %s, %s)``);
- (*) three copies of one bare attribute, or of one call with arguments or an
  index (``node.next.next.next``, ``.unsqueeze(0).unsqueeze(0).unsqueeze(0)``);
  three argument-less calls (``.foo().foo().foo()``) or multi-link units
  (``a.b.a.b.a.b``) are a loop;
- (*) up to five list-item lines (ending in a comma: ``"Female",`` test data);
- escapes (``\\xff\\xff\\xff\\xff``, ``\\n\\n\\n\\n``) are not words;
- two copies of anything (``x = x + 1`` twice, ``the the``).

(**) inside one identifier a unit of three or more characters needs only three
copies (``foliolioliostlio``): real names do not say a syllable three times.

Known cost: prose that repeats a word three times (``"spam spam spam"``) counts
as a loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MIN_LETTERS = 2
"""Letters a unit needs (at word and token level: in one of its words)."""
SUBWORD_PERIODS = range(2, 9)
SUBWORD_COPIES = 4
SUBWORD_LONG_COPIES = 3
"""Copies that make a loop of a unit of :data:`SUBWORD_LONG_UNIT` characters or more."""
SUBWORD_LONG_UNIT = 3
SEGMENT_PERIODS = range(1, 4)
SEGMENT_COPIES = 3
WORD_COPIES = 3
TOKEN_PERIODS = range(2, 9)
TOKEN_COPIES = 4
CHAIN_PERIODS = range(1, 4)
CHAIN_COPIES = 3
CHAIN_LINK_COPIES = 4
"""Copies needed of a one-link unit that is a bare attribute or has arguments/an index."""
LINE_PERIODS = range(1, 4)
LINE_COPIES = 3
LINE_ITEM_COPIES = 6
"""Copies needed of lines ending in a comma (list items)."""

_TOKEN = re.compile(r"\\\w+|\w+|[^\w\s]")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_SEGMENT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_LINK = r"\w+(?:\([^()\n]*\)|\[[^\[\]\n]*\])*"
_CHAIN = re.compile(rf"(?<!\w)(?:{_LINK})?(?:\.{_LINK})+")
_CHAIN_LINK = re.compile(rf"\.?({_LINK})")
_LITERAL = re.compile(r"\d\w*|None|True|False|true|false|null|nil|undefined|NaN")


@dataclass(frozen=True)
class Loop:
    start: int
    end: int
    """``text[start:end]`` holds ``copies`` copies of ``unit`` back to back."""
    level: str
    unit: str
    copies: int


def _primitive(unit: Sequence[object]) -> bool:
    """Not itself a repetition of a shorter unit (``aa``, ``the the``)."""
    p = len(unit)
    return not any(
        p % d == 0 and all(unit[i] == unit[i % d] for i in range(p)) for d in range(1, p)
    )


def _runs(
    n: int,
    same: Callable[[int, int], bool],
    periods: range,
    copies_needed: Callable[[int, int], int | None],
) -> list[tuple[int, int, int]]:
    """``(first, end, copies)`` item ranges of ``n`` items made of ``copies`` copies of a
    ``p``-item unit, for each period ``p``; ``copies_needed(first, p)`` is None when the unit
    at ``first`` cannot be a loop."""
    found = []
    for p in periods:
        i = 0
        while i + p < n:
            j = i
            while j + p < n and same(j, j + p):
                j += 1
            copies = (j - i) // p + 1
            if copies > 1:
                need = copies_needed(i, p)
                if need is not None and copies >= need:
                    found.append((i, i + copies * p, copies))
            i = j + 1
    return found


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _words(tokens: Sequence[str]) -> list[str]:
    """The words among ``tokens`` (not punctuation, not escapes like ``\\n``)."""
    return [t for t in tokens if t[0].isalnum() or t[0] == "_"]


def _is_data(words: Sequence[str]) -> bool:
    """Only data literals (``0``, ``None``, ``True``...), or no words at all."""
    return all(_LITERAL.fullmatch(w) for w in words)


def _subword_loops(word: str, offset: int) -> list[Loop]:
    def need(i: int, p: int) -> int | None:
        unit = word[i : i + p]
        if _letters(unit) < MIN_LETTERS or not _primitive(unit):
            return None
        return SUBWORD_LONG_COPIES if p >= SUBWORD_LONG_UNIT else SUBWORD_COPIES

    return [
        Loop(offset + a, offset + b, "subword", word[a : a + (b - a) // c], c)
        for a, b, c in _runs(len(word), lambda x, y: word[x] == word[y], SUBWORD_PERIODS, need)
    ]


def _segment_loops(word: str, offset: int) -> list[Loop]:
    segments = list(_SEGMENT.finditer(word))
    keys = [m.group().lower() for m in segments]

    def need(i: int, p: int) -> int | None:
        unit = keys[i : i + p]
        if _letters("".join(unit)) < MIN_LETTERS or not _primitive(unit):
            return None
        return SEGMENT_COPIES

    return [
        Loop(
            offset + segments[a].start(),
            offset + segments[b - 1].end(),
            "segment",
            "_".join(keys[a : a + (b - a) // c]),
            c,
        )
        for a, b, c in _runs(len(keys), lambda x, y: keys[x] == keys[y], SEGMENT_PERIODS, need)
    ]


def _token_loops(line: str, offset: int) -> list[Loop]:
    tokens = list(_TOKEN.finditer(line))
    keys = [m.group() for m in tokens]

    def need(i: int, p: int) -> int | None:
        unit = keys[i : i + p]
        words = _words(unit)
        if not _primitive(unit) or _is_data(words) or "," in unit:
            return None
        if not any(_letters(w) >= MIN_LETTERS for w in words):
            return None
        return WORD_COPIES if p == 1 else TOKEN_COPIES

    def same(x: int, y: int) -> bool:
        return keys[x] == keys[y] or (y == x + 1 and keys[x].lower() == keys[y].lower())

    periods = range(1, TOKEN_PERIODS.stop)
    return [
        Loop(
            offset + tokens[a].start(),
            offset + tokens[b - 1].end(),
            "word" if (b - a) == c else "token",
            " ".join(keys[a : a + (b - a) // c]),
            c,
        )
        for a, b, c in _runs(len(keys), same, periods, need)
    ]


def _chain_loops(line: str, offset: int) -> list[Loop]:
    if "." not in line:
        return []
    loops = []
    for chain in _CHAIN.finditer(line):
        links = list(_CHAIN_LINK.finditer(chain.group()))
        keys = [m.group(1) for m in links]

        def need(i: int, p: int, keys: list[str] = keys) -> int | None:
            unit = keys[i : i + p]
            if _letters("".join(unit)) < MIN_LETTERS or not _primitive(unit):
                return None
            plain_call = unit[0].endswith("()") and "[" not in unit[0]
            return CHAIN_LINK_COPIES if p == 1 and not plain_call else CHAIN_COPIES

        def same(x: int, y: int, keys: list[str] = keys) -> bool:
            return keys[x] == keys[y]

        start = offset + chain.start()
        for a, b, c in _runs(len(keys), same, CHAIN_PERIODS, need):
            loops.append(
                Loop(
                    start + links[a].start(),
                    start + links[b - 1].end(),
                    "chain",
                    ".".join(keys[a : a + (b - a) // c]),
                    c,
                )
            )
    return loops


def _line_loops(text: str) -> list[Loop]:
    lines = []  # (start offset, end offset, indentation, content) of non-blank lines
    at = 0
    for line in text.split("\n"):
        content = line.strip()
        if content:
            indent = None if at == 0 else line[: len(line) - len(line.lstrip(" \t"))]
            lines.append((at, at + len(line.rstrip()), indent, content))
        at += len(line) + 1

    def same(x: int, y: int) -> bool:
        (_, _, ix, cx), (_, _, iy, cy) = lines[x], lines[y]
        return cx == cy and (ix is None or iy is None or ix == iy)

    def need(i: int, p: int) -> int | None:
        unit = [c for _, _, _, c in lines[i : i + p]]
        words = [w for c in unit for w in _words(_TOKEN.findall(c))]
        if not _letters("".join(words)) or _is_data(words) or not _primitive(unit):
            return None
        return LINE_ITEM_COPIES if all(c.endswith(",") for c in unit) else LINE_COPIES

    return [
        Loop(
            lines[a][0],
            lines[b - 1][1],
            "line",
            "\n".join(c for _, _, _, c in lines[a : a + (b - a) // c]),
            c,
        )
        for a, b, c in _runs(len(lines), same, LINE_PERIODS, need)
    ]


def find_loops(text: str) -> list[Loop]:
    """Every loop in ``text`` (see the module docstring), ordered by where it starts."""
    loops = _line_loops(text)
    at = 0
    for line in text.split("\n"):
        loops += _token_loops(line, at)
        loops += _chain_loops(line, at)
        for word in _IDENTIFIER.finditer(line):
            if word.start() > 0 and (line[word.start() - 1].isalnum()):
                continue  # the tail of a number literal (``0x0F0F``: ``x0F0F``)
            # segments first: the same span reads better as ``Guard`` x3 than as letters
            loops += _segment_loops(word.group(), at + word.start())
            loops += _subword_loops(word.group(), at + word.start())
        at += len(line) + 1
    return sorted(loops, key=lambda loop: (loop.start, -loop.end))


def loop_share(text: str, loops: Sequence[Loop] | None = None) -> float:
    """The share of ``text``'s non-blank characters that lie inside loops."""
    loops = find_loops(text) if loops is None else loops
    covered = [False] * len(text)
    for loop in loops:
        covered[loop.start : loop.end] = [True] * (loop.end - loop.start)
    visible = [i for i, ch in enumerate(text) if not ch.isspace()]
    return sum(covered[i] for i in visible) / max(len(visible), 1)
