"""workspace/didChangeConfiguration: re-read the ``codegen`` settings section.

Push-style clients send the settings in the notification; pull-style ones
(``settings: null``) are asked with ``workspace/configuration``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..lsp.guard import guarded
from .lifecycle import apply_options

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)
SECTION = "codegen"


def _client_pulls(server: CodegenServer) -> bool:
    workspace = getattr(server.client_capabilities, "workspace", None)
    return bool(workspace and workspace.configuration)


def register(server: CodegenServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded()
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        settings: Any = params.settings
        if isinstance(settings, dict) and SECTION in settings:
            apply_options(server, settings[SECTION], reload=True)
            return
        if _client_pulls(server):
            item = types.ConfigurationItem(section=SECTION)
            result = await server.workspace_configuration_async(
                types.ConfigurationParams(items=[item])
            )
            if result:
                apply_options(server, result[0], reload=True)
