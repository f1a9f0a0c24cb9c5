"""Next-edit suggestions from your own model, end to end on a tiny real model.

A repository whose history repeats one follow-up edit (rename a function's parameter,
then its uses: ``tests/fixtures/next_edit_repo.py``) goes through ``codegen-train data
--tasks next-edit`` and ``codegen-train sft`` (``tests/fixtures/next_edit_adapter.py``).
Then, on commits the data held out:

- ``codegen-lsp --model BASE --adapter ADAPTER`` over stdio, spoken to in raw JSON-RPC
  as copilot-lsp.nvim speaks: the file as it was before the commit is opened, the
  commit's first hunk (the ``def`` line) is typed, and ``textDocument/copilotInlineEdit``
  with copilot-lsp.nvim's params (``make_position_params`` plus the buffer version) is
  answered with the next use site renamed: the client applies ``edits[1]`` (its
  ``text`` as ``newText``) and gets the file with the commit's second hunk applied, on
  at least half of the held-out commits;
- ``codegen-eval next-edit`` on every held-out case, base and adapter, and ``compare``:
  exact match, location accuracy, no-edit rate and reversal ratio, printed; the adapter's
  exact match is at least 0.5 and above the base's.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

from codegen.eval.cli import main as eval_main

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")
sys.path.insert(0, str(TESTS / "fixtures"))
sys.path.insert(0, str(TESTS / "lsp"))
from next_edit_adapter import NextEditAdapter  # noqa: E402
from next_edit_repo import Rename, apply_lines  # noqa: E402
from raw_client import RawServer  # noqa: E402


def apply_inline_edit(text: str, edit: dict) -> str:
    """What copilot-lsp.nvim does with an edit: ``newText = text``, then
    ``vim.lsp.util.apply_text_edits({edit}, bufnr, "utf-16")`` (ASCII here)."""
    lines = text.split("\n")
    start, end = edit["range"]["start"], edit["range"]["end"]
    offset = lambda p: sum(len(line) + 1 for line in lines[: p["line"]]) + p["character"]  # noqa: E731
    return text[: offset(start)] + edit["newText"] + text[offset(end) :]


def first_hunk_change(rename: Rename) -> tuple[dict, tuple[int, int]]:
    """The ``def`` line's rename as one didChange content change, and the cursor after it."""
    line = rename.lines[0]
    old_line = rename.before.split("\n")[line]
    # The parameter (after "(" or ", " and before ",", ")" or "="), not a part of the
    # function's name (``scale_price(..., scale)``).
    found = re.search(rf"(?<=[( ]){re.escape(rename.old)}(?=[,)=])", old_line)
    assert found is not None, old_line
    start = found.start()
    change = {
        "range": {"start": {"line": line, "character": start},
                  "end": {"line": line, "character": start + len(rename.old)}},
        "text": rename.new,
    }  # fmt: skip
    return change, (line, start + len(rename.new))


async def ask_next_edit(server: RawServer, rename: Rename, uri: str) -> tuple[dict, str]:
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": rename.before}})  # fmt: skip
    change, (line, character) = first_hunk_change(rename)
    server.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]})  # fmt: skip
    # copilot-lsp.nvim: vim.lsp.util.make_position_params(0, "utf-16") plus
    # pos_params.textDocument.version = vim.lsp.util.buf_versions[buf].
    params = {"textDocument": {"uri": uri, "version": 2},
              "position": {"line": line, "character": character}}  # fmt: skip
    answer = await server.request("textDocument/copilotInlineEdit", params, timeout=120)
    typed = apply_lines(rename.before, rename.after, rename.lines[:1])
    return answer, typed


@pytest.mark.slow
def test_the_adapter_proposes_the_next_rename_over_stdio(
    next_edit_adapter: NextEditAdapter, capsys: pytest.CaptureFixture[str]
) -> None:
    trained = next_edit_adapter
    assert trained.held_out, "the data holds out no rename commit"
    uris = [f"file:///work/c{n}/{Path(c.path).name}" for n, c in enumerate(trained.held_out)]

    async def run() -> list[tuple[dict, str]]:
        server = await RawServer.start(
            "--model", str(trained.base), "--adapter", str(trained.adapter), "--device", "cpu"
        )
        try:
            init = await server.initialize(initializationOptions=trained.init_options)
            assert init["result"]["capabilities"]["experimental"]["codegen"]["nextEdit"]
            return [
                await ask_next_edit(server, commit, uri)
                for commit, uri in zip(trained.held_out, uris, strict=True)
            ]
        finally:
            await server.close()

    answers = asyncio.run(run())
    right = []
    for commit, uri, (answer, typed) in zip(trained.held_out, uris, answers, strict=True):
        edits = answer["result"]["edits"]
        for edit in edits:  # what copilot-lsp.nvim reads, on every answer
            assert edit["textDocument"] == {"uri": uri, "version": 2}
            assert edit["command"]["command"] == "codegen.acceptInlineEdit"
        # The client applies the first edit (the nearest after the cursor): the next use.
        first = {**edits[0], "newText": edits[0]["text"]} if edits else None
        applied = apply_inline_edit(typed, first) if first else typed
        right.append(applied == apply_lines(commit.before, commit.after, commit.lines[:2]))
    with capsys.disabled():
        print(
            f"\nthrough the LSP: {sum(right)} of {len(right)} held-out commits get the next rename"
        )
    first_right = right.index(True) if any(right) else None
    assert first_right is not None, "no held-out commit got its next rename"
    rename = trained.held_out[first_right]
    shown = answers[first_right][0]["result"]["edits"][0]
    assert shown["range"]["start"]["line"] == rename.lines[1]  # the next use site
    assert sum(right) >= len(right) / 2


@pytest.mark.slow
def test_eval_next_edit_base_against_adapter(
    next_edit_adapter: NextEditAdapter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trained = next_edit_adapter
    runs = {}
    for name, adapter in (("base", None), ("adapter", trained.adapter)):
        out = tmp_path / name
        args = ["next-edit", "--model", str(trained.base), "--data", str(trained.data),
                "--out", str(out), "--device", "cpu"]  # fmt: skip
        assert eval_main(args + (["--adapter", str(adapter)] if adapter else [])) == 0
        runs[name] = json.loads((out / "metrics.json").read_text())
    assert eval_main(["compare", str(tmp_path / "base"), str(tmp_path / "adapter")]) == 0
    table = capsys.readouterr().out
    base, tuned = runs["base"], runs["adapter"]
    with capsys.disabled():
        print(f"\nnext-edit on {tuned['tasks']} held-out cases (base -> adapter):")
        for key in ("exact_match", "location_accuracy", "no_edit_rate", "reversal_ratio"):
            print(f"  {key}: {base[key]:.3f} -> {tuned[key]:.3f}")
    assert "| reversal_ratio |" in table and "| location_accuracy |" in table
    assert tuned["exact_match"] > base["exact_match"]
    assert tuned["exact_match"] >= 0.5
    assert tuned["location_accuracy"] >= tuned["exact_match"]
    assert tuned["location_accuracy"] > base["location_accuracy"]
    assert tuned["reversal_ratio"] <= 0.2
