"""Bad input on the wire never crashes the server; every request gets an answer."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

from .raw_client import SERVER, RawServer

DOC = "file:///w.py"


def inline_params(line: int, character: int, kind: int = 1, uri: str = DOC) -> dict:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": kind},
    }


async def open_server(*args: str) -> RawServer:
    server = await RawServer.start("--model", "fake:return x\\n", *args)
    await server.initialize()
    server.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": DOC,
                "languageId": "python",
                "version": 1,
                "text": "def f(x):\n    \n",
            }
        },
    )
    return server


async def assert_still_works(server: RawServer) -> None:
    reply = await server.request("textDocument/inlineCompletion", inline_params(1, 4))
    assert reply["result"]["items"][0]["insertText"] == "return x"


async def test_malformed_json_gets_parse_error_and_server_continues():
    server = await open_server()
    server.write_bytes(b'{"jsonrpc": "2.0", "id": 99, "method": ')
    server.write_bytes(b"\xff\xfe not utf-8")
    await asyncio.sleep(0.3)
    codes = [e["error"]["code"] for e in server.errors_without_id]
    assert codes == [-32700, -32700]
    server.write_bytes(b"[1, 2, 3]")
    server.write_bytes(b'{"id": 5, "method": "x"}')
    reply = await server.response(5)
    assert reply["error"]["code"] == -32600
    assert [e["error"]["code"] for e in server.errors_without_id][2:] == [-32600]
    await assert_still_works(server)
    assert await server.close() == 0


async def test_invalid_and_missing_params_get_invalid_params():
    server = await open_server()
    cases = [
        inline_params(-1, 0),  # negative line
        {"textDocument": {"uri": DOC}},  # no position, no context
        {"textDocument": {"uri": DOC}, "position": {"line": "x", "character": 0}},
        None,  # no params at all
    ]
    for params in cases:
        reply = await server.request("textDocument/inlineCompletion", params)
        assert reply["error"]["code"] == -32602, reply
    await assert_still_works(server)
    await server.close()


async def test_unknown_uri_out_of_range_unknown_method_and_command():
    server = await open_server()
    reply = await server.request(
        "textDocument/inlineCompletion", inline_params(0, 0, uri="file:///nope.py")
    )
    assert reply["result"] == {"items": []}
    reply = await server.request("textDocument/inlineCompletion", inline_params(500, 900))
    assert "result" in reply
    reply = await server.request("codegen/noSuchMethod", {})
    assert reply["error"]["code"] == -32601
    reply = await server.request("workspace/executeCommand", {"command": "codegen.nope"})
    assert reply["error"]["code"] == -32602
    server.notify("codegen/noSuchNotification", {"a": 1})
    server.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": "file:///nope.py", "version": 2},
            "contentChanges": [{"text": "x"}],
        },
    )
    await assert_still_works(server)
    await server.close()


async def test_cancel_request_stops_generation_mid_way():
    # 8 tokens x 400 ms: a full generation would take 3.2 s
    server = await open_server("--fake-delay-ms", "400")
    loop = asyncio.get_running_loop()
    started = loop.time()
    msg_id = server.request_id("textDocument/inlineCompletion", inline_params(1, 4))
    await asyncio.sleep(0.5)
    server.notify("$/cancelRequest", {"id": msg_id})
    reply = await server.response(msg_id)
    assert reply["error"]["code"] == -32800
    assert loop.time() - started < 2.0
    status = await server.request("workspace/executeCommand", {"command": "codegen.status"})
    counters = status["result"]["latency"]["counters"]
    assert counters.get("cancelled") == 1
    await server.close()


async def test_huge_document_and_hundreds_of_rapid_changes_with_cancels():
    server = await open_server("--fake-delay-ms", "2")
    big = "".join(f"def f_{i}(x):\n    return x + {i}\n\n" for i in range(7000))
    uri = "file:///big.py"
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": big}},
    )
    ids = []
    for n in range(300):
        line = 3 * (n % 7000) + 1
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": n + 2},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": line, "character": 4},
                            "end": {"line": line, "character": 4},
                        },
                        "text": "y",
                    }
                ],
            },
        )
        msg_id = server.request_id("textDocument/inlineCompletion", inline_params(line, 5, 2, uri))
        ids.append(msg_id)
        if n % 3 == 0:
            server.notify("$/cancelRequest", {"id": msg_id})
    replies = [await server.response(i, timeout=60) for i in ids]
    assert all(("result" in r) or r["error"]["code"] == -32800 for r in replies)
    await assert_still_works(server)
    await server.close()


async def test_tcp_transport():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = await asyncio.create_subprocess_exec(
        *SERVER, "--tcp", f"127.0.0.1:{port}", "--model", "fake:"
    )
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
        ).encode()
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        reply = json.loads(await reader.readexactly(length))
        assert reply["result"]["capabilities"]["inlineCompletionProvider"] is not None
        writer.close()
    finally:
        proc.kill()
        await proc.wait()


def test_cli_rejects_bad_tcp_address_without_traceback():
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "codegen.server.cli", "--tcp", "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("codegen-lsp: error: --tcp wants HOST:PORT")
    assert "Traceback" not in out.stderr
