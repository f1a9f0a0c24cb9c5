"""A minimal JSON-RPC client over the server's stdin/stdout, for wire-level tests.

pytest-lsp's client only sends well-formed, typed messages; these tests also
need malformed bytes, invalid params and hand-made ``$/cancelRequest``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from typing import Any

SERVER = [sys.executable, "-m", "codegen.server.cli"]


class RawServer:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.ids = itertools.count(1)
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.errors_without_id: list[dict[str, Any]] = []
        self._waiters: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str) -> RawServer:
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    def write_bytes(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, message: dict[str, Any]) -> None:
        self.write_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def request_id(self, method: str, params: Any = None) -> int:
        msg_id = next(self.ids)
        message: dict[str, Any] = {"id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    async def response(self, msg_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        if msg_id not in self.responses:
            fut = self._waiters.setdefault(msg_id, asyncio.get_running_loop().create_future())
            await asyncio.wait_for(fut, timeout)
        return self.responses[msg_id]

    async def request(self, method: str, params: Any = None, timeout: float = 20.0) -> dict:
        return await self.response(self.request_id(method, params), timeout)

    async def initialize(self, **init: Any) -> dict[str, Any]:
        caps = {"window": {"workDoneProgress": True}}
        result = await self.request("initialize", {"processId": None, "capabilities": caps, **init})
        self.notify("initialized", {})
        for _ in range(400):
            status = await self.request("workspace/executeCommand", {"command": "codegen.status"})
            if status["result"]["state"] == "ready":
                break
            await asyncio.sleep(0.05)
        return result

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = await out.readuntil(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await out.readexactly(length))
            if "method" in message and "id" in message:  # a request from the server
                self.send({"id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)
            elif message.get("id") is None:
                self.errors_without_id.append(message)
            else:
                self.responses[message.get("id")] = message
                fut = self._waiters.pop(message.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(message)

    async def close(self) -> int:
        try:
            await self.request("shutdown", timeout=5)
            self.notify("exit")
            return await asyncio.wait_for(self.proc.wait(), 10)
        finally:
            self._reader.cancel()
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
