"""Run model work for the hint and docstring features on the one model worker.

Every model call goes through :attr:`CodegenServer.worker`, so it queues
behind (and is superseded like) completions. Keys are prefixed per feature
(``hints:<uri>``, ``docstring:<uri>``...) so that typing, which supersedes the
document's completion job, never cancels a file check, while a newer check of
the same file does. Cancelling the awaiting request stops the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from codegen.core.engine import CancelToken, Engine

if TYPE_CHECKING:
    from ..session import CodegenServer

T = TypeVar("T")


def ready_engine(server: CodegenServer) -> Engine | None:
    """The loaded engine, or None while it loads (or when it failed)."""
    return server.host.engine if server.host.ready and server.enabled else None


async def run_model_job(
    server: CodegenServer, key: str | None, work: Callable[[CancelToken], T]
) -> T | None:
    """``work(token)`` on the model worker; None when a newer job with ``key`` superseded it."""
    job = server.worker.submit(key, work)
    try:
        result: Any = await job.future
    except asyncio.CancelledError:
        server.worker.cancel(job)
        raise
    return result  # type: ignore[no-any-return]
