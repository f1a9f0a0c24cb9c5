"""The acceptance log over stdio: Copilot-shaped events, partial accepts, dismissals,
retention checks after accepts, redaction, erasing, with the fake engine."""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

from codegen.core.usage_log import SCHEMA, collect, read_records

from .conftest import inline, open_doc, running_server

URI = "file:///work/loop.py"


def edit(client, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(types.Position(*start), types.Position(*end)), text
                )
            ],
        )
    )


def item_json(item: types.InlineCompletionItem) -> dict:
    """The item as a client echoes it back (Copilot's clients send the item they got)."""
    return {
        "insertText": item.insert_text,
        "range": {
            "start": {"line": item.range.start.line, "character": item.range.start.character},
            "end": {"line": item.range.end.line, "character": item.range.end.character},
        },
        "command": {
            "title": item.command.title,
            "command": item.command.command,
            "arguments": item.command.arguments,
        },
    }


def rows_of(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_copilot_events_partial_accept_dismiss_and_retention(tmp_path):
    path = tmp_path / "acceptance.jsonl"
    init = {
        "acceptanceLog": {"enabled": True, "path": str(path), "retainSeconds": [0.6, 1.2]},
    }
    text = (
        "def f(items):\n    total = 0\n    for i in items:\n        \n    return total\n"
        + "\n" * 6
        + "def g():\n    pass\n\n"
    )
    async with running_server("--model", "fake:total += i", init_options=init) as (client, _):
        open_doc(client, URI, text)
        version = 1

        # 1. shown, then accepted whole, and kept.
        kept = (await inline(client, URI, 3, 8)).items[0]
        client.protocol.notify("textDocument/didShowCompletion", {"item": item_json(kept)})
        version += 1
        edit(client, URI, version, (3, 8), (3, 8), kept.insert_text)
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(kept.command.command, kept.command.arguments)
        )
        # A line added above moves it; the retention check must follow it.
        version += 1
        edit(client, URI, version, (0, 0), (0, 0), "import os\n")

        # 2. shown, partially accepted ("total"), kept.
        partial = (await inline(client, URI, 7, 0)).items[0]
        assert partial.command.arguments != kept.command.arguments
        client.protocol.notify("textDocument/didShowCompletion", {"item": item_json(partial)})
        version += 1
        edit(client, URI, version, (7, 0), (7, 0), "total")
        client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion",
            {"item": item_json(partial), "acceptedLength": 5},
        )

        # 3. shown and dismissed.
        dismissed = (await inline(client, URI, 9, 0)).items[0]
        client.protocol.notify("textDocument/didShowCompletion", {"item": item_json(dismissed)})
        client.protocol.notify(
            "codegen/didRejectCompletion", {"id": dismissed.command.arguments[0]}
        )

        # 4. accepted through the codegen alias, then deleted again (far from the others).
        deleted = (await inline(client, URI, 15, 0)).items[0]
        version += 1
        edit(client, URI, version, (15, 0), (15, 0), deleted.insert_text + "\n")
        client.protocol.notify("codegen/didAcceptCompletion", {"id": deleted.command.arguments[0]})
        await asyncio.sleep(0.2)
        version += 1
        edit(client, URI, version, (15, 0), (16, 0), "")

        await wait_for(
            lambda: path.exists() and sum(r["event"] == "retained" for r in rows_of(path)) >= 6
        )
    rows = rows_of(path)
    assert all(r["schema"] == SCHEMA for r in rows)
    events = [r["event"] for r in rows]
    assert {"shown", "accepted", "partial", "rejected", "retained"} <= set(events)
    by_id = {s.id: s for s in collect(read_records([path]))}
    k = by_id[kept.command.arguments[0]]
    assert k.accepted and [r.retained_chars for r in k.retention] == [len("total += i")] * 2
    assert k.retention[0].kept == "total += i"
    p = by_id[partial.command.arguments[0]]
    assert p.partial_chars == 5 and not p.accepted
    assert [r.retained_chars for r in p.retention] == [5, 5]
    d = by_id[dismissed.command.arguments[0]]
    assert d.rejected and not d.taken and not d.retention
    gone = by_id[deleted.command.arguments[0]]
    assert gone.accepted and [r.retained_chars for r in gone.retention] == [0, 0]
    assert not gone.label and k.label and p.label
    # What the gate and the report need rides along with every suggestion.
    assert k.language == "python" and k.path == "loop.py" and k.latency_ms is not None
    assert set(k.features) >= {"length_chars", "context_kind", "recent_accept_rate"}
    assert k.features["context_kind"] == "empty_line"


async def test_closing_the_document_measures_at_once_and_shutdown_flushes(tmp_path):
    path = tmp_path / "acceptance.jsonl"
    init = {"acceptanceLog": {"enabled": True, "path": str(path), "retainSeconds": [30, 120]}}
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        first = (await inline(client, URI, 1, 4)).items[0]
        edit(client, URI, 2, (1, 4), (1, 4), first.insert_text)
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(first.command.command, first.command.arguments)
        )
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(URI))
        )
        other = "file:///work/other.py"
        open_doc(client, other, "for i in x:\n    \n")
        second = (await inline(client, other, 1, 4)).items[0]
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(second.command.command, second.command.arguments)
        )
        await wait_for(lambda: sum(r["event"] == "retained" for r in rows_of(path)) >= 2)
    # The second document's checks were still pending at shutdown: measured then.
    retained = [r for r in rows_of(path) if r["event"] == "retained"]
    closed = [r for r in retained if r["uri"] == URI]
    exited = [r for r in retained if r["uri"] != URI]
    assert [r["status"] for r in closed] == ["closed", "closed"]
    assert [r["after_s"] for r in closed] == [30.0, 120.0]
    assert closed[0]["retained_chars"] == len("total += 1")
    assert [r["status"] for r in exited] == ["exited", "exited"]


async def test_secrets_never_reach_the_log_and_erase_removes_it(tmp_path):
    path = tmp_path / "acceptance.jsonl"
    init = {"acceptanceLog": {"enabled": True, "path": str(path)}}
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, f'TOKEN = "{secret}"\nfor i in x:\n    \n')
        item = (await inline(client, URI, 2, 4)).items[0]
        client.protocol.notify("textDocument/didShowCompletion", {"item": item_json(item)})
        await wait_for(lambda: path.exists())
        text = path.read_text()
        assert secret not in text and "REDACTED" in text
        reply = await client.workspace_execute_command_async(
            types.ExecuteCommandParams("codegen.eraseAcceptanceLog", [])
        )
        assert reply["removed"] == [str(path)]
        assert not path.exists()


async def test_malformed_events_are_ignored(tmp_path):
    path = tmp_path / "acceptance.jsonl"
    init = {"acceptanceLog": {"enabled": True, "path": str(path)}}
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        for params in (
            {},
            {"item": None},
            {"item": {"command": {"arguments": [3]}}},
            {"item": {"command": {"arguments": ["no-such-id"]}}, "acceptedLength": "x"},
            {"id": ["x"]},
        ):
            client.protocol.notify("textDocument/didShowCompletion", params)
            client.protocol.notify("textDocument/didPartiallyAcceptCompletion", params)
            client.protocol.notify("codegen/didAcceptCompletion", params)
        item = (await inline(client, URI, 1, 4)).items[0]  # the server still answers
        assert item.insert_text == "total += 1"
    assert not path.exists()


def write_gate(path, length_weight: float, intercept: float, threshold: float) -> None:
    """A gate that only looks at the suggestion's length (log1p of its characters)."""
    from codegen.core.gate import DEFAULT_VOCABULARIES, DEFAULTS, Gate, feature_names

    n = len(feature_names(DEFAULT_VOCABULARIES))
    coef = [0.0] * n
    coef[feature_names(DEFAULT_VOCABULARIES).index("length_chars")] = length_weight
    gate = Gate(
        tuple(coef), intercept, (0.0,) * n, (1.0,) * n, DEFAULT_VOCABULARIES, DEFAULTS,
        threshold, {},
    )  # fmt: skip
    path.write_text(json.dumps(gate.to_dict()))


async def test_the_gate_withholds_what_it_predicts_will_not_be_kept(tmp_path):
    # P(keep) = sigmoid(4 * log1p(chars) - 12): 0.40 for 10 characters, 0.85 for 25.
    gate = tmp_path / "gate.json"
    write_gate(gate, 4.0, -12.0, 0.5)
    init = {"completion": {"gate": str(gate)}}
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        assert not (await inline(client, URI, 1, 4)).items
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )
        assert status["latency"]["counters"]["gated"] == 1
    long_reply = "fake:total += compute(i, j, k)"
    async with running_server("--model", long_reply, init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        assert [i.insert_text for i in (await inline(client, URI, 1, 4)).items] == [
            "total += compute(i, j, k)"
        ]


async def test_a_corrupt_gate_is_reported_once_and_suggestions_stay_ungated(tmp_path):
    gate = tmp_path / "gate.json"
    gate.write_text("{not json")
    init = {"completion": {"gate": str(gate)}}
    async with running_server("--model", "fake:total += 1", init_options=init) as (client, _):
        open_doc(client, URI, "for i in x:\n    \n")
        assert (await inline(client, URI, 1, 4)).items[0].insert_text == "total += 1"
        open_doc(client, "file:///work/b.py", "for i in x:\n    \n")
        assert (await inline(client, "file:///work/b.py", 1, 4)).items
        await asyncio.sleep(0.1)
        messages = [m.message for m in client.messages if "gate" in m.message]
        assert len(messages) == 1 and "not gating" in messages[0]
