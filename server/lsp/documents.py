"""The open documents, kept exactly as the editor has them (incremental sync).

pygls' own workspace splits lines with ``str.splitlines`` (which also breaks
at form feeds and U+2028) and clamps columns off by one, so the server keeps
its own store built on :mod:`codegen.server.lsp.positions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .positions import (
    UTF16,
    column_to_index,
    index_to_column,
    line_content,
    line_ending,
    split_lines,
)


@dataclass
class Document:
    """One open document as lines with their terminators."""

    uri: str
    language_id: str
    version: int
    lines: list[str] = field(default_factory=lambda: [""])
    _text: str | None = None
    _eol: str | None = None

    @classmethod
    def from_text(cls, uri: str, language_id: str, version: int, text: str) -> Document:
        doc = cls(uri, language_id, version, split_lines(text))
        doc._text = text
        return doc

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self.lines)
        return self._text

    @property
    def eol(self) -> str:
        """The document's line terminator (:func:`~.positions.line_ending`), computed
        once per text."""
        if self._eol is None or self._text is None:
            self._eol = line_ending(self.text)
        return self._eol

    def clamp(self, line: int, character: int, encoding: str = UTF16) -> tuple[int, int]:
        """(line, Python column) for an LSP position, clamped into the document."""
        if line < 0:
            return 0, 0
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return last, len(line_content(self.lines[last]))
        return line, column_to_index(line_content(self.lines[line]), character, encoding)

    def to_client_column(self, line: int, index: int, encoding: str = UTF16) -> int:
        return index_to_column(line_content(self.lines[line]), index, encoding)

    def apply_change(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """Replace the text between two (line, Python column) positions."""
        (sl, sc), (el, ec) = sorted([start, end])
        # Re-split one line on each side so that a "\r" + "\n" meeting at the
        # edit's edges joins into one CRLF terminator, as it does in the editor.
        lo, hi = max(0, sl - 1), min(len(self.lines), el + 2)
        head = "".join(self.lines[lo:sl]) + self.lines[sl][:sc]
        tail = self.lines[el][ec:] + "".join(self.lines[el + 1 : hi])
        pieces = split_lines(head + text + tail)
        if hi < len(self.lines) and pieces[-1] == "":
            pieces.pop()
        self.lines[lo:hi] = pieces
        self._text = self._eol = None

    def set_text(self, text: str) -> None:
        self.lines = split_lines(text)
        self._text, self._eol = text, None


class DocumentStore:
    """Open documents by URI; unknown URIs give None, never an exception."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        doc = Document.from_text(uri, language_id, version, text)
        self._docs[uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def others(self, uri: str) -> list[Document]:
        """Every open document except ``uri``, most recently opened last."""
        return [doc for key, doc in self._docs.items() if key != uri]

    def __len__(self) -> int:
        return len(self._docs)
