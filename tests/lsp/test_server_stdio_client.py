"""`python -m codegen.server.stdio_client`: one real stdio round trip from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_client(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "codegen.server.stdio_client", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_prints_the_servers_suggestion(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("def total(items):\n    \n")
    proc = run_client(f"{source}:2:5", "--model", "fake:return sum(items)", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["insert_text"] == "return sum(items)"
    assert out["range"][:2] == [1, 4]
    # the server publishes syntax diagnostics on open; the client takes them quietly
    assert "Ignoring notification" not in proc.stderr, proc.stderr


def test_bad_location_is_one_line(tmp_path: Path) -> None:
    proc = run_client("nofile.py:x:1")
    assert proc.returncode == 2 and "FILE:LINE:COL" in proc.stderr
    proc = run_client(f"{tmp_path / 'missing.py'}:1:1")
    assert proc.returncode == 2 and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_clear_rest_of_line_hides_what_follows_the_cursor(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("def total(items):\n    return sum(items)\n")
    proc = run_client(f"{source}:2:5", "--model", "fake:return sum(items)", "--json",
                      "--clear-rest-of-line")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # With the rest of the line gone, the suggestion no longer duplicates the suffix.
    assert out["insert_text"] == "return sum(items)"
    assert out["actual_rest_of_line"] == "return sum(items)"
