"""Run model work on the one model worker, cancelled with the request that awaits it.

Every model call (completions, commands, hints, docstrings) goes through
:func:`run_model_job` on the server's one :class:`~.worker.ModelWorker`, so it
queues behind (and is superseded like) completions. Keys are prefixed per feature
(``hints:<uri>``, ``docstring:<uri>``...) so that typing, which supersedes the
document's completion job, never cancels a file check, while a newer check of
the same file does. Cancelling the awaiting request stops the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from codegen.core.engine import CancelToken, Engine

from .host import EngineHost
from .worker import ModelWorker

T = TypeVar("T")


class EngineUser(Protocol):
    """What :func:`ready_engine` reads from the server."""

    @property
    def host(self) -> EngineHost: ...

    @property
    def enabled(self) -> bool: ...


def ready_engine(server: EngineUser) -> Engine | None:
    """The loaded engine, or None while it loads (or when it failed, or is switched off)."""
    return server.host.engine if server.host.ready and server.enabled else None


async def run_model_job(
    worker: ModelWorker, key: str | None, work: Callable[[CancelToken], T]
) -> T | None:
    """``work(token)`` on the model worker; None when a newer job with ``key`` superseded it.

    The one way to run model work: if the awaiting request is cancelled
    (``$/cancelRequest``), the job is cancelled too (dropped if still queued,
    its token set if running) and :class:`asyncio.CancelledError` propagates.
    """
    job = worker.submit(key, work)
    try:
        result: Any = await job.future
    except asyncio.CancelledError:
        worker.cancel(job)
        raise
    return result  # type: ignore[no-any-return]
