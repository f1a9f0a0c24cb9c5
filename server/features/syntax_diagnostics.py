"""Syntax errors from tree-sitter as diagnostics (textDocument/publishDiagnostics).

No model: the document is parsed on open at once and on change after a
debounce (``hints.syntaxDebounceMs``, 300 ms by default), so a burst of
keystrokes costs one parse. Published through the shared
:class:`~codegen.server.lsp.diagnostics.DiagnosticsBoard`, whose other
channels (the model's hints) this never wipes; the same debounced publish
also sends those hints moved by the edit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from ..lsp.diagnostics import SOURCE, SYNTAX
from ..lsp.events import CHANGE, CLOSE, OPEN
from ..source_text import SourceText

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)

MAX_SYNTAX_DIAGNOSTICS = 20


def syntax_diagnostics(source: SourceText, encoding: str) -> list[types.Diagnostic]:
    """Tree-sitter's ERROR and MISSING nodes of ``source`` as Error diagnostics."""
    if source.language is None:
        return []
    from codegen.core.syntax import syntax_errors

    diagnostics = []
    for issue in syntax_errors(source.text, source.language)[:MAX_SYNTAX_DIAGNOSTICS]:
        start = source.position(issue.start_line, issue.start_col, encoding)
        end = source.position(issue.end_line, issue.end_col, encoding)
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(start, end),
                message=issue.message,
                severity=types.DiagnosticSeverity.Error,
                source=SOURCE,
                code="syntax",
            )
        )
    return diagnostics


class SyntaxChecker:
    """Parses documents on open and, debounced, on change."""

    def __init__(self, server: CodegenServer) -> None:
        self.server = server
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def check(self, uri: str) -> None:
        doc = self.server.documents.get(uri)
        if doc is None:
            return
        diagnostics: list[types.Diagnostic] = []
        if self.server.options.hints.syntax_errors:
            source = SourceText.from_text(uri, doc.text, doc.language_id, doc.version)
            encoding = self.server.position_encoding
            diagnostics = await asyncio.to_thread(syntax_diagnostics, source, encoding)
        if self.server.documents.get(uri) is doc:
            self.server.diagnostics.set(uri, SYNTAX, diagnostics)

    def schedule(self, uri: str, delay_s: float) -> None:
        """Check ``uri`` after ``delay_s``, replacing a check still waiting."""
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()

        async def later() -> None:
            await asyncio.sleep(delay_s)
            try:
                await self.check(uri)
            except Exception:
                log.exception("syntax check of %s failed", uri)
            finally:
                if self._pending.get(uri) is task:
                    del self._pending[uri]

        task = asyncio.ensure_future(later())
        self._pending[uri] = task

    def on_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.schedule(params.text_document.uri, 0.0)

    def on_change(self, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        board = self.server.diagnostics
        for change in params.content_changes:
            board.apply_change(uri, change)
        self.schedule(uri, self.server.options.hints.syntax_debounce_ms / 1000)

    def on_close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.server.diagnostics.clear(uri)


def register(server: CodegenServer) -> None:
    checker = SyntaxChecker(server)
    server.events.subscribe(OPEN, checker.on_open)
    server.events.subscribe(CHANGE, checker.on_change)
    server.events.subscribe(CLOSE, checker.on_close)
