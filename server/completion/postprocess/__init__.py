"""Post-processing: small pure filters, one per module, chained in order.

Each filter takes a :class:`Suggestion` and the :class:`FilterContext` around
the cursor and returns a new suggestion, or None to drop it. The order
matters: cut first (blank lines, scope, length), then de-duplicate against the
code after the cursor, then fix indentation and auto-closed pairs, then judge
quality, and only at the end convert line endings back to the document's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .base import FilterContext, Suggestion
from .cover_auto_closed import cover_auto_closed_pairs
from .drop_low_quality import drop_low_quality
from .limit_scope import limit_scope_by_indent
from .line_endings import use_document_line_endings
from .match_indentation import match_file_indentation
from .max_lines import limit_max_lines
from .remove_suffix_overlap import remove_suffix_overlap
from .stop_at_blank_lines import stop_at_blank_lines
from .trim import trim

Filter = Callable[[Suggestion, FilterContext], "Suggestion | None"]

FILTERS: tuple[Filter, ...] = (
    trim,
    match_file_indentation,
    stop_at_blank_lines,
    limit_scope_by_indent,
    limit_max_lines,
    remove_suffix_overlap,
    cover_auto_closed_pairs,
    drop_low_quality,
    use_document_line_endings,
)

# The filters that decide where a suggestion ends; they keep lines one to one,
# so running them on partial output tells how many lines will survive.
CUT_FILTERS: tuple[Filter, ...] = (
    trim,
    match_file_indentation,
    stop_at_blank_lines,
    limit_scope_by_indent,
    limit_max_lines,
)


def postprocess(
    text: str, ctx: FilterContext, filters: Sequence[Filter] = FILTERS
) -> Suggestion | None:
    """Run ``filters`` in order on the raw model output; None when one drops it."""
    suggestion: Suggestion | None = Suggestion(text)
    for apply in filters:
        if suggestion is None:
            return None
        suggestion = apply(suggestion, ctx)
    return suggestion


def make_stop_fn(ctx: FilterContext) -> Callable[[str], int | None]:
    """A generation stop rule: cut where the cut filters would, once they can tell.

    Only finished lines are judged; the result is an index into the raw text
    (the end of the last line that survives).
    """

    def stop(text: str) -> int | None:
        newline = text.find("\n")
        if ctx.mode == "single" and newline > 0 and text[:newline].strip():
            return newline
        done = text[: text.rfind("\n") + 1].rstrip()
        if not done.strip():
            return None
        total = len(done.split("\n"))
        kept = postprocess(done, ctx, CUT_FILTERS)
        kept_lines = len(kept.text.split("\n")) if kept is not None and kept.text else 0
        if kept_lines >= total:
            return None
        ends = [i for i, ch in enumerate(text) if ch == "\n"]
        return ends[kept_lines - 1] if kept_lines else 0

    return stop


__all__ = ["FILTERS", "FilterContext", "Suggestion", "make_stop_fn", "postprocess"]
