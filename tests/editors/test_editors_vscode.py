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
    # The event hooks are an API proposal; desktop VS Code grants it only to extensions
    # that list it (and run with --enable-proposed-api).
    assert manifest["enabledApiProposals"] == ["inlineCompletionsAdditions"]


def run_e2e(
    vscode_env: dict[str, str], codegen_lsp: Path, tmp_path: Path, **extra: object
) -> tuple[dict, list[dict]]:
    """Runs e2e/run-e2e.mjs on a workspace with fib.py, the server's fake engine answering
    FIB_BODY and its acceptance log on; the driver's result and the log's records."""
    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    (workspace / "fib.py").write_text(FIB_HEAD)
    log = tmp_path / "acceptance.jsonl"
    # The fake engine answers this text (its "\\n" are line breaks) to every request.
    reply = FIB_BODY.replace("\n", "\\n")
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps(
            {
                "codegen.serverPath": str(codegen_lsp),
                "codegen.model": f"fake:{reply}",
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
        "file": "fib.py",
        "type": "\n",
        "expect": FIB_HEAD + "\n    " + FIB_BODY,
        "screenshot": str(tmp_path / "vscode-ghost-text.png"),
        "timeoutMs": 60000,
        **extra,
    }
    config_file = tmp_path / "e2e.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        ["node", str(EXTENSION / "e2e" / "run-e2e.mjs"), str(config_file)],
        env=vscode_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no result from run-e2e.mjs:\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["ok"], json.dumps(result, indent=2)
    # Enter opened an indented line; the three-line suggestion was accepted whole.
    assert result["content"] == FIB_HEAD + "\n    " + FIB_BODY
    assert result["ghostText"].startswith("if n < 2:"), result["ghostText"]
    # The accept (the item's command, workspace/executeCommand) reaches the server log.
    wait_for(
        lambda: '"accepted"' in (log.read_text() if log.exists() else ""), 10, "no accept logged"
    )
    return result, read_records([log])


def test_ghost_text_in_vscode_and_its_acceptance_events(
    vscode_env: dict[str, str], codegen_lsp: Path, tmp_path: Path
) -> None:
    """The ghost text (screenshot), then the provider's event hooks of the
    inlineCompletionsAdditions API proposal (code-server grants every proposal to every
    extension; desktop VS Code only with --enable-proposed-api codegen.codegen): the first
    suggestion is dismissed (Escape); typing "i" brings the next (the rest of it, from the
    server's typed-ahead reuse), whose next word is accepted (Ctrl+Right), then the rest
    (Tab), which runs the item's command (the accept)."""
    steps = [
        {"press": "Escape"},
        {"ghost": "hidden"},
        {"press": "i"},
        {"ghost": "shown"},
        {"press": "Control+ArrowRight"},
        {"ghost": "shown"},
    ]
    result, records = run_e2e(vscode_env, codegen_lsp, tmp_path, steps=steps)
    # The status bar names the model and shows the latency of the last completion.
    assert "fake" in result["statusText"] and " ms" in result["statusText"], result["statusText"]
    screenshot = tmp_path / "vscode-ghost-text.png"
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("CODEGEN_UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, SCREENSHOT)
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
    assert [r["event"] for r in records if r["id"] == accepted.id] == [
        "shown",
        "partial",
        "accepted",
    ], events
