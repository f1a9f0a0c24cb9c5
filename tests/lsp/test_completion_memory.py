"""Answers from memory over stdio with the fake engine: the cache is keyed by the whole
prompt, so context from another file that changed asks the model again, and "nothing to
suggest here" is remembered like a suggestion."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from .conftest import inline, insert, open_doc, running_server

A = "file:///work/mem_a.py"
B = "file:///work/mem_b.py"


async def counters(client) -> dict:
    report = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="codegen.status")
    )
    return report["latency"]["counters"] | {"generations": report["generations"]}


async def test_a_change_to_context_from_another_file_asks_the_model_again():
    async with running_server("--model", "fake:return sum(xs)") as (client, _):
        open_doc(client, B, "def total(xs):\n    return sum(xs)\n")
        open_doc(client, A, "def total(xs):\n    \n")
        assert (await inline(client, A, 1, 4)).items[0].insert_text == "return sum(xs)"
        assert (await inline(client, A, 1, 4)).items  # the same prompt: from memory
        got = await counters(client)
        assert (got["answers.model"], got["answers.cache"]) == (1, 1)
        # The other file changes: its snippet (and its recent edit) in the prompt differ.
        insert(client, B, 2, 1, 18, " + 1")
        await asyncio.sleep(0.05)
        assert (await inline(client, A, 1, 4)).items
        got = await counters(client)
        assert (got["answers.model"], got["answers.cache"], got["generations"]) == (2, 1, 2)


async def test_nothing_to_suggest_is_remembered():
    # The fake's reply only repeats the code after the cursor: post-processing drops it.
    async with running_server("--model", "fake:)") as (client, _):
        open_doc(client, A, "print()\n")
        for _ in range(3):
            assert list((await inline(client, A, 0, 6)).items) == []
        got = await counters(client)
        assert got["generations"] == 1
        assert (got["dropped"], got["dropped.cache"]) == (1, 2)


async def test_changed_settings_forget_remembered_answers():
    async with running_server("--model", "fake:return 1") as (client, _):
        open_doc(client, A, "def f():\n    \n")
        await inline(client, A, 1, 4)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"codegen": {"completion": {"maxLines": 3}}}
            )
        )
        await asyncio.sleep(0.1)
        await inline(client, A, 1, 4)
        got = await counters(client)
        assert got["generations"] == 2 and "answers.cache" not in got
