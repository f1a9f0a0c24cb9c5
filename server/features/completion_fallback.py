"""textDocument/completion fallback: the same suggestion as one completion item.

For clients without inline completion. Off by default (``completion.fallback``);
the capability is always advertised so that turning it on needs no restart,
and while off the answer is an empty list at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..completion.should_complete import INVOKED
from ..lsp.guard import guarded
from .inline_completion import completion_range

if TYPE_CHECKING:
    from ..session import CodegenServer

LABEL_CHARS = 60


def empty_list() -> types.CompletionList:
    return types.CompletionList(is_incomplete=False, items=[])


def label_for(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= LABEL_CHARS else first[: LABEL_CHARS - 1] + "…"


def register(server: CodegenServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    @guarded(empty_list)
    async def completion(params: types.CompletionParams) -> types.CompletionList:
        if not server.options.completion.fallback:
            return empty_list()
        uri, pos = params.text_document.uri, params.position
        found = await server.completer.complete(uri, pos.line, pos.character, INVOKED)
        if found is None:
            return empty_list()
        edit = types.TextEdit(completion_range(server, uri, found), found.text)
        item = types.CompletionItem(
            label=label_for(found.text),
            kind=types.CompletionItemKind.Snippet,
            detail="codegen",
            documentation=found.text,
            insert_text_format=types.InsertTextFormat.PlainText,
            text_edit=edit,
            filter_text="",
            sort_text="0",
            preselect=True,
        )
        return types.CompletionList(is_incomplete=True, items=[item])
