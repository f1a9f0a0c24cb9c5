"""Registers textDocument/codeAction and codeAction/resolve once, for every provider
and resolver that features add to the server's hub (``server.actions``,
:mod:`..lsp.code_actions`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from ..lsp.code_actions import DATA_KEY, KINDS, kind_allowed
from ..lsp.guard import guarded

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)


def register(server: CodegenServer) -> None:
    hub = server.actions
    options = types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    @guarded(list)
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        only = [str(getattr(k, "value", k)) for k in params.context.only or []]
        actions: list[types.CodeAction] = []
        for provider in list(hub.providers):
            try:
                found = await provider(params)
            except Exception:
                log.exception("code action provider %s failed", provider.__qualname__)
                continue
            actions.extend(
                a for a in found if kind_allowed(str(getattr(a.kind, "value", a.kind)), only)
            )
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        resolver = hub.resolvers.get(str(data.get(DATA_KEY)))
        if resolver is None:
            return action
        try:
            return await resolver(action)
        except Exception:
            log.exception("resolving code action %r failed", action.title)
            return action
