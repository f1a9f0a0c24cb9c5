"""textDocument/codeAction and codeAction/resolve, shared by every feature that offers actions.

pygls allows one handler per method, so features add *providers* (params ->
actions) and *resolvers* (an action whose ``data`` names them -> the action
with its edit) here. Providers run in order; one that fails is logged and
skipped. ``context.only`` is honoured for every provider. Actions never apply
anything themselves: the client applies an action's edit when the user picks it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)

DATA_KEY = "codegen"
"""``action.data[DATA_KEY]`` names the resolver of a lazily resolved action."""
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]

Provider = Callable[[types.CodeActionParams], Awaitable[list[types.CodeAction]]]
Resolver = Callable[[types.CodeAction], Awaitable[types.CodeAction]]


@dataclass
class CodeActionHub:
    """The server's providers (in order) and resolvers (by name); one per server."""

    providers: list[Provider] = field(default_factory=list)
    resolvers: dict[str, Resolver] = field(default_factory=dict)

    def add_provider(self, provider: Provider) -> None:
        self.providers.append(provider)

    def add_resolver(self, name: str, resolver: Resolver) -> None:
        self.resolvers[name] = resolver


def kind_allowed(kind: str | None, only: list[str] | None) -> bool:
    """LSP kinds are hierarchical: ``refactor`` admits ``refactor.rewrite``."""
    if not only:
        return True
    if kind is None:
        return False
    return any(kind == want or kind.startswith(f"{want}.") for want in only)


def client_resolves_edits(server: LanguageServer) -> bool:
    """Whether the client fills in an action's ``edit`` through codeAction/resolve."""
    try:
        support = server.client_capabilities.text_document.code_action.resolve_support  # type: ignore[union-attr]
    except AttributeError:
        return False
    return bool(support and "edit" in support.properties)


def is_invoked(params: types.CodeActionParams) -> bool:
    """The user asked for actions (Ctrl+., a menu) rather than the editor polling for them."""
    return params.context.trigger_kind != types.CodeActionTriggerKind.Automatic
