"""Registers didOpen / didChange / didSave / didClose once and fans them out to the
listeners that features subscribe with ``server.events.subscribe``
(:class:`..lsp.events.DocumentEvents`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..lsp.events import CHANGE, CLOSE, OPEN, SAVE

if TYPE_CHECKING:
    from ..session import CodegenServer


def register(server: CodegenServer) -> None:
    for method in (OPEN, CHANGE, CLOSE):
        server.feature(method)(server.events.handler(method))
    # Advertised as textDocumentSync.save; the text is not needed (the store has it).
    server.feature(SAVE, types.SaveOptions(include_text=False))(server.events.handler(SAVE))
