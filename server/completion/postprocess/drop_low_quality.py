"""Drop suggestions not worth showing: blank, tiny, or a model loop.

Loops are found by :mod:`.loops` (a unit repeated back to back: ``guard_guard_guard``,
``foliolioliolio``, ``the the the``, ``.foo().foo().foo()``, the same line again and again).
When the model loops, nothing from the loop on is shown:

- a suggestion at least :data:`LOOP_SHARE` of which is loop is dropped whole (the model went
  off the rails; what it wrote first is suspect too);
- otherwise it is cut at the start of the line where the first loop starts, never inside a
  line: a line that degenerates halfway is not shown half-broken. A loop on the first line
  (the rest of the cursor's line) drops the suggestion, and so does a cut that leaves less
  than ``min_length`` characters. What a cut removes may have covered auto-closed brackets,
  so the cover is worked out again for what is kept.
"""

from __future__ import annotations

from .base import FilterContext, Suggestion
from .cover_auto_closed import cover_auto_closed_pairs
from .loops import find_loops, loop_share

LOOP_SHARE = 0.5
"""A suggestion at least this much of which (non-blank characters) is loop is dropped whole,
even when it starts with something else ("x = the the the the ...")."""


def _content(text: str) -> int:
    return len("".join(text.split()))


def drop_low_quality(s: Suggestion, ctx: FilterContext) -> Suggestion | None:
    content = _content(s.text)
    if not content or content < ctx.min_length:
        return None
    loops = find_loops(s.text)
    if not loops:
        return s
    if loop_share(s.text, loops) >= LOOP_SHARE:
        return None
    line_start = s.text.rfind("\n", 0, loops[0].start) + 1
    kept = s.text[:line_start].rstrip()
    if line_start == 0 or _content(kept) < ctx.min_length:
        return None
    return cover_auto_closed_pairs(Suggestion(kept), ctx)
