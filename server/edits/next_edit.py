"""Next-edit suggestions: edit history + the region around the cursor -> the model's
rewritten region -> the smallest edits, in code-point positions.

The prompt format is :mod:`codegen.core.edit_prediction`'s (``nextEdit.format``), the
one training (``codegen-train data --tasks next-edit``) and ``codegen-eval next-edit``
use. A prediction that undoes one of the user's recent edits is dropped (the eval's
reversal ratio measures how often a model proposes one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codegen.core.edit_prediction import (
    EditContext,
    EditEvent,
    EditFormat,
    TextEdit,
    editable_region,
    minimal_edits,
    reverses_recent_edit,
)
from codegen.core.engine import CancelToken, Engine, GenerationConfig

from .history import DocumentHistory

METHOD = "textDocument/copilotInlineEdit"
SHOWN_METHOD = "textDocument/didShowInlineEdit"
ACCEPT_COMMAND = "codegen.acceptInlineEdit"
REJECT_COMMAND = "codegen.rejectInlineEdit"
CAPABILITY = {
    "nextEdit": {
        "method": METHOD,
        "shown": SHOWN_METHOD,
        "accept": ACCEPT_COMMAND,
        "reject": REJECT_COMMAND,
        "formats": ["codegen", "zeta", "sweep"],
    }
}
"""Advertised in ``initialize`` as ``capabilities.experimental.codegen``."""


@dataclass(frozen=True)
class Prediction:
    edits: list[TextEdit]
    """File offsets (code points) in the text the prediction was made on."""
    text: str
    reason: str
    """``edit``, ``no-edit``, ``malformed``, ``reversal``, ``cancelled``."""


def offset_of(text: str, line: int, col: int) -> int:
    start = 0
    for _ in range(line):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text)
        start = nl + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    return min(start + max(col, 0), end)


def position_of(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start


def build_context(
    history: DocumentHistory,
    path: str,
    line: int,
    col: int,
    events: Sequence[EditEvent],
    lines_before: int,
    lines_after: int,
    context_lines: int = 0,
) -> EditContext:
    text = history.text
    start, end = editable_region(text, line, lines_before, lines_after)
    cursor = min(max(offset_of(text, line, col), start), end)
    return EditContext(path, text, start, end, cursor, list(events), context_lines=context_lines)


def predict(
    engine: Engine,
    fmt: EditFormat,
    ctx: EditContext,
    max_new_tokens: int,
    cancel: CancelToken | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> Prediction:
    """Ask the model to rewrite ``ctx``'s region; greedy, stopped by the format."""
    budget = max_new_tokens
    if count_tokens is not None:  # room for the whole region and an edit's worth more
        budget = max(max_new_tokens, count_tokens(ctx.region) + 32)
    config = GenerationConfig(
        max_new_tokens=budget, temperature=0.0, stop=fmt.stop_strings, use_cache_reuse=True
    )
    result = engine.generate(fmt.prompt(ctx), config, cancel)
    if result.finish_reason == "cancelled":
        return Prediction([], ctx.text, "cancelled")
    if result.finish_reason == "length":
        return Prediction([], ctx.text, "malformed")  # the region never ended
    new_region = fmt.parse(result.text + fmt.stop_strings[0], ctx)
    if new_region is None:
        return Prediction([], ctx.text, "malformed")
    edits = minimal_edits(ctx.region, new_region, ctx.region_start)
    if not edits:
        return Prediction([], ctx.text, "no-edit")
    if reverses_recent_edit(edits, ctx.text, ctx.events):
        return Prediction([], ctx.text, "reversal")
    return Prediction(edits, ctx.text, "edit")


def group_by_line(edits: Sequence[TextEdit], text: str) -> list[TextEdit]:
    """Edits on the same line become one (what a client shows as one suggestion)."""
    out: list[TextEdit] = []
    for edit in sorted(edits, key=lambda e: e.start):
        if out and position_of(text, out[-1].end)[0] == position_of(text, edit.start)[0]:
            last = out.pop()
            edit = TextEdit(
                last.start, edit.end, last.text + text[last.end : edit.start] + edit.text
            )
        out.append(edit)
    return out


def nearest_first(edits: Sequence[TextEdit], cursor: int) -> list[TextEdit]:
    """After the cursor first (the next place the user goes), then before it."""
    return sorted(edits, key=lambda e: (e.start < cursor, abs(e.start - cursor)))
