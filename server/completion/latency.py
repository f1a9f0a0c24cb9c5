"""Latency discipline: the decoding deadline, and what speculation and background
prefill need to know about a document (pure helpers; the completer runs them).

- **Deadline** (``completion.deadlineMs``, as llama.vim's ``t_max_predict_ms``): once the
  deadline has passed, decoding stops at the next line break and what is there is shown.
- **Speculative follow-up** (``completion.speculate``): while a suggestion is shown, the
  next one is computed as if it had been accepted, so accepting answers from memory.
- **Background prefill** (``completion.prefillAfterMs``): when the user pauses after an
  edit, the prompt the next request would send is prefilled into the KV cache (in
  process) or the server's prompt cache (remote), so that request only decodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from codegen.core.engine import StopFn

from ..lsp.documents import Document


class Deadline:
    """A stop function that ends decoding at the first line break generated after
    ``at`` (a ``clock()`` time), wrapping the pipeline's own stop function."""

    def __init__(
        self, inner: StopFn | None, at: float, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.inner = inner
        self.at = at
        self.clock = clock
        self.passed_at: int | None = None
        """Length of the text when the deadline passed; None before."""
        self.fired = False
        self._last_len = 0

    def __call__(self, text: str) -> int | None:
        cut = self.inner(text) if self.inner is not None else None
        if cut is not None:
            return cut
        if self.passed_at is None and self.clock() >= self.at:
            self.passed_at = self._last_len  # the token just generated came after it
        self._last_len = len(text)
        if self.passed_at is not None:
            # Never inside the leading line breaks: cutting there would show nothing.
            newline = text.find("\n", max(self.passed_at, len(text) - len(text.lstrip())))
            if newline >= 0:
                self.fired = True
                return newline
        return None


def accepted_document(
    doc: Document, line: int, col: int, text: str, cover: int
) -> tuple[Document, int, int]:
    """The document as it would be after accepting ``text`` at (line, col) over ``cover``
    characters, and the cursor after it (a copy; ``doc`` is unchanged)."""
    lines = doc.lines
    head = "".join(lines[:line])
    current = lines[line]
    before, after = current[:col], current[col + cover :]
    tail = "".join(lines[line + 1 :])
    inserted = text.replace("\r\n", "\n")
    new_text = head + before + inserted + after + tail
    parts = inserted.split("\n")
    new_line = line + len(parts) - 1
    new_col = (col + len(parts[0])) if len(parts) == 1 else len(parts[-1])
    copy = Document.from_text(doc.uri, doc.language_id, doc.version, new_text)
    return copy, new_line, new_col
