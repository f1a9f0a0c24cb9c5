"""Next-edit examples: what the developer changed next, after the changes they had just
made (from git history, :mod:`.next_edit_commits`, and from accepted next-edit
suggestions of acceptance logs).

For each commit, each file's hunks (``git diff -U0``) are taken top to bottom. The
example for hunk *i* (*i* >= 2) is the file with hunks 1..i-1 already applied, those
hunks as the recent events (the last ``max_events``, oldest first, as the server's edit
history lists them) and, as the target, the editable region with hunk *i* applied. The
region is placed as the server places it (``editable_region`` with
``nextEdit.linesBefore/linesAfter``) around the cursor, taken to be on the last line of
hunk *i-1*: a ``follow_up`` example. When hunk *i* lies outside that region, the region
goes around hunk *i* itself, as if the user had moved there (``at_hunk``). The first
hunk of a file is no example: the server only shows a document's own edits, and there
are none yet.

Prompt and completion come from :mod:`codegen.core.edit_prediction`'s ``codegen``
format on the data's FIM format (``EditFormat.prompt`` / ``EditFormat.target``), so a
server with the same region sizes sends exactly the prompt trained on. The prompt's file
name is the base name, as the server's (its URI's last segment).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codegen.core.edit_prediction import (
    EditContext,
    EditEvent,
    EditFormat,
    editable_region,
    get_edit_format,
)
from codegen.core.fim import FimFormat

from ..example import Example

TASK = "next-edit"


@dataclass(frozen=True)
class NextEditConfig:
    """The region must match the server's ``nextEdit.linesBefore/linesAfter`` and the
    events its ``nextEdit.maxEvents``, or the model is served prompts it never saw."""

    lines_before: int = 3
    lines_after: int = 5
    max_events: int = 3
    max_commits: int = 500
    max_files: int = 8
    max_hunks: int = 24
    max_changed_lines: int = 120


@dataclass(frozen=True)
class Hunk:
    """One ``-U0`` hunk: 0-based ``old_start`` (for an insertion: the line it goes
    before) spanning ``old_count`` lines, replaced by ``after[new_start:new_start+new_count]``."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int


@dataclass(frozen=True)
class EditCase:
    """One next-edit example before it becomes a row: what the model is shown and what
    it should write."""

    path: str
    """The file, relative to its source (the log's file for a suggestion)."""
    language: str
    context: EditContext
    target: str
    """The editable region as the user left it next."""
    kind: str
    """``follow_up``, ``at_hunk`` or ``log``."""
    origin: str
    """The commit id, or the suggestion id of a log record."""

    def example(self, fmt: EditFormat) -> Example:
        return Example(
            TASK, fmt.prompt(self.context), fmt.target(self.target), self.path, self.language
        )

    def row(self, split: str, source: str, held_out_by: str | None) -> dict[str, Any]:
        """The case as ``next_edit.jsonl`` stores it for ``codegen-eval next-edit``: enough
        to rebuild the prompt in any model's FIM format (the region and the events)."""
        ctx = self.context
        line = ctx.text.count("\n", 0, ctx.region_start)
        return {
            "id": f"{self.origin[:12]}:{self.path}:{line}",
            "source": source,
            "origin": self.origin,
            "path": self.path,
            "prompt_path": ctx.path,
            "language": self.language,
            "split": split,
            "held_out_by": held_out_by,
            "kind": self.kind,
            "region": ctx.region,
            "region_line": line,
            "cursor": ctx.cursor - ctx.region_start,
            "events": [event_dict(e) for e in ctx.events],
            "target": self.target,
        }


def event_dict(event: EditEvent) -> dict[str, Any]:
    return {"path": event.path, "old": event.old, "new": event.new, "line": event.line}


def prompt_path(path: str) -> str:
    """The file name the server puts in prompts (the last segment of the document URI)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def edit_format(fim: FimFormat, max_events: int) -> EditFormat:
    """The ``codegen`` next-edit format on ``fim``'s sentinels, showing ``max_events``."""
    fmt = get_edit_format("codegen", fim)
    return EditFormat(fmt.name, fmt.fim, max_events)


def case_context(row: Mapping[str, Any]) -> EditContext:
    """The :class:`EditContext` of a ``next_edit.jsonl`` row (the region alone as text,
    which is all the ``codegen`` format shows)."""
    region = str(row["region"])
    events = [
        EditEvent(str(e["path"]), str(e["old"]), str(e["new"]), int(e.get("line") or 0))
        for e in row.get("events") or []
    ]
    cursor = min(max(int(row.get("cursor") or 0), 0), len(region))
    return EditContext(str(row["prompt_path"]), region, 0, len(region), cursor, events)


def file_cases(
    path: str, language: str, before: str, after: str, hunks: Sequence[Hunk],
    config: NextEditConfig, origin: str, counts: Counter[str],
) -> list[EditCase] | None:  # fmt: skip
    """The examples of one file of one commit (see the module docstring), counting the
    hunks that gave none in ``counts``; None when the hunks do not turn ``before`` into
    ``after``."""
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    state = list(old_lines)
    name = prompt_path(path)
    events: list[EditEvent] = []
    cases: list[EditCase] = []
    delta = 0
    cursor_line: int | None = None
    for hunk in sorted(hunks, key=lambda h: h.old_start):
        pos = hunk.old_start + delta
        old = state[pos : pos + hunk.old_count]
        if old != old_lines[hunk.old_start : hunk.old_start + hunk.old_count]:
            return None
        new = new_lines[hunk.new_start : hunk.new_start + hunk.new_count]
        if cursor_line is None:
            counts["first_in_file"] += 1
        else:
            recent = events[-config.max_events :] if config.max_events > 0 else []
            case = _case(name, state, pos, old, new, recent, cursor_line, config)
            if case is None:
                counts["larger_than_region"] += 1
            else:
                ctx, target, kind = case
                cases.append(EditCase(path, language, ctx, target, kind, origin))
        events.append(EditEvent(name, "".join(old), "".join(new), pos))
        state[pos : pos + hunk.old_count] = new
        delta += hunk.new_count - hunk.old_count
        cursor_line = pos + max(hunk.new_count, 1) - 1
    return cases if "".join(state) == after else None


def _case(
    name: str, state: list[str], pos: int, old: list[str], new: list[str],
    events: list[EditEvent], cursor_line: int, config: NextEditConfig,
) -> tuple[EditContext, str, str] | None:  # fmt: skip
    """``(context, target region, kind)`` for the hunk at line ``pos`` of ``state``."""
    text = "".join(state)
    starts = [0]
    for line in state:
        starts.append(starts[-1] + len(line))
    hunk_start, hunk_end = starts[pos], starts[pos + len(old)]
    for kind, line in (("follow_up", cursor_line), ("at_hunk", pos)):
        start, end = editable_region(text, line, config.lines_before, config.lines_after)
        if start <= hunk_start and hunk_end <= end:
            cursor = min(max(starts[min(line, len(state))], start), end)
            target = text[start:hunk_start] + "".join(new) + text[hunk_end:end]
            return EditContext(name, text, start, end, cursor, events), target, kind
    return None


def log_case(record: Mapping[str, Any], path: str, language: str, origin: str) -> EditCase | None:
    """The example of an accepted next-edit suggestion, from the fields the server logs
    (``region``, ``events``, ``edit_start``/``edit_end`` in the region, ``text``): the
    region as it was, and the region with the accepted edit applied. None when the
    record lacks them or they do not fit together."""
    region, text = record.get("region"), record.get("text")
    start, end = record.get("edit_start"), record.get("edit_end")
    events = record.get("events")
    if not isinstance(region, str) or not isinstance(text, str) or not isinstance(events, list):
        return None
    if (
        not isinstance(start, int)
        or not isinstance(end, int)
        or not 0 <= start <= end <= len(region)
    ):
        return None
    replaced = record.get("replaced")
    if isinstance(replaced, str) and region[start:end] != replaced:
        return None
    try:
        row = {"region": region, "events": events, "prompt_path": str(record.get("path") or path)}
        ctx = case_context(row)
    except (KeyError, TypeError, ValueError):
        return None
    target = region[:start] + text + region[end:]
    if target == region:
        return None
    return EditCase(path, language, ctx, target, "log", origin)
