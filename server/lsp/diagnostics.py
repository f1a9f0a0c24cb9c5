"""One set of diagnostics per document, merged from independent channels.

``textDocument/publishDiagnostics`` replaces everything the client holds for
a document, so syntax errors (on change), surprise hints (on save) and
traceback hints (on command) are kept apart here and always published
together: updating one channel never wipes another.

When the document changes, hints below the edit move with their code and
hints on edited lines are dropped (their code is gone); :func:`shift_for_change`
is the pure rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import attrs
from lsprotocol import types

from .documents import DocumentStore

SOURCE = "codegen"
SYNTAX, HINTS, TRACEBACK = "syntax", "hints", "traceback"


def shift_for_change(
    diagnostics: Sequence[types.Diagnostic], start_line: int, end_line: int, new_text: str
) -> list[types.Diagnostic]:
    """The diagnostics after lines ``start_line..end_line`` became ``new_text``."""
    delta = new_text.count("\n") - (end_line - start_line)
    kept: list[types.Diagnostic] = []
    for diag in diagnostics:
        first, last = diag.range.start.line, diag.range.end.line
        if last < start_line:
            kept.append(diag)
        elif first > end_line:
            moved = types.Range(
                types.Position(first + delta, diag.range.start.character),
                types.Position(last + delta, diag.range.end.character),
            )
            kept.append(attrs.evolve(diag, range=moved))
    return kept


class Publisher(Protocol):
    """What the board needs from the server: the open documents and a way to publish."""

    @property
    def documents(self) -> DocumentStore: ...

    def text_document_publish_diagnostics(self, params: types.PublishDiagnosticsParams) -> None: ...


class DiagnosticsBoard:
    """Diagnostics by document and channel; :meth:`publish` sends their union.

    One per server (``server.diagnostics``).
    """

    def __init__(self, server: Publisher) -> None:
        self.server = server
        self._by_uri: dict[str, dict[str, list[types.Diagnostic]]] = {}

    def get(self, uri: str, channel: str | None = None) -> list[types.Diagnostic]:
        channels = self._by_uri.get(uri, {})
        if channel is not None:
            return list(channels.get(channel, []))
        return [d for diags in channels.values() for d in diags]

    def set(self, uri: str, channel: str, diagnostics: Sequence[types.Diagnostic]) -> None:
        """Replace one channel of ``uri`` and publish the merged set."""
        self._by_uri.setdefault(uri, {})[channel] = list(diagnostics)
        self.publish(uri)

    def apply_change(self, uri: str, change: Any) -> None:
        """Move or drop the model's hints for one content change (not published)."""
        channels = self._by_uri.get(uri)
        if not channels:
            return
        if not isinstance(change, types.TextDocumentContentChangePartial):
            for channel in (HINTS, TRACEBACK):
                channels.pop(channel, None)
            return
        start, end = change.range.start.line, change.range.end.line
        for channel in (HINTS, TRACEBACK):
            if channel in channels:
                channels[channel] = shift_for_change(channels[channel], start, end, change.text)

    def clear(self, uri: str) -> None:
        if self._by_uri.pop(uri, None) is not None:
            self.publish(uri)

    def publish(self, uri: str) -> None:
        doc = self.server.documents.get(uri)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=self.get(uri), version=doc.version if doc else None
            )
        )
