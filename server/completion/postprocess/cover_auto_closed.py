"""Cover auto-closed brackets and quotes after the cursor instead of duplicating them.

Editors insert ``)`` when the user types ``(``. When the suggestion itself
closes brackets (or a string) opened before the cursor, the same closers that
already follow the cursor would be doubled; the suggestion's range is
extended over them instead (``cover``), so accepting it leaves one of each.
"""

from __future__ import annotations

from .base import CLOSERS, QUOTES, FilterContext, Suggestion


def unmatched_closers(text: str, line_prefix: str) -> str:
    """Closers in ``text`` that close something opened before it, in order."""
    found: list[tuple[int, str]] = []
    stack: list[str] = []
    for pos, ch in enumerate(text):
        if ch in "([{":
            stack.append(ch)
        elif ch in CLOSERS:
            if stack and stack[-1] == CLOSERS[ch]:
                stack.pop()
            else:
                found.append((pos, ch))
    for quote in QUOTES:
        if line_prefix.count(quote) % 2 == 1 and text.count(quote) % 2 == 1:
            found.append((text.index(quote), quote))
    return "".join(ch for _, ch in sorted(found))


def leading_closers(line_suffix: str) -> str:
    run = []
    for ch in line_suffix:
        if ch not in CLOSERS and ch not in QUOTES:
            break
        run.append(ch)
    return "".join(run)


def cover_auto_closed_pairs(s: Suggestion, ctx: FilterContext) -> Suggestion:
    after = leading_closers(ctx.line_suffix)
    if not after:
        return s
    closers = unmatched_closers(s.text, ctx.line_prefix)
    covered = 0
    while covered < min(len(after), len(closers)) and after[covered] == closers[covered]:
        covered += 1
    return Suggestion(s.text, max(s.cover, covered))
