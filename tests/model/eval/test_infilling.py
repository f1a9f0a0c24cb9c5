"""`codegen-eval infill --problems` end to end with the tiny random model, on a slice of
HumanEval-SingleLineInfilling: FIM prompts, the run directory, resuming, rescoring."""

import gzip
import json

from codegen.core.transformers_engine import load_engine
from codegen.eval.cli import main

SINGLE = "human-eval-infilling/HumanEval-SingleLineInfilling.jsonl.gz"


def test_infill_problems_runs_end_to_end_and_resumes(tiny_model_dir, bench_data, tmp_path):
    path = bench_data(SINGLE)
    out = tmp_path / "run"
    args = ["infill", "--problems", str(path), "--model", str(tiny_model_dir), "--stride", "100",
            "--limit", "3", "--max-new-tokens", "6", "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    generations = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    with gzip.open(path, "rt") as f:
        ids = [json.loads(line)["task_id"] for line in f][::100][:3]
    assert sorted(g["task_id"] for g in generations) == sorted(ids)  # in finishing order
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in results] == ids
    assert all(r["result"] == "passed" or not r["passed"] for r in results)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["benchmark"] == "HumanEval-SingleLineInfilling"
    assert metrics["truncation"] == "reference" and metrics["config"]["truncation"] == "reference"
    assert metrics["config"]["rows"] == 3 and metrics["config"]["rows_in_file"] == 1033
    assert 0.0 <= metrics["exact_match"] <= 1.0 and "pass@1" in metrics
    engine = load_engine(str(tiny_model_dir), device="cpu")
    assert metrics["config"]["fim_format"] == engine.fim.name
    assert metrics["config"]["generation"]["stop"] == list(engine.fim.stop_strings)
    report = (out / "report.md").read_text()
    assert "HumanEval-SingleLineInfilling (3 of 1033 rows" in report
    assert "Truncation: `reference`" in report and "| exact_match |" in report

    before = (out / "generations.jsonl").read_text()
    rerun = args[:-1] + [str(out)] + ["--truncation", "first-line"]
    assert main(rerun) == 0  # resumed: nothing generated again, scored with another rule
    assert (out / "generations.jsonl").read_text() == before
    assert json.loads((out / "metrics.json").read_text())["truncation"] == "first-line"

    samples = tmp_path / "middles.jsonl"
    samples.write_text(before)
    rescored = tmp_path / "rescored"
    assert main(["samples", str(samples), "--problems", str(path), "--out", str(rescored)]) == 0
    again = [json.loads(x) for x in (rescored / "results.jsonl").read_text().splitlines()]
    assert {r["task_id"]: r["completion"] for r in again} == {
        r["task_id"]: r["completion"] for r in results
    }  # the same middles scored, in the samples file's order
    assert (
        json.loads((rescored / "metrics.json").read_text())["exact_match"]
        == (metrics["exact_match"])
    )


def test_infill_without_problems_names_the_tree_sitter_holes(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "holes"
    args = ["infill", "--model", str(tiny_model_dir), "--limit", "1", "--max-new-tokens", "4",
            "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["benchmark"] == "tree-sitter holes cut from HumanEval"
    assert "Benchmark: tree-sitter holes cut from HumanEval" in (out / "report.md").read_text()
    assert main([*args, "--problems", "humaneval.jsonl"]) == 2  # not a file: one-line error
    assert "not found" in capsys.readouterr().err
