"""The VS Code extension: type check, unit tests, packaging, and an end-to-end test
in a real VS Code (code-server in headless Chromium) against the real codegen-lsp."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from codegen.core.usage_log import collect, read_records

from .conftest import wait_for

EDITORS = Path(__file__).resolve().parents[2] / "editors"
CACHE = Path(os.environ.get("CODEGEN_E2E_CACHE") or EDITORS / ".e2e-cache")
EXTENSION = EDITORS / "vscode"
VSIX = EXTENSION / "codegen.vsix"
SCREENSHOT = EDITORS / "screenshots" / "vscode-ghost-text.png"
FIB_HEAD = 'def fibonacci(n: int) -> int:\n    """The n-th Fibonacci number."""'
FIB_BODY = "if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)"


def npm(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", "run", "--silent", script],
        cwd=EXTENSION,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_extension_type_checks(extension_env: dict[str, str]) -> None:
    done = npm("lint", extension_env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_extension_unit_tests_pass(extension_env: dict[str, str]) -> None:
    done = npm("test", extension_env)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"\bpass (\d+)", done.stdout)
    assert passed and int(passed.group(1)) > 0, done.stdout
    assert re.search(r"\bfail 0\b", done.stdout), done.stdout


def test_vsix_holds_the_bundled_extension(extension_env: dict[str, str]) -> None:
    with zipfile.ZipFile(VSIX) as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
    assert "extension/dist/extension.js" in names
    assert not any("node_modules" in name for name in names), "dependencies must be bundled"
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert {"codegen.toggleCompletions", "codegen.chooseAdapter", "codegen.showStatus"} <= commands
    settings = manifest["contributes"]["configuration"]["properties"]
    assert {"codegen.model", "codegen.adapter", "codegen.quantize", "codegen.device"} <= set(
        settings
    )
    assert {"codegen.acceptanceLog.enabled", "codegen.acceptanceLog.path"} <= set(settings)
    # Next edits: Tab and Escape act on one only while it is shown (and no ghost text is).
    assert {
        "codegen.nextEdit.accept",
        "codegen.nextEdit.reject",
        "codegen.nextEdit.suggest",
    } <= commands
    assert {"codegen.nextEdit.enabled", "codegen.nextEdit.debounceMs"} <= set(settings)
    keys = {k["key"]: k for k in manifest["contributes"]["keybindings"]}
    assert keys["tab"]["command"] == "codegen.nextEdit.accept"
    assert keys["escape"]["command"] == "codegen.nextEdit.reject"
    for key in keys.values():
        assert (
            "codegen.nextEditVisible" in key["when"] and "!inlineSuggestionVisible" in key["when"]
        )
    # The event hooks are an API proposal; desktop VS Code grants it only to extensions
    # that list it (and run with --enable-proposed-api).
    assert manifest["enabledApiProposals"] == ["inlineCompletionsAdditions"]


def fake_model(reply: str) -> str:
    """The `codegen.model` of the server's fake engine answering `reply` to every request
    (its "\\n" are line breaks)."""
    return "fake:" + reply.replace("\n", "\\n")


def run_e2e(
    vscode_env: dict[str, str],
    codegen_lsp: Path,
    tmp_path: Path,
    *,
    files: dict[str, str],
    reply: str,
    steps: list[dict],
    expect: dict[str, str],
) -> tuple[dict, Path]:
    """Runs e2e/run-e2e.mjs on a workspace holding `files` (the first is opened), the
    server's fake engine answering `reply` and its acceptance log on; `steps` and `expect`
    as the driver takes them. The driver's result and the log's path."""
    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    for name, text in files.items():
        (workspace / name).write_text(text)
    log = tmp_path / "acceptance.jsonl"
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps(
            {
                "codegen.serverPath": str(codegen_lsp),
                "codegen.model": fake_model(reply),
                "codegen.acceptanceLog.enabled": True,
                "codegen.acceptanceLog.path": str(log),
            }
        )
    )
    config = {
        "codeServer": str(CACHE / "bin" / "code-server"),
        "toolsDir": str(CACHE / "code-server"),
        "chromium": shutil.which("chromium") or "/usr/bin/chromium",
        "vsix": str(VSIX),
        "workspace": str(workspace),
        "stateDir": str(tmp_path / "state"),
        "file": next(iter(files)),
        "steps": steps,
        "expect": expect,
        "timeoutMs": 60000,
    }
    config_file = tmp_path / "e2e.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        ["node", str(EXTENSION / "e2e" / "run-e2e.mjs"), str(config_file)],
        env=vscode_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no result from run-e2e.mjs:\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["ok"], json.dumps(result, indent=2)
    return result, log


def logged(log: Path, event: str, kind: str | None = None) -> list[dict]:
    """Waits until the log has an `event` (of a suggestion of `kind`, when given); all its records."""

    def found() -> bool:
        rows = read_records([log]) if log.exists() else []
        return any(r["event"] == event and kind in (None, r.get("kind")) for r in rows)

    wait_for(found, 10, f"no {event} logged")
    return read_records([log])


GEO = "def area(width, height):\n    check(width)\n    return width * height\n"
GEO_RENAMED = "def area(w, height):\n    check(w)\n    return w * height\n"
NES_SCREENSHOT = EDITORS / "screenshots" / "vscode-next-edit.png"


def test_ghost_text_and_next_edits_in_vscode_with_their_acceptance_events(
    vscode_env: dict[str, str], codegen_lsp: Path, tmp_path: Path
) -> None:
    """One code-server session (starting it is most of the time), two parts.

    Ghost text (screenshot), then the provider's event hooks of the
    inlineCompletionsAdditions API proposal (code-server grants every proposal to every
    extension; desktop VS Code only with --enable-proposed-api codegen.codegen): the first
    suggestion is dismissed (Escape); typing "i" brings the next (the rest of it, from the
    server's typed-ahead reuse), whose next word is accepted (Ctrl+Right), then the rest
    (Tab), which runs the item's command (the accept).

    Next edits, as decorations, after the server restarted on a fake engine whose reply is
    the rewritten region (inline completions off: that reply is not a completion): renaming
    `width` in the header (selected before the restart, then "w" typed) brings the same
    rename at its next use, struck through on line 2 while the cursor stays on line 1
    (screenshot). Tab jumps there, Tab again applies it (the edit's command: the accept)
    and asks for the next, on line 3, which Escape dismisses."""
    ghost_shot = tmp_path / "vscode-ghost-text.png"
    ghost = [
        {"type": "\n"},
        {"ghost": "shown"},
        {"screenshot": str(ghost_shot)},
        {"press": "Escape"},
        {"ghost": "hidden"},
        {"press": "i"},
        {"ghost": "shown"},
        {"press": "Control+ArrowRight"},
        {"ghost": "shown"},
        {"press": "Tab"},
        {"press": "Control+S"},
    ]
    nes_shot = tmp_path / "vscode-next-edit.png"
    use = "    check(width)"
    next_edits = [
        # `width` selected while the first server runs: its next edits are empty (its reply
        # is no region), and the restarted one is asked only once "w" is typed.
        {"open": "geo.py"},
        {"press": "Control+Home"},
        *[{"press": "ArrowRight"}] * len("def area("),
        *[{"press": "Shift+ArrowRight"}] * len("width"),
        {
            "settings": {
                "codegen.model": fake_model(GEO_RENAMED + "<|endoftext|>"),
                "codegen.completion.enabled": False,
                "codegen.nextEdit.debounceMs": 100,
            }
        },
        {"ready": True},
        {"type": "w"},
        {"struck": "idth", "line": use},
        {"hint": "Tab: jump to the next edit"},
        {"cursor": "Ln 1, Col 11"},
        {"screenshot": str(nes_shot)},
        {"press": "Tab"},
        {"cursor": "Ln 2, Col 12"},
        {"hint": "Tab: apply the next edit"},
        {"press": "Tab"},
        {"struck": "idth", "line": "    return width * height"},
        {"press": "Escape"},
        {"struck": None},
    ]
    result, log = run_e2e(
        vscode_env,
        codegen_lsp,
        tmp_path,
        files={"fib.py": FIB_HEAD, "geo.py": GEO},
        reply=FIB_BODY,
        steps=ghost + next_edits,
        expect={
            # Enter opened an indented line; the three-line suggestion was accepted whole.
            "fib.py": FIB_HEAD + "\n    " + FIB_BODY,
            "geo.py": "def area(w, height):\n    check(w)\n    return width * height\n",
        },
    )
    assert result["ghostText"].startswith("if n < 2:"), result["ghostText"]
    # The status bar names the model (the latency is the ghost text's, before the restart).
    assert "fake" in result["statusText"], result["statusText"]
    for shot, kept in ((ghost_shot, SCREENSHOT), (nes_shot, NES_SCREENSHOT)):
        assert shot.stat().st_size > 10_000
        if os.environ.get("CODEGEN_UPDATE_SCREENSHOTS"):
            kept.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, kept)
    records = logged(log, "rejected", "next_edit")
    check_completion_events([r for r in records if r.get("kind") != "next_edit"])
    assert [s["line"] for s in result["struck"]] == [use, "    return width * height", ""]
    check_next_edit_events([r for r in records if r.get("kind") == "next_edit"])


def check_completion_events(records: list[dict]) -> None:
    """The ghost-text part: one suggestion dismissed, one taken word by word then whole."""
    events = [r["event"] for r in records]
    suggestions = collect(records)
    taken = [s for s in suggestions if s.accepted]
    dismissed = [s for s in suggestions if s.rejected]
    assert len(taken) == 1 and len(dismissed) == 1, events
    assert dismissed[0].shown and not dismissed[0].taken
    assert dismissed[0].text == FIB_BODY
    accepted = taken[0]
    # One word of the suggestion's insertText (UTF-16 units), then the whole of it: VS Code
    # asks again after the partial accept and gets the rest of the same suggestion.
    assert FIB_BODY.endswith(accepted.text), accepted
    assert re.fullmatch(r"\s*\w+", accepted.text[: accepted.partial_chars]), accepted
    of_it = [r for r in records if r["id"] == accepted.id]
    assert [r["event"] for r in of_it if r["event"] != "retained"] == [
        "shown",
        "partial",
        "accepted",
    ], events
    # The restart (for the next-edit part) measures what is left of it: all of it.
    assert {r["retained_chars"] for r in of_it if r["event"] == "retained"} <= {len(accepted.text)}


def check_next_edit_events(records: list[dict]) -> None:
    """The next-edit part: line 2's edit shown and accepted, line 3's shown and dismissed."""
    ids = list(dict.fromkeys(r["id"] for r in records))
    assert [(r["event"], ids.index(r["id"])) for r in records] == [
        ("shown", 0),
        ("accepted", 0),
        ("shown", 1),
        ("rejected", 1),
    ], records
    assert records[0]["replaced"] == "idth" and records[0]["line"] == 1
    assert records[2]["line"] == 2
