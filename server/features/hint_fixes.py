"""Quick fixes carried by the server's own hint diagnostics.

A surprise hint or a traceback hint is published with its fix in
``Diagnostic.data`` (replacement text, the text it expects to replace, the
title). When the client asks for code actions, each such diagnostic in
``CodeActionContext.diagnostics`` (and, for clients that do not echo
``data``, each hint of the server's own board under the cursor) becomes a
``quickfix`` whose edit replaces the diagnostic's range, offered only while
that range still holds the expected text. Nothing is applied unless the user
picks the action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..lsp.code_actions import DATA_KEY
from ..lsp.diagnostics import HINTS, TRACEBACK
from ..source_text import SourceText, source_of

if TYPE_CHECKING:
    from ..session import CodegenServer

FIX = "fix"


def fix_data(new_text: str, expect: str, title: str) -> dict[str, Any]:
    """``Diagnostic.data`` for a fix (``\\n`` line endings in both texts)."""
    return {DATA_KEY: FIX, "newText": new_text, "expect": expect, "title": title}


def fix_of(diagnostic: types.Diagnostic) -> dict[str, Any] | None:
    data = diagnostic.data
    if (
        isinstance(data, dict)
        and data.get(DATA_KEY) == FIX
        and isinstance(data.get("newText"), str)
    ):
        return data
    return None


def _overlaps(a: types.Range, b: types.Range) -> bool:
    start_a, end_a = (a.start.line, a.start.character), (a.end.line, a.end.character)
    start_b, end_b = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return start_a <= end_b and start_b <= end_a


def fix_action(
    source: SourceText, diagnostic: types.Diagnostic, data: dict[str, Any], encoding: str
) -> types.CodeAction | None:
    """The quick fix for ``diagnostic``, or None when its code has changed since."""
    start = source.offset_at(diagnostic.range.start, encoding)
    end = source.offset_at(diagnostic.range.end, encoding)
    if source.text[start:end] != data.get("expect"):
        return None
    edit = types.TextEdit(diagnostic.range, source.to_document(str(data["newText"])))
    return types.CodeAction(
        title=str(data.get("title") or "codegen: apply the suggested fix"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={source.uri: [edit]}),
    )


def register(server: CodegenServer) -> None:
    async def provide(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        candidates = [d for d in params.context.diagnostics if fix_of(d) is not None]
        seen = {(d.range.start.line, d.range.start.character, d.message) for d in candidates}
        board = server.diagnostics
        for diag in board.get(uri, HINTS) + board.get(uri, TRACEBACK):
            key = (diag.range.start.line, diag.range.start.character, diag.message)
            if key not in seen and _overlaps(diag.range, params.range):
                candidates.append(diag)
                seen.add(key)
        if not candidates:
            return []
        source = source_of(server, uri)
        if source is None:
            return []
        actions = []
        for diag in candidates:
            data = fix_of(diag)
            action = fix_action(source, diag, data, server.position_encoding) if data else None
            if action is not None:
                actions.append(action)
        return actions

    server.actions.add_provider(provide)
