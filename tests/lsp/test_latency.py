"""Latency discipline over stdio with the fake engine: the deadline cuts a slow
multi-line suggestion at a line break, a speculative follow-up answers the request
after an accept from memory, and background prefill runs after a pause (and never when
off)."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from .conftest import inline, open_doc, running_server

URI = "file:///work/lat.py"


async def status(client) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="codegen.status")
    )


def insert(client, version: int, line: int, character: int, text: str) -> None:
    pos = types.Position(line, character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=URI),
            [types.TextDocumentContentChangePartial(types.Range(pos, pos), text)],
        )
    )


async def test_deadline_stops_at_a_line_break():
    # 40 "tokens" of 20 ms: 800 ms for the whole reply; a deadline already passed when
    # decoding starts keeps the first line only.
    reply = "fake:a = 1\\n    b = 2\\n    c = 3\\n    d = 4\\n"
    args = ("--model", reply, "--fake-delay-ms", "20", "--fake-tokens", "40")
    text = "def f():\n    \n"
    init = {"completion": {"deadlineMs": 1}}
    async with running_server(*args, init_options=init) as (client, _):
        open_doc(client, URI, text)
        out = await inline(client, URI, 1, 4)
        assert out.items[0].insert_text == "a = 1"
        assert (await status(client))["latency"]["counters"]["deadline"] == 1
    async with running_server(*args) as (client, _):  # off: the whole suggestion
        open_doc(client, URI, text)
        out = await inline(client, URI, 1, 4)
        assert out.items[0].insert_text == "a = 1\n    b = 2\n    c = 3\n    d = 4"


async def test_speculative_follow_up_answers_the_accept_from_memory():
    args = ("--model", "fake:total += 1", "--fake-delay-ms", "10", "--fake-tokens", "20")
    init = {"completion": {"speculate": True}}
    async with running_server(*args, init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        first = (await inline(client, URI, 1, 4)).items[0]
        await asyncio.sleep(0.6)  # the follow-up is computed while the suggestion shows
        counters = (await status(client))["latency"]["counters"]
        assert counters["speculation.ready"] == 1
        insert(client, 2, 1, 4, first.insert_text)  # the user accepts
        follow = await inline(client, URI, 1, 4 + len(first.insert_text))
        report = await status(client)
        counters = report["latency"]["counters"]
        assert counters["answers.cache"] == 1  # no model call: from memory
        assert counters["answers.model"] == 1
        assert follow is not None
        # An answer from memory speculates on in turn (accepting in a chain).
        assert counters["speculation.started"] == 2


async def test_background_prefill_after_a_pause():
    init = {"completion": {"prefillAfterMs": 50}}
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        insert(client, 2, 1, 4, "t")
        await asyncio.sleep(0.5)
        counters = (await status(client))["latency"]["counters"]
        assert counters["prefill.started"] == counters["prefill.done"] == 1
        # Typing on before the pause ends prefills once, for the last edit only.
        for i, ch in enumerate("otal"):
            insert(client, 3 + i, 1, 5 + i, ch)
        await asyncio.sleep(0.5)
        assert (await status(client))["latency"]["counters"]["prefill.done"] == 2
    async with running_server("--model", "fake:total += 1") as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        insert(client, 2, 1, 4, "t")
        await asyncio.sleep(0.3)
        assert "prefill.started" not in (await status(client))["latency"]["counters"]


async def test_deadline_passed_before_the_first_line_keeps_that_line():
    # After a block opener the suggestion starts with a line break: a deadline that has
    # passed before any code came (a long prompt, a queue) still shows the first line.
    reply = "fake:\\n    a = 1\\n    b = 2\\n    c = 3\\n"
    args = ("--model", reply, "--fake-delay-ms", "20", "--fake-tokens", "40")
    init = {"completion": {"deadlineMs": 1}}
    async with running_server(*args, init_options=init) as (client, _):
        open_doc(client, URI, "def f():\n")
        out = await inline(client, URI, 0, 8)
        assert out.items and out.items[0].insert_text == "\n    a = 1"
