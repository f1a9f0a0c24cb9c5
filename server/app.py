"""The server factory: the feature list and :func:`create_server`.

To add a feature, write a module in ``features/`` with ``register(server)`` and
append it to :data:`FEATURES`; handlers stay thin and call pure functions.
"""

from __future__ import annotations

from collections.abc import Callable

from .features import (
    acceptance,
    code_actions,
    commands,
    completion_fallback,
    configuration,
    docstrings,
    document_events,
    explain,
    hint_fixes,
    hints,
    inline_completion,
    lifecycle,
    next_edit,
    syntax_diagnostics,
)
from .model.host import FakeSettings
from .options import Options
from .session import CodegenServer

Feature = Callable[[CodegenServer], None]

FEATURES: list[Feature] = [
    lifecycle.register,
    configuration.register,
    inline_completion.register,
    next_edit.register,
    completion_fallback.register,
    commands.register,
    acceptance.register,
    document_events.register,
    code_actions.register,
    syntax_diagnostics.register,
    hints.register,
    hint_fixes.register,
    explain.register,
    docstrings.register,
]


def create_server(
    defaults: Options | None = None, fake: FakeSettings | None = None
) -> CodegenServer:
    """A ready-to-start server with every feature in :data:`FEATURES` registered."""
    server = CodegenServer(defaults or Options(), fake)
    for register in FEATURES:
        register(server)
    return server
