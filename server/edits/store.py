"""The server's edit history: one :class:`~.history.DocumentHistory` per open document
and one :class:`~.history.RecentRanges` ring, fed by didOpen / didChange / didClose."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from ..lsp.positions import column_to_index, line_content
from .history import DocumentHistory, RecentRanges


def path_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class EditStore:
    def __init__(self, encoding: Callable[[], str]) -> None:
        self.docs: dict[str, DocumentHistory] = {}
        self.recent = RecentRanges()
        self._encoding = encoding

    def get(self, uri: str) -> DocumentHistory | None:
        return self.docs.get(uri)

    def on_open(self, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        self.docs[doc.uri] = DocumentHistory(doc.text.replace("\r\n", "\n"))

    def on_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.docs.pop(params.text_document.uri, None)

    def visited(self, uri: str, line: int) -> None:
        """The user is working at ``line`` (a completion or next-edit request)."""
        history = self.docs.get(uri)
        if history is not None:
            self.recent.add(uri, path_of(uri), history.lines, line)

    def on_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        history = self.docs.get(uri)
        if history is None:
            return
        encoding = self._encoding()
        touched = None
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                sc = self._column(history, start.line, start.character, encoding)
                ec = self._column(history, end.line, end.character, encoding)
                history.change(start.line, sc, end.line, ec, change.text.replace("\r\n", "\n"))
                touched = start.line
            else:
                history.replace_all(change.text.replace("\r\n", "\n"))
                touched = 0
        if touched is not None:
            self.recent.add(uri, path_of(uri), history.lines, touched)

    @staticmethod
    def _column(history: DocumentHistory, line: int, character: int, encoding: str) -> int:
        if not 0 <= line < len(history.lines):
            return character if line >= len(history.lines) else 0
        return column_to_index(line_content(history.lines[line]), character, encoding)
