"""The rules that keep the rooms clean (DESIGN.md), checked on the source tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "core": "codegen.core",
    "server": "codegen.server",
    "training": "codegen.training",
    "eval": "codegen.eval",
}


def imported_modules(folder: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module))
    return found


@pytest.mark.parametrize("folder", ["server", "training", "eval"])
def test_features_import_core_but_never_each_other(folder: str) -> None:
    others = [pkg for name, pkg in PACKAGES.items() if name not in (folder, "core")]
    bad = [(f, m) for f, m in imported_modules(folder) if any(m.startswith(o) for o in others)]
    assert bad == []


def test_core_imports_no_lsp_library() -> None:
    bad = [
        (f, m)
        for f, m in imported_modules("core")
        if m.split(".")[0] in ("pygls", "lsprotocol") or m.startswith("codegen.server")
    ]
    assert bad == []


def test_importing_server_and_eval_does_not_import_torch() -> None:
    code = (
        "import sys, codegen.server, codegen.server.cli, codegen.eval, codegen.eval.cli, "
        "codegen.core.engine, codegen.core.fim\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("script", ["codegen-lsp", "codegen-train", "codegen-eval"])
def test_help_works(script: str) -> None:
    exe = Path(sys.executable).parent / script
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout
