"""A full stdio round trip with a real (tiny, random) transformers model."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from codegen.server.lsp.positions import UTF16, column_to_index, split_lines


@contextlib.asynccontextmanager
async def running_server(*args, init_options=None):
    command = [sys.executable, "-m", "codegen.server.cli", *args]
    client = await ClientServerConfig(server_command=command).start()
    try:
        caps = types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True)
        )
        result = await client.initialize_session(
            types.InitializeParams(capabilities=caps, initialization_options=init_options)
        )
        for _ in range(1200):
            status = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="codegen.status")
            )
            if status["state"] in ("ready", "failed"):
                break
            await asyncio.sleep(0.05)
        yield client, result
        await client.shutdown_session()
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from codegen.core.builtin.tiny import make_random_model

    return make_random_model(tmp_path_factory.mktemp("tiny") / "model")


async def test_inline_completion_round_trip_with_tiny_model(tiny_model):
    # A random model says EOS first when greedy, so sample with a fixed seed.
    init = {"completion": {"temperature": 1.0, "seed": 7, "minLength": 1}}
    text = "def área(r):\n    \n\nprint('😋', área(2))\n"
    uri = "file:///circle.py"
    async with running_server("--model", str(tiny_model), "--device", "cpu", init_options=init) as (
        client,
        _,
    ):
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )
        assert status["state"] == "ready", status
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )
        out = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(1, 4),
            )
        )
        assert out.items, "the tiny model's suggestion was dropped"
        item = out.items[0]
        assert item.insert_text.strip()
        assert "\r" not in item.insert_text
        # a valid range: on the cursor's line, from the cursor, inside the line
        lines = split_lines(text)
        assert item.range.start == types.Position(1, 4)
        assert item.range.end.line == 1
        content = lines[1].rstrip("\n")
        assert column_to_index(content, item.range.end.character, UTF16) <= len(content)
        report = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )
        assert report["generations"] == 1
        assert report["latency"]["model_ms_p50"] > 0


async def test_candidates_are_alternatives_with_the_first_unchanged(tiny_model, tmp_path):
    """``completion.candidates`` adds sampled alternatives (batched in process) after the
    suggestion a single-candidate request gives; each is logged with the gate's features,
    the first with the engine's log-probabilities."""
    import json

    text = "def área(r):\n    \n\nprint('😋', área(2))\n"
    uri = "file:///circle.py"
    log = tmp_path / "acceptance.jsonl"
    answers = []
    for candidates in (1, 4):
        init = {
            "completion": {
                "temperature": 1.0,
                "seed": 7,
                "minLength": 1,
                "candidates": candidates,
                "candidateTemperature": 1.2,
            },
            "acceptanceLog": {"enabled": True, "path": str(log)},
        }
        async with running_server(
            "--model", str(tiny_model), "--device", "cpu", init_options=init
        ) as (client, _):
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
            )
            out = await client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    context=types.InlineCompletionContext(
                        types.InlineCompletionTriggerKind.Invoked
                    ),
                    text_document=types.TextDocumentIdentifier(uri),
                    position=types.Position(1, 4),
                )
            )
            answers.append(out.items)
            for item in out.items:
                client.protocol.notify("textDocument/didShowCompletion", {"item": {
                    "insertText": item.insert_text,
                    "command": {"command": item.command.command,
                                "arguments": item.command.arguments},
                }})  # fmt: skip
            await asyncio.sleep(0.3)
    single, several = answers
    assert len(single) == 1 and len(several) >= 2
    assert several[0].insert_text == single[0].insert_text
    texts = [item.insert_text for item in several]
    assert len(set(texts)) == len(texts)  # deduplicated
    ids = [item.command.arguments[0] for item in several]
    assert len(set(ids)) == len(ids)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    shown = {r["id"]: r for r in rows if r["event"] == "shown"}
    assert set(ids) <= set(shown)
    first = shown[ids[0]]
    assert first["candidate"] == 0 and first["features"]["mean_logprob"] < 0
    assert first["features"]["min_logprob"] <= first["features"]["mean_logprob"]
    assert first["features"]["first_margin"] >= 0
    assert [shown[i]["candidate"] for i in ids] == list(range(len(ids)))
