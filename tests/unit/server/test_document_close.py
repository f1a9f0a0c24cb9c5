"""Closing a document drops the completer's per-document memory (no leak per file opened)."""

from __future__ import annotations

from lsprotocol import types

from codegen.server.app import create_server
from codegen.server.lsp.events import CLOSE


async def test_close_forgets_typed_ahead_state() -> None:
    server = create_server()
    uri = "file:///a.py"
    server.completer.typed.remember(uri, "def f():\n    ", "", "return 1", 0, "m")
    assert server.completer.typed.lookup(uri, "def f():\n    r", "", "m") is not None
    params = types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    for listener in server.events.listeners[CLOSE]:
        result = listener(params)
        if hasattr(result, "__await__"):
            await result
    assert server.completer.typed.lookup(uri, "def f():\n    r", "", "m") is None
