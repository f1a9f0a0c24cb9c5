"""End to end against the real server process, with the fake engine."""

from __future__ import annotations

import asyncio
import json

import pytest
from lsprotocol import types

from .conftest import inline, insert, open_doc, running_server, wait_ready

URI = "file:///t.py"


async def status(client) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="codegen.status")
    )


async def test_initialize_advertises_every_capability():
    async with running_server("--model", "fake:") as (client, result):
        caps = result.capabilities
        assert caps.inline_completion_provider is not None
        assert caps.completion_provider is not None
        assert set(caps.execute_command_provider.commands) >= {
            "codegen.status",
            "codegen.selectAdapter",
            "codegen.toggle",
            "codegen.acceptCompletion",
        }
        assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        assert caps.position_encoding == types.PositionEncodingKind.Utf16


@pytest.mark.parametrize(
    "encodings,negotiated,char",
    [(["utf-8"], "utf-8", 19), (["utf-32", "utf-16"], "utf-32", 13), (None, "utf-16", 15)],
)
async def test_position_encodings_with_emoji(encodings, negotiated, char):
    # "s = '😋👍' + f(" : the cursor after "f(" is at 13 code points, 15 utf-16 units, 19 bytes
    async with running_server("--model", "fake:x)", encodings=encodings) as (client, result):
        assert result.capabilities.position_encoding == negotiated
        open_doc(client, URI, "s = '😋👍' + f()\n")
        out = await inline(client, URI, 0, char)
        item = out.items[0]
        assert item.insert_text == "x)"
        # the suggestion closes f( itself, so it covers the auto-closed ")"
        assert item.range.start == types.Position(0, char)
        assert item.range.end == types.Position(0, char + 1)


async def test_crlf_document_gets_crlf_suggestion_at_exact_position():
    reply = "\\n    y = x * 2\\n    return y\\nprint(1)\\n"
    async with running_server("--model", f"fake:{reply}") as (client, _):
        open_doc(client, URI, "# 😋\r\ndef f(x):\r\n\r\nz = 1\r\n")
        out = await inline(client, URI, 1, 9)
        assert out.items[0].insert_text == "\r\n    y = x * 2\r\n    return y"
        assert out.items[0].range.start == types.Position(1, 9)


async def test_progress_and_empty_answers_before_the_model_is_ready():
    async with running_server("--model", "fake:", "--fake-load-ms", "1500", ready=False) as (
        client,
        _,
    ):
        open_doc(client, URI, "def f():\n    \n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        out = await inline(client, URI, 1, 4)
        assert list(out.items) == []
        assert loop.time() - started < 1.0
        await wait_ready(client)
        out = await inline(client, URI, 1, 4)
        assert out.items[0].insert_text == "pass"
        reports = next(iter(client.progress_reports.values()))
        assert [r.kind for r in reports] == ["begin", "end"]
        assert "ready" in reports[-1].message


async def test_newer_request_supersedes_older_one():
    async with running_server("--model", "fake:return 1", "--fake-delay-ms", "100") as (client, _):
        open_doc(client, URI, "def f():\n    \n")
        first = asyncio.ensure_future(inline(client, URI, 1, 4))
        await asyncio.sleep(0.3)
        second = await inline(client, URI, 1, 4)
        assert list((await first).items) == []
        assert second.items[0].insert_text == "return 1"
        counters = (await status(client))["latency"]["counters"]
        assert counters["superseded"] == 1


async def test_typed_ahead_answers_from_memory_without_the_model():
    async with running_server("--model", "fake:return x + 1", "--fake-delay-ms", "30") as (
        client,
        _,
    ):
        open_doc(client, URI, "def f(x):\n    \n")
        first = await inline(client, URI, 1, 4)
        assert first.items[0].insert_text == "return x + 1"
        insert(client, URI, 2, 1, 4, "ret")
        out = await inline(client, URI, 1, 7, invoked=False)
        assert out.items[0].insert_text == "urn x + 1"
        assert out.items[0].range.start == types.Position(1, 7)
        report = await status(client)
        assert report["generations"] == 1
        assert report["latency"]["counters"]["answers.typed"] == 1


async def test_burst_of_keystrokes_starts_at_most_two_generations():
    # A 100 ms base debounce (default 60) leaves margin for a loaded CI machine.
    init = {"completion": {"debounceMs": 100}}
    fake = ("--model", "fake:value", "--fake-delay-ms", "20")
    async with running_server(*fake, init_options=init) as (client, _):
        open_doc(client, URI, "x = \n")
        pending = []
        for i in range(20):
            insert(client, URI, i + 2, 0, 4 + i, "a")
            pending.append(asyncio.ensure_future(inline(client, URI, 0, 5 + i, invoked=False)))
            await asyncio.sleep(0.05)
        results = await asyncio.gather(*pending)
        assert len(results) == 20
        assert (await status(client))["generations"] <= 2
        assert results[-1].items[0].insert_text == "value"


async def test_invalid_options_warn_and_fall_back_to_defaults():
    init = {"codegen": {"completion": {"maxLines": "lots"}, "wat": True}}
    async with running_server("--model", "fake:", init_options=init) as (client, _):
        await asyncio.sleep(0.1)
        texts = [m.message for m in client.messages]
        assert any("completion.maxLines" in t for t in texts)
        assert any("unknown option wat" in t for t in texts)
        assert all(m.type == types.MessageType.Warning for m in client.messages)
        assert (await status(client))["options"]["completion"]["maxLines"] == 12


async def test_completion_fallback_toggle_and_configuration():
    async with running_server("--model", "fake:compute()") as (client, _):
        open_doc(client, URI, "y = \n")
        params = types.CompletionParams(types.TextDocumentIdentifier(URI), types.Position(0, 4))
        assert list((await client.text_document_completion_async(params)).items) == []
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"codegen": {"completion": {"fallback": True}}}
            )
        )
        await asyncio.sleep(0.1)
        items = (await client.text_document_completion_async(params)).items
        assert items[0].text_edit.new_text == "compute()"
        assert items[0].label == "compute()"
        # pull-style configuration: settings null, the server asks workspace/configuration
        client.set_configuration({"completion": {"enabled": False}}, section="codegen")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.2)
        assert list((await inline(client, URI, 0, 4)).items) == []


async def test_toggle_status_and_select_adapter_commands():
    async with running_server("--model", "fake:go()") as (client, _):
        open_doc(client, URI, "x = \n")
        run = client.workspace_execute_command_async
        assert await run(types.ExecuteCommandParams("codegen.toggle")) == {"enabled": False}
        assert list((await inline(client, URI, 0, 4)).items) == []
        assert await run(types.ExecuteCommandParams("codegen.toggle", [True])) == {"enabled": True}
        assert await run(types.ExecuteCommandParams("codegen.toggle", [True])) == {"enabled": True}
        assert (await inline(client, URI, 0, 4)).items[0].insert_text == "go()"
        report = await status(client)
        assert report["model"] == "fake" and report["state"] == "ready"
        assert report["latency"]["counters"]["answers.model"] == 1
        reply = await run(types.ExecuteCommandParams("codegen.selectAdapter", ["/nowhere"]))
        assert reply["ok"] is False


async def test_acceptance_log_records_shown_and_accepted(tmp_path):
    path = tmp_path / "log.jsonl"
    init = {"acceptanceLog": {"enabled": True, "path": str(path)}}
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        item = (await inline(client, URI, 1, 4)).items[0]
        assert item.command.command == "codegen.acceptCompletion"
        suggestion_id = item.command.arguments[0]
        client.protocol.notify("codegen/didShowCompletion", {"id": suggestion_id})
        await asyncio.sleep(0.1)
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(item.command.command, item.command.arguments)
        )
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        assert [r["event"] for r in rows] == ["shown", "accepted"]
        assert rows[1]["text"] == "total += 1" and rows[1]["prefix"].endswith("    ")


async def test_acceptance_log_is_off_by_default(tmp_path):
    async with running_server("--model", "fake:total += 1") as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        item = (await inline(client, URI, 1, 4)).items[0]
        assert item.command is None
