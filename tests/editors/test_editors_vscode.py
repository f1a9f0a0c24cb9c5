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


def test_ghost_text_in_vscode_is_accepted_with_tab(
    vscode_env: dict[str, str], codegen_lsp: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    (workspace / "fib.py").write_text(FIB_HEAD)
    # The fake engine answers this text (its "\\n" are line breaks) to every request.
    reply = FIB_BODY.replace("\n", "\\n")
    (workspace / ".vscode" / "settings.json").write_text(
        json.dumps({"codegen.serverPath": str(codegen_lsp), "codegen.model": f"fake:{reply}"})
    )
    screenshot = tmp_path / "vscode-ghost-text.png"
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
        "screenshot": str(screenshot),
        "timeoutMs": 60000,
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
    # The status bar names the model and shows the latency of the last completion.
    assert "fake" in result["statusText"] and " ms" in result["statusText"], result["statusText"]
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("CODEGEN_UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, SCREENSHOT)
