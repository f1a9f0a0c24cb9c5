"""The language server over stdio with a remote engine (a fake OpenAI-compatible server).

Suggestions come from the server; when it goes down, completions answer empty
and the user gets one message; when it comes back, suggestions resume. Files
that must not leave the machine never reach it.
"""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from lsprotocol import types

from ..unit.core.remote.fake_server import FakeModelServer
from .conftest import inline, open_doc, running_server

pytestmark = pytest.mark.timeout(60)

TEXT = "def add(a, b):\n    \n"


async def _messages_with(client, needle: str, timeout: float = 5.0) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [m.message for m in client.messages if needle in m.message]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_completions_through_the_server_privacy_and_an_outage(tmp_path):
    fake = FakeModelServer("vllm", reply="return a + b\n").start()
    try:
        async with running_server("--model", fake.url) as (client, _):
            status = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="codegen.status")
            )
            assert status["state"] == "ready" and status["remote"] is True
            assert status["servedModel"] == "base" and status["fimFormat"] == "qwen"
            assert status["servedAdapters"] == []
            open_doc(client, "file:///tmp/remote_add.py", TEXT)
            result = await inline(client, "file:///tmp/remote_add.py", 1, 4)
            assert result is not None and result.items[0].insert_text == "return a + b"
            assert "<|fim_prefix|>" in fake.completions()[-1]["prompt"]
            await _private_files_never_reach_the_server(client, fake, tmp_path)

            fake.stop()  # the engine goes away
            for line_text in ("    z", "    zz"):
                client.text_document_did_change(_change("file:///tmp/remote_add.py", line_text))
                result = await inline(client, "file:///tmp/remote_add.py", 1, len(line_text))
                assert result is not None and len(result.items) == 0
            down = await _messages_with(client, "cannot reach the model server")
            assert len(down) == 1  # one message per outage, not one per keystroke

            fake.start()  # same port: the engine is back
            client.text_document_did_change(_change("file:///tmp/remote_add.py", "    q"))
            result = await inline(client, "file:///tmp/remote_add.py", 1, 5)
            assert result is not None and len(result.items) == 1
            assert await _messages_with(client, "answers again")
    finally:
        fake.stop()


async def test_a_server_down_at_start_is_retried_and_hints_say_what_they_need():
    fake = FakeModelServer("llama.cpp", reply="return a + b\n", models=("m.gguf",)).start()
    fake.stop()  # keep its port, but nothing listens yet
    try:
        async with running_server("--model", fake.url, ready=False) as (client, _):
            failed = await _messages_with(client, "model failed to load: cannot reach")
            assert len(failed) == 1
            fake.start()
            assert await _messages_with(client, "model ready", timeout=10)
            open_doc(client, "file:///tmp/remote_late.py", TEXT)
            result = await inline(client, "file:///tmp/remote_late.py", 1, 4)
            assert result is not None and result.items[0].insert_text == "return a + b"
            for _ in range(2):  # llama.cpp cannot score a file: one message, not one per check
                answer = await client.workspace_execute_command_async(
                    types.ExecuteCommandParams("codegen.checkFile", ["file:///tmp/remote_late.py"])
                )
                assert not answer or answer.get("ok") is not True
            said = await _messages_with(client, "hints need prompt log-probabilities")
            assert len(said) == 1 and "in-process model" in said[0]
    finally:
        fake.stop()


async def _private_files_never_reach_the_server(client, fake, tmp_path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("secret_notes.py\n")
    ignored = (tmp_path / "secret_notes.py").as_uri()
    env = (tmp_path / ".env").as_uri()
    tracked = (tmp_path / "main.py").as_uri()
    open_doc(client, ignored, "IGNORED_MARKER = 1\ndef add(a, b):\n    \n")
    open_doc(client, env, "ENV_MARKER=1\n", language="plaintext")
    open_doc(client, tracked, 'TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\n' + TEXT)
    before = len(fake.completions())
    for uri, line in ((ignored, 2), (env, 0)):
        result = await inline(client, uri, line, 4 if line else 0)
        assert result is not None and len(result.items) == 0
    assert len(fake.completions()) == before  # nothing was sent for them
    result = await inline(client, tracked, 2, 4)
    assert result is not None and len(result.items) == 1
    sent = fake.completions()[-1]["prompt"]
    assert "ghp_" not in sent and "<REDACTED_GITHUB_TOKEN>" in sent
    assert "IGNORED_MARKER" not in sent  # not even as a snippet of another file


def _change(uri: str, line_text: str) -> types.DidChangeTextDocumentParams:
    _change.version = getattr(_change, "version", 1) + 1
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=_change.version),
        content_changes=[
            types.TextDocumentContentChangeWholeDocument(text=f"def add(a, b):\n{line_text}\n")
        ],
    )
