"""`codegen-eval humaneval` and `infill` end to end with a tiny random transformers model."""

import json

import pytest

from codegen.eval.cli import main


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from codegen.core.builtin.tiny import make_random_model

    return make_random_model(tmp_path_factory.mktemp("tiny"))


def test_humaneval_generates_scores_and_resumes(tiny_model, tmp_path):
    out = tmp_path / "run"
    args = ["humaneval", "--model", str(tiny_model), "--limit", "3", "--n", "2",
            "--temperature", "0.8", "--max-new-tokens", "8", "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in rows] == [f"HumanEval/{i}" for i in (0, 0, 1, 1, 2, 2)]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"pass@1", "pass@2", "config", "versions"} <= set(metrics)
    assert metrics["config"]["generation"]["temperature"] == 0.8
    assert metrics["config"]["seed"] == 0
    generations = (out / "generations.jsonl").read_text()
    assert main(args) == 0  # resumed: nothing left to generate
    assert (out / "generations.jsonl").read_text() == generations


def test_infill_builds_fim_prompts_and_scores(tiny_model, tmp_path):
    out = tmp_path / "infill"
    args = ["infill", "--model", str(tiny_model), "--limit", "2", "--max-new-tokens", "6",
            "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["infill_tasks"] == {"single": 2, "multi": 2}
    assert metrics["tasks"] == 4
    assert "single-line" in metrics and "multi-line" in metrics
