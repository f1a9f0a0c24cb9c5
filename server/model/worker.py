"""One model, one worker thread: a queue where newer work for a document wins.

Jobs run one at a time on a dedicated thread (the model is not re-entrant
and a GPU gains nothing from concurrent calls). Submitting a job for a
document supersedes that document's older jobs: a queued one is answered
with ``None`` at once and a running one has its :class:`CancelToken` set, so
the engine stops at its next decoding step. Results come back to the asyncio
loop as futures.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codegen.core.engine import CancelToken

log = logging.getLogger(__name__)


@dataclass
class Job:
    key: str | None
    """Jobs with the same key supersede each other (a document URI); None never does."""
    run: Callable[[CancelToken], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    token: CancelToken = field(default_factory=CancelToken)


class ModelWorker:
    """Runs callables that use the model on one background thread."""

    def __init__(self) -> None:
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition()
        self._running: Job | None = None
        self._stopped = False
        self.started = 0
        self.superseded = 0
        self._thread = threading.Thread(target=self._loop, name="codegen-model", daemon=True)
        self._thread.start()

    def submit(self, key: str | None, run: Callable[[CancelToken], Any]) -> Job:
        """Queue ``run(token)``; its result (or None when superseded) lands in ``job.future``."""
        loop = asyncio.get_running_loop()
        job = Job(key, run, loop.create_future(), loop)
        with self._cond:
            if key is not None:
                self._supersede(key)
            self._queue.append(job)
            self._cond.notify()
        return job

    def cancel(self, job: Job) -> None:
        """Stop ``job``: drop it if queued, set its token if running."""
        job.token.cancel()
        with self._cond:
            if job in self._queue:
                self._queue.remove(job)
                self._resolve(job, None)

    def _supersede(self, key: str) -> None:
        for old in [j for j in self._queue if j.key == key]:
            self._queue.remove(old)
            old.token.cancel()
            self.superseded += 1
            self._resolve(old, None)
        if self._running is not None and self._running.key == key:
            self._running.token.cancel()
            self.superseded += 1

    @staticmethod
    def _resolve(job: Job, result: Any, error: BaseException | None = None) -> None:
        def settle() -> None:
            if job.future.done():
                return
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)

        try:
            job.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                job = self._queue.popleft()
                self._running = job
            try:
                if job.token.cancelled:
                    result: Any = None
                else:
                    self.started += 1
                    result = job.run(job.token)
                self._resolve(job, result)
            except BaseException as err:  # handed to the awaiting request
                log.exception("model job failed")
                self._resolve(job, None, err)
            finally:
                with self._cond:
                    self._running = None

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            for job in self._queue:
                job.token.cancel()
                self._resolve(job, None)
            self._queue.clear()
            if self._running is not None:
                self._running.token.cancel()
            self._cond.notify_all()
