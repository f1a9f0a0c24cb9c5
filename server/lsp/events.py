"""didOpen / didChange / didSave / didClose, fanned out to every feature that listens.

pygls allows one handler per LSP method, and several features care about
document events (syntax diagnostics, hints, ...). This module registers the
four notifications once; features subscribe with :func:`on_document_event`.
The document store itself is updated before any listener runs (by
:mod:`codegen.server.lsp.protocol`). A failing listener is logged and the others
still run.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)

OPEN = types.TEXT_DOCUMENT_DID_OPEN
CHANGE = types.TEXT_DOCUMENT_DID_CHANGE
SAVE = types.TEXT_DOCUMENT_DID_SAVE
CLOSE = types.TEXT_DOCUMENT_DID_CLOSE
METHODS = (OPEN, CHANGE, SAVE, CLOSE)

Listener = Callable[[Any], Any]
_listeners: weakref.WeakKeyDictionary[Any, dict[str, list[Listener]]] = weakref.WeakKeyDictionary()


def on_document_event(server: CodegenServer, method: str, listener: Listener) -> None:
    """Call ``listener(params)`` (sync or async) on every ``method`` notification."""
    if method not in METHODS:
        raise ValueError(f"not a document event: {method}")
    _listeners.setdefault(server, {m: [] for m in METHODS})[method].append(listener)


def _dispatch(server: CodegenServer, method: str) -> Callable[[Any], Any]:
    async def handler(params: Any) -> None:
        for listener in list(_listeners.get(server, {}).get(method, [])):
            try:
                result = listener(params)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("%s listener %s failed", method, getattr(listener, "__name__", ""))

    handler.__name__ = f"on_{method.replace('/', '_')}"
    return handler
