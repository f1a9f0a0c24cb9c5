"""workspace/executeCommand: one handler signature and one way to read its arguments.

Every command handler is ``def handler(*args: Any)`` or ``async def handler(*args:
Any)``: :class:`~codegen.server.lsp.protocol.CodegenProtocol` passes the
request's ``arguments`` to it positionally, as they came off the wire (JSON
values, unconverted), inside the request's own task so that ``$/cancelRequest``
cancels it. Handlers read their arguments with :func:`command_arg` (one typed
argument, None when missing or of the wrong type) or :func:`command_args` (all
of them), which also accept the arguments wrapped in one list (pygls 1 called
handlers that way; some clients still send ``[[...]]``), so a client's mistake
gets the command's own error answer, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")

CommandArgs = Sequence[Any]
"""What a command handler receives: the request's ``arguments``, in order."""


def command_args(args: CommandArgs) -> list[Any]:
    """The command's arguments as a list (one list argument is unwrapped)."""
    if len(args) == 1 and isinstance(args[0], list):
        return list(args[0])
    return list(args)


def command_arg(args: CommandArgs, index: int, kind: type[T]) -> T | None:
    """Argument ``index`` when it is a ``kind`` (``bool`` is not an ``int`` here), else None."""
    values = command_args(args)
    if not 0 <= index < len(values):
        return None
    value = values[index]
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) else None
