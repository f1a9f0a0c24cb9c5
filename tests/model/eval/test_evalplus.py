"""`codegen-eval humaneval --problems` on EvalPlus files end to end with the tiny random
model: EvalPlus's prompts and stops, base and plus metrics, and resuming."""

import json

import pytest

from codegen.eval.cli import main
from codegen.eval.generate import PROFILES


@pytest.mark.parametrize(
    "relative, profile, names",
    [
        ("evalplus/HumanEvalPlus-Mini.jsonl.gz", "evalplus-humaneval", ("HumanEval", "HumanEval+")),
        ("evalplus/MbppPlus.jsonl.gz", "evalplus-mbpp", ("MBPP", "MBPP+")),
    ],
)
def test_generate_and_score_evalplus_problems(tiny_model_dir, bench_data, tmp_path, relative,
                                              profile, names):  # fmt: skip
    out = tmp_path / "run"
    args = ["humaneval", "--problems", str(bench_data(relative)), "--model", str(tiny_model_dir),
            "--limit", "2", "--max-new-tokens", "8", "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["generation"]["profile"] == profile
    assert metrics["config"]["generation"]["stop"] == list(PROFILES[profile].stop)
    assert metrics["evalplus"] == {"base": names[0], "plus": names[1]}
    assert 0.0 <= metrics[names[1]]["pass@1"] <= metrics[names[0]]["pass@1"] <= 1.0
    assert metrics["tasks"] == 2
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert all({"base_status", "plus_status"} <= set(r) for r in rows)
    before = (out / "generations.jsonl").read_text()
    assert main(args) == 0  # resumed: nothing generated again
    assert (out / "generations.jsonl").read_text() == before
