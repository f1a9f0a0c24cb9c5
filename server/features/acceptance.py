"""Acceptance events from the client into the acceptance log, and the retention checks.

Copilot's shapes: ``textDocument/didShowCompletion`` ``{item}`` and
``textDocument/didPartiallyAcceptCompletion`` ``{item, acceptedLength}`` (UTF-16 code
units of the item's ``insertText``, as Copilot counts), where ``item`` is the inline
completion item the server sent; its command's first argument is the suggestion id. The
accept command (``codegen.acceptCompletion``, attached to every item) logs an accept.
Aliases: ``codegen/didShowCompletion``, ``codegen/didAcceptCompletion``,
``codegen/didPartiallyAcceptCompletion`` and ``codegen/didRejectCompletion`` with
``{"id", "acceptedLength"?}``.
Accepts start the retention checks of :mod:`..retention`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codegen.core.usage_log import ACCEPTED, PARTIAL, SHOWN

from ..acceptance_log import (
    ACCEPT_COMMAND,
    COPILOT_PARTIAL,
    COPILOT_SHOWN,
    ERASE_COMMAND,
    EVENTS,
)
from ..lsp.commands import command_arg
from ..lsp.events import CHANGE, CLOSE
from ..lsp.guard import guarded

if TYPE_CHECKING:
    from ..session import CodegenServer


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def id_of(params: Any) -> str | None:
    """The suggestion id of an event: ``params.id``, or the first argument of the item's
    accept command (Copilot's shape)."""
    value = _get(params, "id")
    if isinstance(value, str):
        return value
    command = _get(_get(params, "item"), "command")
    args = _get(command, "arguments")
    if isinstance(args, (list, tuple)) and args and isinstance(args[0], str):
        return args[0]
    return None


def code_points(text: str, utf16_units: int) -> int:
    """How many code points of ``text`` the first ``utf16_units`` UTF-16 units cover."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > utf16_units:
            return i
    return len(text)


def register(server: CodegenServer) -> None:
    checks = server.retention
    server.events.subscribe(CHANGE, checks.on_change)
    server.events.subscribe(CLOSE, checks.on_close)

    def taken(suggestion_id: str, units: int | None) -> bool:
        """Log an accept (``units`` None) or a partial accept of ``units`` UTF-16 units."""
        offered = server.acceptance.suggestion(suggestion_id)
        if offered is None:
            server.acceptance.record(ACCEPTED, suggestion_id)  # logs the unknown id
            return False
        # Counted on the text with "\n" line breaks: editors count a line break as one
        # unit whatever the document's line endings.
        text = str(offered.get("text", ""))
        if units is None or units >= len(text.encode("utf-16-le")) // 2:
            row = server.acceptance.record(ACCEPTED, suggestion_id)
            accepted = text
        else:
            part = text[: code_points(text, units)]
            row = server.acceptance.record(PARTIAL, suggestion_id, accepted_chars=len(part))
            accepted = part
        if row is not None:
            checks.start(row, accepted)
        return row is not None

    for method, event in EVENTS.items():

        def handler(params: Any, event: str = event) -> None:
            suggestion_id = id_of(params)
            if suggestion_id is None:
                return
            if event == ACCEPTED:
                taken(suggestion_id, None)
            elif event == PARTIAL:
                units = _get(params, "acceptedLength")
                if isinstance(units, int) and not isinstance(units, bool) and units > 0:
                    taken(suggestion_id, units)
            else:
                server.acceptance.record(event, suggestion_id)

        server.feature(method)(guarded()(handler))

    @server.feature(COPILOT_SHOWN)
    @guarded()
    def did_show(params: Any) -> None:
        suggestion_id = id_of(params)
        if suggestion_id is not None:
            server.acceptance.record(SHOWN, suggestion_id)

    @server.feature(COPILOT_PARTIAL)
    @guarded()
    def did_partially_accept(params: Any) -> None:
        suggestion_id = id_of(params)
        units = _get(params, "acceptedLength")
        if suggestion_id is None or not isinstance(units, int) or isinstance(units, bool):
            return
        if units > 0:
            taken(suggestion_id, units)

    @server.command(ACCEPT_COMMAND)
    @guarded(lambda: False)
    def accept(*args: Any) -> bool:
        suggestion_id = command_arg(args, 0, str)
        return suggestion_id is not None and taken(suggestion_id, None)

    @server.command(ERASE_COMMAND)
    @guarded(lambda: None)
    def erase(*args: Any) -> dict[str, Any]:
        for sid in list(checks.watches):
            checks.cancel(sid)
        removed = server.acceptance.erase()
        server.show(
            f"acceptance log erased ({len(removed)} file{'s' if len(removed) != 1 else ''})",
            types.MessageType.Info,
        )
        return {"removed": [str(p) for p in removed]}
