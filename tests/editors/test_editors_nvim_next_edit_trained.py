"""Next-edit suggestions from a model trained on your history, in Neovim: headless Neovim
0.12, the plugin, the real codegen-lsp on the tiny base with the adapter that
``codegen-train sft`` trained on the rename repository's next-edit data
(``tests/fixtures/next_edit_adapter.py``, built once per session and shared with the
model tier's LSP and eval tests).

For held-out commits (never trained on), the file as it was before the commit is opened
and the user makes the commit's first edit by hand: renames the parameter in the
function's header (``cw`` in normal mode). The plugin shows the server's next edit, the
accept key jumps to it and applies it, and the file then equals the commit's first two
hunks applied: the rename at the next use site, the trained pattern. Commits are tried
in turn until one gets it (a commit where the model proposes nothing is a miss).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from .test_editors_nvim import ready
from .test_editors_nvim_next_edit import next_edit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from next_edit_repo import Rename, apply_lines  # noqa: E402

COMMITS = 5
"""Held-out commits tried, until one is right: the adapter gets many right, not every one
(``tests/model/training/test_next_edit_sft.py`` measures how many, over the LSP)."""


def poll(predicate, timeout: float):
    """``predicate()``'s first truthy value within ``timeout`` seconds, else None."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value or None


def header_column(rename: Rename) -> int:
    """1-based column of the parameter's name in the function's header (as a whole word:
    a function named ``scale_price`` must not match a parameter ``scale``)."""
    line = rename.before.split("\n")[rename.lines[0]]
    match = re.search(rf"(?<![\w]){re.escape(rename.old)}(?![\w])", line.split("(", 1)[-1])
    assert match, f"{rename.old!r} not in {line!r}"
    return len(line.split("(", 1)[0]) + 1 + match.start() + 1


@pytest.mark.slow
def test_neovim_jumps_to_and_applies_the_trained_next_rename(
    start_nvim, tmp_path: Path, next_edit_adapter
) -> None:
    trained = next_edit_adapter
    commits = trained.held_out[:COMMITS]
    assert commits, "the data holds out no rename commit"
    files = []
    for n, commit in enumerate(commits):
        folder = tmp_path / f"c{n}"
        folder.mkdir()
        files.append(folder / Path(commit.path).name)
        files[-1].write_text(commit.before)
    setup = {
        "adapter": str(trained.adapter),
        "device": "cpu",
        "next_edit": {"debounce_ms": 50, "options": trained.init_options["nextEdit"]},
    }
    nvim = start_nvim(files[0], model=str(trained.base), setup=setup)
    ready(nvim, timeout=180)
    outcomes = []
    for n, (commit, path) in enumerate(zip(commits, files, strict=True)):
        if n:
            nvim.send(f":edit {path}<CR>")
            nvim.wait(lambda p=path: nvim.expr("expand('%:p')") == str(p), 10, "not opened")
            ready(nvim, timeout=60)
        row = commit.lines[0] + 1
        nvim.send(f":call cursor({row}, {header_column(commit)})<CR>cw{commit.new}<Esc>")
        typed = apply_lines(commit.before, commit.after, commit.lines[:1])
        nvim.wait(lambda t=typed: nvim.buffer() == t.rstrip("\n"), 10, f"rename: {nvim.buffer()!r}")
        shown = poll(lambda: next_edit(nvim)["edit"], 30)
        if not shown:  # the model proposed nothing usable here: that commit is a miss
            outcomes.append((False, False))
            nvim.send(":write<CR>")
            continue
        nvim.send("<Tab>")  # away from it: jumps there
        where = shown["range"]["start"]["line"]
        nvim.wait(
            lambda w=where: next_edit(nvim)["cursor"][0] == w, 10, f"no jump: {next_edit(nvim)}"
        )
        nvim.send("<Tab>")  # at it: applies it
        nvim.wait(lambda t=typed: nvim.buffer() != t.rstrip("\n"), 10, "not applied")
        want = apply_lines(commit.before, commit.after, commit.lines[:2]).rstrip("\n")
        outcomes.append((where == commit.lines[1], nvim.buffer() == want))
        if outcomes[-1] == (True, True):
            break
        nvim.send("<Esc>:write<CR>")  # dismiss the next one, if any; keep the buffer clean
    print(f"\nin Neovim: {outcomes} (next use site, file as the commit left it)")
    assert outcomes[-1] == (True, True), outcomes
