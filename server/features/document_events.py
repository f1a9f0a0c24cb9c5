"""Registers didOpen / didChange / didSave / didClose once and fans them out to the
listeners that features subscribe with :func:`..lsp.events.on_document_event`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..lsp.events import CHANGE, CLOSE, METHODS, OPEN, SAVE, _dispatch, _listeners

if TYPE_CHECKING:
    from ..session import CodegenServer


def register(server: CodegenServer) -> None:
    _listeners.setdefault(server, {m: [] for m in METHODS})
    for method in (OPEN, CHANGE, CLOSE):
        server.feature(method)(_dispatch(server, method))
    # Advertised as textDocumentSync.save; the text is not needed (the store has it).
    server.feature(SAVE, types.SaveOptions(include_text=False))(_dispatch(server, SAVE))
