"""Next-edit prediction prompts, defined once for serving, training and eval.

The model sees the user's recent edits and a window of the current file around the
cursor, the *editable region*, and rewrites that region as it expects the user to
leave it. :func:`minimal_edits` turns the rewritten region back into the smallest
edits (ranges and texts) that the editor shows; an unchanged region means "no edit".

Formats (:data:`EDIT_FORMATS`):

- ``zeta``: Zed's Zeta prompt (instruction, the recent events as unified diffs, the
  excerpt with ``<|editable_region_start|>``/``<|editable_region_end|>`` and
  ``<|user_cursor_is_here|>`` markers; the response rewrites the excerpt's region).
  Recent events are listed most recent first.
- ``sweep``: Sweep's next-edit layout on Qwen2.5-Coder's ``<|file_sep|>`` token: the
  recent changes as ``original:``/``updated:`` blocks, then the region as it was before
  them (``original/PATH``), as it is now (``current/PATH``), and ``updated/PATH`` for the
  model to write.
- ``codegen``: our own, for ``builtin:tiny`` and for adapters trained here: the model's
  own FIM sentinels (one token each) as boundaries, the recent edits as ``-``/``+``
  lines most recent first, then the region; compact, because small models pay for every
  token of instructions.

Each format builds a prompt (:meth:`EditFormat.prompt`), a training target
(:meth:`EditFormat.target`, the prompt's continuation with the new region), and parses
a generated continuation back into the new region (:meth:`EditFormat.parse`; ``None``
when the output is malformed, which the server treats as "no edit").
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import ConfigError
from .fim import TINY, FimFormat


@dataclass(frozen=True)
class EditEvent:
    """One recent edit: lines ``old`` (starting at 0-based ``line`` of the file before
    it) replaced by lines ``new``, in file ``path``."""

    path: str
    old: str
    new: str
    line: int = 0

    def unified(self, context: int = 0) -> str:
        """The edit as a unified diff hunk (no file headers)."""
        old_lines = self.old.splitlines(keepends=True)
        new_lines = self.new.splitlines(keepends=True)
        head = f"@@ -{self.line + 1},{len(old_lines)} +{self.line + 1},{len(new_lines)} @@\n"
        body = [f"-{_nl(x)}" for x in old_lines] + [f"+{_nl(x)}" for x in new_lines]
        return head + "".join(body)

    def signed_lines(self) -> str:
        """``-old`` then ``+new`` lines, nothing else (the compact form)."""
        old_lines = self.old.splitlines(keepends=True)
        new_lines = self.new.splitlines(keepends=True)
        return "".join(f"-{_nl(x)}" for x in old_lines) + "".join(f"+{_nl(x)}" for x in new_lines)


def _nl(line: str) -> str:
    return line if line.endswith("\n") else line + "\n"


@dataclass(frozen=True)
class EditContext:
    """What an edit prediction is asked about.

    ``text`` is the current file (``"\\n"`` line ends); the editable region is the
    characters ``[region_start, region_end)`` (whole lines); ``cursor`` is a character
    offset inside the region; ``events`` are the recent edits, oldest first;
    ``original_region`` is the region's text before those edits (Sweep's format shows
    it; it defaults to the current region)."""

    path: str
    text: str
    region_start: int
    region_end: int
    cursor: int
    events: Sequence[EditEvent] = ()
    original_region: str | None = None
    context_lines: int = 0
    """Lines of the file shown before and after the region (Zeta's excerpt)."""

    def __post_init__(self) -> None:
        if not 0 <= self.region_start <= self.region_end <= len(self.text):
            raise ConfigError("the editable region is outside the text")
        if not self.region_start <= self.cursor <= self.region_end:
            raise ConfigError("the cursor is outside the editable region")

    @property
    def region(self) -> str:
        return self.text[self.region_start : self.region_end]

    def recent_first(self, limit: int | None = None) -> list[EditEvent]:
        events = list(reversed(self.events))
        return events[:limit] if limit is not None else events


def editable_region(text: str, line: int, before: int = 2, after: int = 3) -> tuple[int, int]:
    """Character offsets of the whole lines ``line - before`` .. ``line + after``."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    last = len(starts) - 1
    lo = max(0, min(line - before, last))
    hi = min(last, line + after) + 1
    return starts[lo], starts[hi] if hi < len(starts) else len(text)


@dataclass(frozen=True)
class TextEdit:
    """Replace characters ``[start, end)`` of the file with ``text``."""

    start: int
    end: int
    text: str


def minimal_edits(old_region: str, new_region: str, offset: int = 0) -> list[TextEdit]:
    """The smallest edits turning ``old_region`` into ``new_region``, as file offsets
    (the region starts at ``offset``). Lines are matched first, then the characters of
    each changed run of lines, so a renamed word is one small edit."""
    edits: list[TextEdit] = []
    old_lines = old_region.splitlines(keepends=True)
    new_lines = new_region.splitlines(keepends=True)
    old_starts = _starts(old_lines)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_text = "".join(old_lines[i1:i2])
        new_text = "".join(new_lines[j1:j2])
        base = offset + old_starts[i1]
        chars = difflib.SequenceMatcher(a=old_text, b=new_text, autojunk=False)
        for ctag, a1, a2, b1, b2 in chars.get_opcodes():
            if ctag != "equal":
                edits.append(TextEdit(base + a1, base + a2, new_text[b1:b2]))
    return _merge_close(edits)


def _starts(lines: list[str]) -> list[int]:
    out = [0]
    for line in lines:
        out.append(out[-1] + len(line))
    return out


def _merge_close(edits: list[TextEdit]) -> list[TextEdit]:
    """Adjacent edits (touching ranges) become one."""
    merged: list[TextEdit] = []
    for edit in edits:
        if merged and merged[-1].end == edit.start:
            last = merged.pop()
            edit = TextEdit(last.start, edit.end, last.text + edit.text)
        merged.append(edit)
    return merged


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """``text`` with non-overlapping ``edits`` applied (any order)."""
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


@dataclass(frozen=True)
class EditFormat:
    """One prompt layout; see the module docstring for the three defined here."""

    name: str
    fim: FimFormat = field(default=TINY)
    max_events: int = 3

    def prompt(self, ctx: EditContext) -> str:
        if self.name == "zeta":
            return _zeta_prompt(ctx, self.max_events)
        if self.name == "sweep":
            return _sweep_prompt(ctx, self.max_events)
        return _codegen_prompt(ctx, self.fim, self.max_events)

    def target(self, new_region: str) -> str:
        """What the model is trained to write after :meth:`prompt`."""
        if self.name == "zeta":
            return f"{ZETA_START}\n{_nl_or_empty(new_region)}{ZETA_END}\n```"
        if self.name == "sweep":
            return f"{_nl_or_empty(new_region)}{SWEEP_SEP}"
        return f"{new_region}{self.fim.eot_token}"

    @property
    def stop_strings(self) -> tuple[str, ...]:
        if self.name == "zeta":
            return (ZETA_END,)
        if self.name == "sweep":
            return (SWEEP_SEP, "<|endoftext|>")
        return self.fim.stop_strings

    def parse(self, output: str, ctx: EditContext) -> str | None:
        """The new region from a generated continuation (stop text included or not);
        None when it is malformed."""
        if self.name == "zeta":
            start = output.find(ZETA_START)
            if start < 0:
                return None
            body = output[start + len(ZETA_START) :]
            end = body.find(ZETA_END)
            if end < 0:
                return None
            body = body[:end]
            body = body[1:] if body.startswith("\n") else body
            body = body.replace(ZETA_CURSOR, "")
            return _like_region(body, ctx.region)
        if self.name == "sweep":
            for stop in self.stop_strings:
                cut = output.find(stop)
                if cut >= 0:
                    output = output[:cut]
            return _like_region(output, ctx.region)
        for stop in self.fim.stop_strings:
            cut = output.find(stop)
            if cut >= 0:
                output = output[:cut]
        return output


def _nl_or_empty(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _like_region(body: str, region: str) -> str:
    """Zeta and Sweep write a trailing newline after the region; keep the region's own
    ending (with or without one)."""
    if not region.endswith("\n") and body.endswith("\n"):
        return body[:-1]
    return body


ZETA_START = "<|editable_region_start|>"
ZETA_END = "<|editable_region_end|>"
ZETA_CURSOR = "<|user_cursor_is_here|>"
ZETA_FILE_START = "<|start_of_file|>"
ZETA_INSTRUCTION = (
    "You are a code completion assistant and your task is to analyze user edits and then "
    "rewrite an excerpt that the user provides, suggesting the appropriate edits within "
    "the excerpt, taking into account the cursor location."
)


def _zeta_prompt(ctx: EditContext, max_events: int) -> str:
    events = "\n".join(
        f'User edited "{e.path}":\n```diff\n{e.unified()}```\n'
        for e in ctx.recent_first(max_events)
    )
    lines_before = ctx.text[: ctx.region_start].splitlines(keepends=True)
    before = "".join(lines_before[-ctx.context_lines :]) if ctx.context_lines else ""
    after_lines = ctx.text[ctx.region_end :].splitlines(keepends=True)
    after = "".join(after_lines[: ctx.context_lines]) if ctx.context_lines else ""
    at_top = len(lines_before) <= ctx.context_lines
    region = ctx.region
    cut = ctx.cursor - ctx.region_start
    marked = region[:cut] + ZETA_CURSOR + region[cut:]
    excerpt = (
        (ZETA_FILE_START + "\n" if at_top else "")
        + before
        + ZETA_START
        + "\n"
        + _nl_or_empty(marked)
        + ZETA_END
        + "\n"
        + after
    )
    return (
        f"### Instruction:\n{ZETA_INSTRUCTION}\n\n### User Edits:\n\n{events}\n"
        f"### User Excerpt:\n\n```{ctx.path}\n{excerpt}```\n\n### Response:\n\n```{ctx.path}\n"
    )


SWEEP_SEP = "<|file_sep|>"


def _sweep_prompt(ctx: EditContext, max_events: int) -> str:
    changes = "".join(
        f"{SWEEP_SEP}{e.path}.diff\noriginal:\n{_nl_or_empty(e.old)}updated:\n{_nl_or_empty(e.new)}"
        for e in reversed(ctx.recent_first(max_events))  # Sweep lists them in order
    )
    original = ctx.original_region if ctx.original_region is not None else ctx.region
    return (
        f"{changes}{SWEEP_SEP}original/{ctx.path}\n{_nl_or_empty(original)}"
        f"{SWEEP_SEP}current/{ctx.path}\n{_nl_or_empty(ctx.region)}"
        f"{SWEEP_SEP}updated/{ctx.path}\n"
    )


def _codegen_prompt(ctx: EditContext, fim: FimFormat, max_events: int) -> str:
    events = "".join(e.signed_lines() for e in ctx.recent_first(max_events))
    return f"{fim.prefix_token}{ctx.path}\n{events}{fim.suffix_token}{ctx.region}{fim.middle_token}"


EDIT_FORMAT_NAMES = ("codegen", "zeta", "sweep")


def get_edit_format(name: str, fim: FimFormat = TINY) -> EditFormat:
    if name not in EDIT_FORMAT_NAMES:
        raise ConfigError(
            f"unknown edit-prediction format {name!r}; use one of {', '.join(EDIT_FORMAT_NAMES)}"
        )
    return EditFormat(name, fim)


def reverses_recent_edit(edits: Sequence[TextEdit], text: str, events: Sequence[EditEvent]) -> bool:
    """Whether applying ``edits`` to ``text`` undoes one of ``events`` (an event's new
    lines turned back into its old lines somewhere in the file)."""
    after = apply_edits(text, edits)
    for event in events:
        if not event.new.strip() and not event.old.strip():
            continue
        new_before = text.count(event.new) if event.new else 0
        new_after = after.count(event.new) if event.new else 0
        old_before = text.count(event.old) if event.old else 0
        old_after = after.count(event.old) if event.old else 0
        if event.new and event.old:
            if new_after < new_before and old_after > old_before:
                return True
        elif event.new:  # an insertion undone: its text removed again
            if new_after < new_before:
                return True
        elif old_after > old_before:  # a deletion undone: its text put back
            return True
    return False
