"""Model jobs follow their request: cancelling the request cancels the job."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from codegen.server.app import create_server
from codegen.server.features.commands import SELECT_ADAPTER
from codegen.server.model.host import READY
from codegen.server.model.jobs import run_model_job
from codegen.server.model.worker import ModelWorker


def steps(log: list[str], count: int = 400):
    def run(token):
        log.append("start")
        for _ in range(count):
            if token.cancelled:
                log.append("cancelled")
                return None
            time.sleep(0.005)
        log.append("done")
        return "finished"

    return run


def blocker(gate: threading.Event):
    def run(token):
        gate.wait(10)

    return run


async def test_cancelling_the_awaiting_task_stops_the_running_job():
    worker = ModelWorker()
    log: list[str] = []
    task = asyncio.ensure_future(run_model_job(worker, "doc", steps(log)))
    await asyncio.sleep(0.05)
    assert log == ["start"]
    task.cancel()
    started = time.perf_counter()
    # the next job runs as soon as the cancelled one noticed its token
    assert await run_model_job(worker, None, lambda token: 7) == 7
    assert time.perf_counter() - started < 1.0
    assert log == ["start", "cancelled"] and task.cancelled()
    worker.stop()


async def test_a_cancelled_queued_job_never_runs():
    worker = ModelWorker()
    gate = threading.Event()
    log: list[str] = []
    worker.submit(None, blocker(gate))
    task = asyncio.ensure_future(run_model_job(worker, "doc", steps(log, 1)))
    await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.sleep(0.02)
    gate.set()
    assert await run_model_job(worker, None, lambda token: 7) == 7
    assert log == [] and task.cancelled()
    worker.stop()


class AdapterEngine:
    """Just enough of an engine with adapters to see whether a switch ran."""

    def __init__(self) -> None:
        self.loaded: list[str] = []

    def load_adapter(self, path: str) -> str:
        self.loaded.append(path)
        return "adapter"

    def set_adapter(self, name: str | None) -> None:
        pass


class Wire:
    """A writer that keeps every message the server sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data))

    def close(self) -> None:
        pass


async def test_a_cancelled_command_request_cancels_its_job():
    server = create_server()
    engine = AdapterEngine()
    server.host.engine, server.host.state = engine, READY  # type: ignore[assignment]
    wire = Wire()
    server.protocol.set_writer(wire, include_headers=False)

    def receive(message: dict[str, Any]) -> None:
        data = {"jsonrpc": "2.0", **message}
        server.protocol.handle_message(server.protocol.structure_message(data))

    gate = threading.Event()
    server.worker.submit(None, blocker(gate))  # the model is busy: the switch waits its turn
    try:
        command = {"command": SELECT_ADAPTER, "arguments": ["/adapters/a"]}
        receive({"id": 1, "method": "workspace/executeCommand", "params": command})
        await asyncio.sleep(0.05)
        receive({"method": "$/cancelRequest", "params": {"id": 1}})
        await asyncio.sleep(0.05)
    finally:
        gate.set()
    assert await run_model_job(server.worker, None, lambda token: 7) == 7  # queue drained
    (reply,) = [m for m in wire.sent if m.get("id") == 1]
    assert reply["error"]["code"] == -32800  # RequestCancelled
    assert engine.loaded == []  # the cancelled switch never ran

    # the same command, not cancelled, does switch
    receive({"id": 2, "method": "workspace/executeCommand", "params": command})
    for _ in range(100):
        if any(m.get("id") == 2 for m in wire.sent):
            break
        await asyncio.sleep(0.01)
    (reply,) = [m for m in wire.sent if m.get("id") == 2]
    assert reply["result"] == {"ok": True, "adapter": "adapter"}
    assert engine.loaded == ["/adapters/a"]
    server.worker.stop()
