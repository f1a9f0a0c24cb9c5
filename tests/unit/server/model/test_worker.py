"""One worker thread: supersession by document, cancellation mid-way."""

from __future__ import annotations

import asyncio
import time

from codegen.server.model.worker import ModelWorker


def slow(log: list[str], name: str, steps: int = 50):
    def run(token):
        log.append(f"start {name}")
        for _ in range(steps):
            if token.cancelled:
                log.append(f"cancelled {name}")
                return None
            time.sleep(0.005)
        log.append(f"done {name}")
        return name

    return run


async def test_newer_job_for_same_document_supersedes():
    worker = ModelWorker()
    log: list[str] = []
    first = worker.submit("doc", slow(log, "a"))
    await asyncio.sleep(0.03)  # a is running
    second = worker.submit("doc", slow(log, "b"))
    third = worker.submit("doc", slow(log, "c", 1))  # b is still queued: dropped at once
    assert await first.future is None
    assert await second.future is None
    assert await third.future == "c"
    assert "cancelled a" in log and "start b" not in log
    worker.stop()


async def test_other_documents_are_not_superseded_and_cancel_stops():
    worker = ModelWorker()
    log: list[str] = []
    a = worker.submit("one", slow(log, "a", 4))
    b = worker.submit("two", slow(log, "b", 400))
    assert await a.future == "a"
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    worker.cancel(b)
    assert await b.future is None
    assert time.perf_counter() - started < 0.5
    assert "cancelled b" in log
    worker.stop()


async def test_errors_reach_the_caller_and_worker_survives():
    worker = ModelWorker()

    def boom(token):
        raise ValueError("bad")

    job = worker.submit(None, boom)
    try:
        await job.future
    except ValueError as err:
        assert str(err) == "bad"
    else:
        raise AssertionError("expected the error")
    assert await worker.submit(None, lambda token: 7).future == 7
    worker.stop()
