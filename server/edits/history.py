"""What the user just did: recent edits per document, and a ring of recent ranges.

:class:`EditHistory` keeps, per open document, its own copy of the lines and the recent
edits coalesced into hunks (a word typed key by key is one hunk), in order, with their
times. Next-edit prompts show them as the recent events.

:class:`RecentRanges` is one ring across documents of recently edited and visited
ranges (a few lines each). A chunk is evicted when a newer one is too similar to it (as
llama.vim's ring does), or when the ring is full; inline completion uses the chunks of
other documents as a context source under its own token budget.

Pure logic: the server feeds it LSP changes as ``(start_line, start_col, end_line,
end_col, text)`` in code points (already converted from the client's encoding).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from codegen.core.edit_prediction import EditEvent

COALESCE_S = 2.0
"""Edits within this many seconds on the same or adjacent lines are one hunk."""
MAX_HUNKS = 16
"""Hunks kept per document."""


@dataclass
class Hunk:
    """Lines ``[line, line + len(old lines))`` of the text before it became ``new``."""

    line: int
    old: str
    new: str
    time: float
    new_lines: int
    """How many lines of the current text the hunk spans (while it is still open)."""

    def event(self, path: str) -> EditEvent:
        """The hunk without the lines it left as they were (a pure insertion has no old
        lines)."""
        old, new = _split(self.old), _split(self.new)
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        old, new = old[head : len(old) - tail], new[head : len(new) - tail]
        return EditEvent(path, "".join(old), "".join(new), self.line + head)


def _split(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


class DocumentHistory:
    """One document's lines (its own copy) and hunks."""

    def __init__(self, text: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.lines = _split(text)
        self.hunks: deque[Hunk] = deque(maxlen=MAX_HUNKS)
        self._clock = clock

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def _line(self, i: int) -> str:
        return self.lines[i] if 0 <= i < len(self.lines) else ""

    def change(self, sl: int, sc: int, el: int, ec: int, text: str) -> None:
        """Apply one change (code-point positions in the current lines)."""
        last = max(0, len(self.lines) - 1)
        sl, el = min(max(sl, 0), last + 1), min(max(el, 0), last + 1)
        if (el, ec) < (sl, sc):
            sl, sc, el, ec = el, ec, sl, sc
        head_line, tail_line = self._line(sl), self._line(el)
        sc = min(sc, len(head_line.rstrip("\n")))
        ec = min(ec, len(tail_line.rstrip("\n")))
        old = "".join(self.lines[sl : el + 1])
        replaced = head_line[:sc] + text + tail_line[ec:]
        new_lines = _split(replaced)
        self.lines[sl : el + 1] = new_lines
        self._record(sl, old, "".join(new_lines), len(new_lines))

    def replace_all(self, text: str) -> None:
        old = self.text
        self.lines = _split(text)
        self._record(0, old, text, len(self.lines))

    def _record(self, line: int, old: str, new: str, new_count: int) -> None:
        if old == new:
            return
        now = self._clock()
        old_count = len(_split(old))
        if self.hunks:
            prev = self.hunks[-1]
            # The open hunk's lines in the text before this change: prev.line ..
            # prev.line + prev.new_lines. This change replaced ``old_count`` lines at
            # ``line``. Merge when they touch and the edit came soon after.
            lo, hi = prev.line, prev.line + max(prev.new_lines, 1)
            if now - prev.time <= COALESCE_S and lo <= line <= hi:
                start = min(lo, line)
                end_before = max(hi, line + old_count)  # exclusive, in the text before
                end_after = end_before - old_count + new_count
                prev_old = _split(prev.old)
                # Lines of the merged span outside the previous hunk are old text as well.
                before_lines = self._previous_lines(start, end_before, line, old, new_count)
                merged_old = (
                    "".join(before_lines[: prev.line - start])
                    + "".join(prev_old)
                    + "".join(before_lines[prev.line - start + prev.new_lines :])
                )
                prev.line = start
                prev.old = merged_old
                prev.new = "".join(self.lines[start:end_after])
                prev.new_lines = end_after - start
                prev.time = now
                if prev.old == prev.new:
                    self.hunks.pop()
                return
        self.hunks.append(Hunk(line, old, new, now, new_count))

    def _previous_lines(
        self, start: int, end_before: int, line: int, old: str, new_count: int
    ) -> list[str]:
        """Lines ``start..end_before`` of the text as it was before the last change."""
        current = self.lines
        before = current[:line] + _split(old) + current[line + new_count :]
        return before[start:end_before]

    def events(self, path: str, limit: int | None = None) -> list[EditEvent]:
        """The hunks as edit events, oldest first (the last ``limit``)."""
        hunks = list(self.hunks)[-limit:] if limit else list(self.hunks)
        return [h.event(path) for h in hunks]


@dataclass
class Chunk:
    uri: str
    path: str
    line: int
    text: str
    time: float
    words: frozenset[str]


def _words(text: str) -> frozenset[str]:
    out, word = set(), []
    for ch in text:
        if ch.isalnum() or ch == "_":
            word.append(ch)
        elif word:
            out.add("".join(word))
            word = []
    if word:
        out.add("".join(word))
    return frozenset(out)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class RecentRanges:
    """A bounded ring of recently edited and visited ranges across documents."""

    def __init__(
        self,
        size: int = 16,
        lines: int = 12,
        evict_similarity: float = 0.7,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.lines = lines
        self.evict_similarity = evict_similarity
        self.chunks: deque[Chunk] = deque()
        self._clock = clock

    def add(self, uri: str, path: str, doc_lines: list[str], line: int) -> None:
        """Remember the range of ``lines`` lines around ``line`` of a document."""
        if not doc_lines:
            return
        half = self.lines // 2
        lo = max(0, min(line - half, len(doc_lines) - self.lines))
        text = "".join(doc_lines[lo : lo + self.lines]).replace("\r\n", "\n")
        if not text.strip():
            return
        words = _words(text)
        keep = deque(
            c
            for c in self.chunks
            if not (
                (c.uri == uri and abs(c.line - lo) < self.lines)
                or similarity(c.words, words) >= self.evict_similarity
            )
        )
        keep.append(Chunk(uri, path, lo, text, self._clock(), words))
        while len(keep) > self.size:
            keep.popleft()
        self.chunks = keep

    def forget(self, uri: str) -> None:
        self.chunks = deque(c for c in self.chunks if c.uri != uri)

    def others(self, uri: str) -> list[Chunk]:
        """Chunks of other documents, most recent first."""
        return [c for c in reversed(self.chunks) if c.uri != uri]


def fit_chunks(
    chunks: Iterable[Chunk], count_tokens: Callable[[str], int], max_tokens: int
) -> list[Chunk]:
    """The most recent chunks that fit in ``max_tokens`` together (oldest first, so the
    most recent sits nearest the code being completed)."""
    out, used = [], 0
    for chunk in chunks:
        cost = count_tokens(chunk.text) + 8
        if used + cost > max_tokens:
            continue
        out.append(chunk)
        used += cost
    return list(reversed(out))
