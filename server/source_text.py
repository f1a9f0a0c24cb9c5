"""A file's text as the hint and docstring features see it, with LSP conversions.

Open documents come from the server's store; other workspace files (frames of
a traceback) are read from disk. The text is normalised to ``\\n`` line endings
with exactly the document's lines, so a (line, ``str`` column) from tree-sitter
or the scorer is a (line, column) of the document, converted to the client's
position encoding here and nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from lsprotocol import types

from .completion.syntax_mode import language_of
from .lsp.positions import (
    UTF16,
    column_to_index,
    index_to_column,
    line_content,
    line_ending,
    split_lines,
)

if TYPE_CHECKING:
    from .lsp.documents import DocumentStore

log = logging.getLogger(__name__)


class HasDocuments(Protocol):
    """What :func:`source_of` needs of a server: its open documents."""

    @property
    def documents(self) -> DocumentStore: ...


MAX_DISK_BYTES = 2_000_000


@dataclass(frozen=True)
class SourceText:
    uri: str
    text: str
    """The content with ``\\n`` line endings."""
    lines: tuple[str, ...]
    """Line contents without terminators (``text.split("\\n")``)."""
    language: str | None
    """Tree-sitter language name, or None."""
    language_id: str
    version: int | None
    """The open document's version; None for a file read from disk."""
    eol: str = "\n"
    """The document's line terminator (:func:`~.lsp.positions.line_ending`)."""

    @classmethod
    def from_text(
        cls, uri: str, raw: str, language_id: str = "", version: int | None = None
    ) -> SourceText:
        raw_lines = split_lines(raw)
        lines = tuple(line_content(line) for line in raw_lines)
        eol = line_ending(raw)
        language = language_of(uri, language_id)
        return cls(uri, "\n".join(lines), lines, language, language_id, version, eol)

    def offset(self, line: int, col: int) -> int:
        line = max(0, min(line, len(self.lines) - 1))
        return sum(len(text) + 1 for text in self.lines[:line]) + min(col, len(self.lines[line]))

    def offset_at(self, position: types.Position, encoding: str = UTF16) -> int:
        """The ``str`` offset of an LSP position (clamped into the text)."""
        if position.line >= len(self.lines):
            return len(self.text)
        line = max(0, position.line)
        col = column_to_index(self.lines[line], position.character, encoding)
        return self.offset(line, col)

    def line_col(self, offset: int) -> tuple[int, int]:
        head = self.text[: max(0, offset)]
        line = head.count("\n")
        return line, len(head) - (head.rfind("\n") + 1)

    def position(self, line: int, col: int, encoding: str = UTF16) -> types.Position:
        if line >= len(self.lines):
            last = self.lines[-1]
            return types.Position(len(self.lines) - 1, index_to_column(last, len(last), encoding))
        return types.Position(line, index_to_column(self.lines[line], col, encoding))

    def range(self, start: int, end: int, encoding: str = UTF16) -> types.Range:
        """The LSP range of ``text[start:end]``."""
        return types.Range(
            self.position(*self.line_col(start), encoding),
            self.position(*self.line_col(end), encoding),
        )

    def to_document(self, new_text: str) -> str:
        """``new_text`` (``\\n`` endings) with the document's line endings."""
        return new_text.replace("\n", self.eol) if self.eol != "\n" else new_text


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def path_to_uri(path: Path) -> str:
    return path.resolve().as_uri()


def source_of(server: HasDocuments, uri: str) -> SourceText | None:
    """The open document ``uri``, or the file on disk; None when neither can be read."""
    doc = server.documents.get(uri)
    if doc is not None:
        return SourceText.from_text(uri, doc.text, doc.language_id, doc.version)
    path = uri_to_path(uri)
    if path is None or not path.is_file():
        return None
    try:
        if path.stat().st_size > MAX_DISK_BYTES:
            return None
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        log.info("cannot read %s: %s", path, err)
        return None
    return SourceText.from_text(uri, raw)
