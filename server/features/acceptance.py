"""Acceptance events from the client into the acceptance log (see :mod:`..acceptance_log`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..acceptance_log import ACCEPT_COMMAND, EVENTS
from ..lsp.commands import command_arg
from ..lsp.guard import guarded

if TYPE_CHECKING:
    from ..session import CodegenServer


def _id_from(params: Any) -> str | None:
    value = params.get("id") if isinstance(params, dict) else getattr(params, "id", None)
    return value if isinstance(value, str) else None


def register(server: CodegenServer) -> None:
    for method, event in EVENTS.items():

        def handler(params: Any, event: str = event) -> None:
            suggestion_id = _id_from(params)
            if suggestion_id is not None:
                server.acceptance.record(event, suggestion_id)

        server.feature(method)(guarded()(handler))

    @server.command(ACCEPT_COMMAND)
    @guarded(lambda: False)
    def accept(*args: Any) -> bool:
        suggestion_id = command_arg(args, 0, str)
        return suggestion_id is not None and server.acceptance.record("accepted", suggestion_id)
