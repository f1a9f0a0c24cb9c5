"""The command lines with a remote engine: one line and a non-zero exit for each failure."""

from __future__ import annotations

import json
import socket

import pytest

from codegen.eval.cli import main as eval_main

from .fake_server import FakeModelServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = eval_main(list(argv))
    return code, capsys.readouterr().err


def test_unreachable_server_is_one_line_and_exit_2(capsys, tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    code, err = _run(capsys, "humaneval", "--model", url, "--limit", "1", "--out", str(tmp_path))
    assert code == 2
    assert err.strip().count("\n") == 0 and "codegen-eval: error: cannot reach" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda s: setattr(s, "api_key", "k" * 24), "refused the request (HTTP 401"),
        (lambda s: None, "does not serve 'nope'"),
        (lambda s: setattr(s, "mode", "bad_utf8"), "invalid UTF-8"),
    ],
)
def test_server_failures_are_one_line(capsys, tmp_path, setup, expected, monkeypatch):
    monkeypatch.delenv("CODEGEN_API_KEY", raising=False)
    with FakeModelServer("vllm") as server:
        setup(server)
        served = ["--served-model", "nope"] if "nope" in expected else []
        code, err = _run(
            capsys, "humaneval", "--model", server.url, *served, "--limit", "1",
            "--out", str(tmp_path), "--k", "1",
        )  # fmt: skip
    assert code == 2 and expected in err and err.strip().count("\n") == 0


def test_humaneval_through_a_server_end_to_end(capsys, tmp_path):
    with FakeModelServer("vllm", reply="    return 0\n") as server:
        code = eval_main(
            ["humaneval", "--model", server.url, "--limit", "2", "--out", str(tmp_path),
             "--k", "1", "--workers", "1"]
        )  # fmt: skip
        bodies = server.completions()
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["completion"].startswith("    return 0") for r in rows)
    assert len(bodies) == 2 and "def " in bodies[0]["prompt"]  # the raw HumanEval prompt
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert "pass@1" in metrics
