"""Document synchronisation (didOpen / didChange / didClose) into the document store.

Incremental changes are applied with the negotiated position encoding;
changes for unknown documents are ignored and out-of-range positions are
clamped, so a confused client can never crash the server.
"""

from __future__ import annotations

import logging

from lsprotocol import types

from .documents import DocumentStore

log = logging.getLogger(__name__)


def did_open(store: DocumentStore, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    store.open(doc.uri, doc.language_id, doc.version, doc.text)


def did_change(
    store: DocumentStore, params: types.DidChangeTextDocumentParams, encoding: str
) -> None:
    doc = store.get(params.text_document.uri)
    if doc is None:
        log.warning("didChange for a document that is not open: %s", params.text_document.uri)
        return
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start = doc.clamp(change.range.start.line, change.range.start.character, encoding)
            end = doc.clamp(change.range.end.line, change.range.end.character, encoding)
            doc.apply_change(start, end, change.text)
        else:
            doc.set_text(change.text)
    doc.version = params.text_document.version


def did_close(store: DocumentStore, params: types.DidCloseTextDocumentParams) -> None:
    store.close(params.text_document.uri)
