"""The commands users type, with ``--model http://HOST:PORT/v1`` on a real vLLM server:
the language server over stdio answering inline completions, and ``codegen-eval
humaneval`` end to end. Each answer is checked against the same command in process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import SERVED_MODEL, VllmServer

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(900)]  # the first test also waits for vLLM

SOURCE = (
    "import os\n\n\nclass Point:\n    def __init__(self, x, y):\n        self.x = x\n        \n"
)
CURSOR = "7:9"  # the empty line inside __init__, 1-based as editors show it


def inline_completion(model: str, source: Path, *options: str) -> dict:
    """One ``textDocument/inlineCompletion`` from ``codegen-lsp --stdio`` (stdio_client)."""
    proc = subprocess.run(
        [sys.executable, "-m", "codegen.server.stdio_client", f"{source}:{CURSOR}",
         "--model", model, "--device", "cpu", "--json", "--load-timeout", "300", *options],
        capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_the_language_server_answers_inline_completions_through_vllm(
    vllm_server: VllmServer, tmp_path: Path
) -> None:
    source = tmp_path / "point.py"
    source.write_text(SOURCE)
    options = json.dumps({"model": {"fimFormat": "tiny", "servedModel": SERVED_MODEL}})
    prompts_before = vllm_server.metric("vllm:prompt_tokens_total")
    remote = inline_completion(vllm_server.url, source, "--options", options)
    assert vllm_server.metric("vllm:prompt_tokens_total") > prompts_before  # vLLM was asked
    assert remote["model"] and SERVED_MODEL in str(remote["model"])
    local = inline_completion(str(vllm_server.model.base), source)
    # The same context, prompt and post-processing, so the same suggestion.
    assert remote["insert_text"] == local["insert_text"]
    assert remote["range"] == local["range"]


def run_humaneval(model: str, out: Path, *extra: str) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "codegen.eval.cli", "humaneval", "--model", model,
         "--limit", "3", "--n", "1", "--k", "1", "--max-new-tokens", "48",
         "--out", str(out), *extra],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert "pass@1" in metrics
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all("passed" in row and "result" in row for row in rows)
    return rows


def test_codegen_eval_humaneval_runs_end_to_end_on_vllm(
    vllm_server: VllmServer, tmp_path: Path
) -> None:
    served = run_humaneval(vllm_server.url, tmp_path / "vllm", "--served-model", SERVED_MODEL)
    local = run_humaneval(str(vllm_server.model.base), tmp_path / "local")
    assert [r["task_id"] for r in served] == [r["task_id"] for r in local]
    # Greedy on the same weights: the same completions, so the same verdicts.
    for got, want in zip(served, local, strict=True):
        assert got["completion"] == want["completion"].rstrip("\ufffd"), got["task_id"]
        assert got["passed"] == want["passed"]
