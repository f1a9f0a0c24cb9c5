"""textDocument/copilotInlineEdit over stdio with the fake engine (whose reply is the
rewritten region): Copilot's request and response shapes on raw params, the capability
in initialize, stale versions, edit history, shown/accept/reject events in the log."""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

from .conftest import open_doc, running_server

URI = "file:///work/geo.py"
TEXT = "def area(width, height):\n    check(width)\n    return width * height\n"
# The fake model rewrites the region (here: the whole file) with the rename finished.
REWRITE = "def area(w, height):\\n    check(w)\\n    return w * height\\n<|endoftext|>"


def rename_header(client, version: int = 2) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=URI),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(types.Position(0, 9), types.Position(0, 14)), "w"
                )
            ],
        )
    )


async def ask(client, version: int, line: int = 0, character: int = 10):
    return await client.protocol.send_request_async(
        "textDocument/copilotInlineEdit",
        {"textDocument": {"uri": URI, "version": version}, "position": {"line": line, "character": character}},
    )  # fmt: skip


def plain(obj):
    """pygls hands back unknown results as namedtuple-like objects; make them dicts."""
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return [plain(x) for x in obj]
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    return obj


async def test_next_edit_in_copilot_shape_with_events(tmp_path):
    log = tmp_path / "acceptance.jsonl"
    init = {"acceptanceLog": {"enabled": True, "path": str(log)}}
    async with running_server("--model", f"fake:{REWRITE}", init_options=init) as (client, result):
        assert result.capabilities.experimental["codegen"]["nextEdit"]["method"] == (
            "textDocument/copilotInlineEdit"
        )
        open_doc(client, URI, TEXT)
        rename_header(client)
        answer = plain(await ask(client, 2))
        edits = answer["edits"]
        assert [e["text"] for e in edits] == ["", ""]  # "width" -> "w" is "idth" deleted
        # Nearest after the cursor first: line 1's use, then line 2's.
        assert [e["range"]["start"]["line"] for e in edits] == [1, 2]
        assert edits[0]["range"] == {
            "start": {"line": 1, "character": 11},
            "end": {"line": 1, "character": 15},
        }
        assert edits[0]["textDocument"] == {"uri": URI, "version": 2}
        command = edits[0]["command"]
        assert command["command"] == "codegen.acceptInlineEdit"
        client.protocol.notify("textDocument/didShowInlineEdit", {"item": edits[0]})
        assert await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command["command"], command["arguments"])
        )
        assert await client.workspace_execute_command_async(
            types.ExecuteCommandParams("codegen.rejectInlineEdit", edits[1]["command"]["arguments"])
        )
        # A stale version gets nothing.
        assert plain(await ask(client, 1))["edits"] == []
        await asyncio.sleep(0.1)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["event"] for r in rows] == ["shown", "accepted", "rejected"]
    assert all(r["kind"] == "next_edit" for r in rows)
    assert rows[0]["replaced"] == "idth"


async def test_no_edit_and_malformed_answers_are_empty():
    same = TEXT.replace("\n", "\\n") + "<|endoftext|>"
    async with running_server("--model", f"fake:{same}") as (client, _):
        open_doc(client, URI, TEXT)
        assert plain(await ask(client, 1))["edits"] == []
    async with running_server("--model", "fake:no end marker") as (client, _):
        open_doc(client, URI, TEXT)
        assert plain(await ask(client, 1))["edits"] == []
        for bad in (
            {},
            {"textDocument": {"uri": 3}},
            {"textDocument": {"uri": URI}, "position": {}},
        ):
            assert plain(await client.protocol.send_request_async(
                "textDocument/copilotInlineEdit", bad))["edits"] == []  # fmt: skip


async def test_a_reversal_of_the_users_edit_is_dropped():
    # The user renamed width -> w; a model putting "width" back is not a suggestion.
    undo = TEXT.replace("\n", "\\n") + "<|endoftext|>"
    async with running_server("--model", f"fake:{undo}") as (client, _):
        open_doc(client, URI, TEXT)
        rename_header(client)
        assert plain(await ask(client, 2))["edits"] == []
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="codegen.status")
        )
        assert status["latency"]["counters"]["nes.reversal"] == 1
