"""How much of an accepted suggestion is still in the document: pure functions.

After an accept the server follows the line the text went in on through the document's
edits (:func:`shift_line`: edits above it move it, an edit around it pins it to the
edit's start), and at each measurement looks for the accepted text in a window of lines
around that line (:func:`retained_match`): the best approximate occurrence by edit
distance, where the window's text outside the match costs nothing. The accepted text's
length minus that distance is the characters retained. A match weaker than
:data:`CHANCE` of the text is what any nearby code would give and counts 0, so a
suggestion the user deleted is 0, not a few characters of chance likeness.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

CHANCE = 0.5
"""A match keeping less than this fraction of the accepted text counts as none."""
MARGIN_LINES = 3
"""Lines either side of the inserted text searched for it."""
MAX_TEXT = 1000
"""Longer accepted texts are measured on their first this many characters."""


@dataclass(frozen=True)
class Match:
    retained_chars: int
    retained_fraction: float
    kept: str
    """The document's text where the accepted text matched best (empty when none)."""


def shift_line(line: int, start_line: int, end_line: int, new_text: str) -> int:
    """Where ``line`` is after replacing lines ``start_line..end_line``'s range with
    ``new_text`` (LSP positions of the text before the change)."""
    if end_line < line:
        return line + new_text.count("\n") - (end_line - start_line)
    if start_line <= line:  # the change spans the line: its start is the best anchor
        return min(line, start_line + new_text.count("\n"))
    return line


def window(lines: list[str], line: int, text: str) -> str:
    """The text of the lines around ``line`` that could hold ``text`` (with "\\n" ends)."""
    lo = max(0, line - MARGIN_LINES)
    hi = min(len(lines), line + text.count("\n") + 1 + MARGIN_LINES)
    return "".join(lines[lo:hi]).replace("\r\n", "\n").replace("\r", "\n")


def retained_match(accepted: str, haystack: str) -> Match:
    """The best approximate occurrence of ``accepted`` in ``haystack`` (semi-global edit
    distance: skipping haystack text before and after the match is free)."""
    accepted = accepted.replace("\r\n", "\n")[:MAX_TEXT]
    m = len(accepted)
    if m == 0:
        return Match(0, 0.0, "")
    if not haystack:
        return Match(0, 0.0, "")
    if accepted in haystack:
        return Match(m, 1.0, accepted)
    # Characters in common bound what any alignment can keep: most deleted texts stop here.
    common = sum((Counter(accepted) & Counter(haystack)).values())
    if common < CHANCE * m:
        return Match(0, 0.0, "")
    # Column j of row i: the distance of accepted[:i] against a substring ending at
    # haystack[j]; ``starts`` remembers where that substring begins.
    n = len(haystack)
    prev = [0] * (n + 1)
    prev_start = list(range(n + 1))
    for i in range(1, m + 1):
        a = accepted[i - 1]
        cur = [i] + [0] * n
        cur_start = [0] * (n + 1)
        for j in range(1, n + 1):
            sub = prev[j - 1] + (a != haystack[j - 1])
            dele = prev[j] + 1
            ins = cur[j - 1] + 1
            if sub <= dele and sub <= ins:
                cur[j], cur_start[j] = sub, prev_start[j - 1]
            elif dele <= ins:
                cur[j], cur_start[j] = dele, prev_start[j]
            else:
                cur[j], cur_start[j] = ins, cur_start[j - 1]
        prev, prev_start = cur, cur_start
    end = min(range(n + 1), key=lambda j: (prev[j], -j))
    distance = prev[end]
    retained = max(0, m - distance)
    fraction = retained / m
    if fraction < CHANCE:
        return Match(0, 0.0, "")
    return Match(retained, fraction, haystack[prev_start[end] : end])
