"""textDocument/inlineCompletion: ghost-text suggestions (LSP 3.18).

Thin glue: params -> :meth:`Completer.complete` -> an ``InlineCompletionList``
whose range is in the client's position encoding.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lsprotocol import types

from ..acceptance_log import item_command
from ..completion.completer import Completion
from ..completion.should_complete import AUTOMATIC, INVOKED
from ..lsp.events import CHANGE, CLOSE
from ..lsp.guard import guarded

if TYPE_CHECKING:
    from ..session import CodegenServer


def empty_list() -> types.InlineCompletionList:
    return types.InlineCompletionList(items=[])


def trigger_of(kind: types.InlineCompletionTriggerKind | None) -> str:
    return INVOKED if kind == types.InlineCompletionTriggerKind.Invoked else AUTOMATIC


def completion_range(server: CodegenServer, uri: str, c: Completion) -> types.Range:
    """The LSP range from the cursor over the ``cover`` characters it replaces."""
    encoding = server.position_encoding
    doc = server.documents.get(uri)
    if doc is None:
        start_col = end_col = c.col
    else:
        start_col = doc.to_client_column(c.line, c.col, encoding)
        end_col = doc.to_client_column(c.line, c.col + c.cover, encoding)
    return types.Range(types.Position(c.line, start_col), types.Position(c.line, end_col))


def encoded_length(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def end_of_change(change: types.TextDocumentContentChangePartial, encoding: str) -> tuple[int, int]:
    """Where the cursor is after a change: the end of its inserted text."""
    start = change.range.start
    text = change.text
    if "\n" not in text:
        return start.line, start.character + encoded_length(text, encoding)
    return start.line + text.count("\n"), encoded_length(text.rsplit("\n", 1)[1], encoding)


def register(server: CodegenServer) -> None:
    # A closed document's typed-ahead state and snippet windows are no longer needed.
    server.events.subscribe(CLOSE, lambda params: server.completer.forget(params.text_document.uri))

    def changed(params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.completer.note_change(uri)
        if server.completer.options.prefill_after_ms > 0 and params.content_changes:
            last = params.content_changes[-1]
            if isinstance(last, types.TextDocumentContentChangePartial):
                line, character = end_of_change(last, server.position_encoding)
                server.completer.schedule_prefill(uri, line, character)

    server.events.subscribe(CHANGE, changed)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    @guarded(empty_list)
    async def inline_completion(params: types.InlineCompletionParams) -> types.InlineCompletionList:
        uri = params.text_document.uri
        trigger = trigger_of(params.context.trigger_kind)
        pos = params.position
        server.edits.visited(uri, pos.line)
        completion = await server.completer.complete(uri, pos.line, pos.character, trigger)
        if completion is None:
            return empty_list()
        candidates = [(completion.id, completion.text, completion.cover), *completion.alternatives]
        items = [
            types.InlineCompletionItem(
                insert_text=text,
                range=completion_range(server, uri, replace(completion, cover=cover)),
                command=item_command(sid) if server.acceptance.enabled else None,
            )
            for sid, text, cover in candidates
        ]
        return types.InlineCompletionList(items=items)
