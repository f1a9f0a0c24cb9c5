"""EvalPlus problems scored the EvalPlus way, through the real sandbox (cheap tier).

Synthetic problems pin each rule down; a slice of HumanEval+-Mini (from the shared
benchmark data) shows canonical solutions passing and mutants judged as a direct,
in-process run of the same inputs judges them. The full files and the parity with
evalplus's own evaluator are in test_evalplus_heavy.py (``make test-heavy``).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from codegen.eval.cli import main
from codegen.eval.evalplus.data import load_evalplus
from codegen.eval.evalplus.expected import TimeLimits
from codegen.eval.evalplus.mutants import all_mutants
from codegen.eval.evalplus.oracle import OutputCheck
from codegen.eval.evalplus.scoring import score_evalplus
from codegen.eval.problems import Sample
from codegen.eval.sandbox.launcher import SandboxPolicy
from codegen.eval.sandbox.pool import SandboxPool

FAST = TimeLimits(min_time_limit=0.3)
ROWS = [
    {"task_id": "HumanEval/0", "entry_point": "add", "prompt": "def add(a, b):\n",
     "canonical_solution": "    return a + b\n", "atol": 0, "contract": "",
     "base_input": [[1, 2], [3, 4]], "plus_input": [[10**30, 1], [-1, 1]]},
    {"task_id": "HumanEval/1", "entry_point": "mean", "prompt": "def mean(xs):\n",
     "canonical_solution": "    return sum(xs) / len(xs)\n", "atol": 0, "contract": "",
     "base_input": [[[1.0, 2.0]]], "plus_input": [[[0.1, 0.2, 0.3]], [[1e-3] * 7]]},
]  # fmt: skip
ADD_CASES = {
    "    return a + b\n": ("pass", "pass"),
    "    return a + b + 1\n": ("fail", "fail"),
    "    return a + b if abs(a) < 10**9 else 0\n": ("pass", "fail"),
    "    while True:\n        pass\n": ("fail", "fail"),  # per-input time limit
    "    raise ValueError('no')\n": ("fail", "fail"),
    "    class Yes:\n        def __eq__(self, other):\n            return True\n"
    "    return Yes()\n": ("fail", "fail"),  # not plain data: cannot cross the boundary
    "    import os\n    print('passed')\n    os._exit(0)\n": ("fail", "fail"),
    "    return a - b\nwhile True:\n    pass\n": ("timeout", "timeout"),  # the whole check
}
MEAN_CASES = {
    "    return sum(xs) / len(xs) + 1e-9\n": ("pass", "pass"),  # within EvalPlus's 1e-6
    "    return sum(xs) / len(xs) + 1e-4\n": ("fail", "fail"),
    "    return round(sum(xs) / len(xs), 1)\n": ("pass", "fail"),
}


@pytest.fixture(scope="module")
def problem_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evalplus") / "problems.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(2, SandboxPolicy(timeout_s=3.0)) as p:
        yield p


def test_each_rule_through_the_sandbox(problem_file: Path, pool: SandboxPool) -> None:
    problems = load_evalplus(str(problem_file))
    cases = [("HumanEval/0", c, want) for c, want in ADD_CASES.items()]
    cases += [("HumanEval/1", c, want) for c, want in MEAN_CASES.items()]
    samples = [Sample(t, c, problems[t].prompt + c) for t, c, _ in cases]
    rows = score_evalplus(samples, problems, pool, FAST)
    got = {(r.task_id, r.completion): (r.base_status, r.plus_status) for r in rows}
    assert got == {(t, c): want for t, c, want in cases}
    by_completion = {r.completion: r for r in rows}
    assert by_completion["    while True:\n        pass\n"].result.startswith(
        "failed: time limit: 0.30 s on base input 0"
    )
    assert by_completion["    return a + b + 1\n"].result == "failed: wrong output: base input 0"
    assert all(r.passed == (r.base_status == r.plus_status == "pass") for r in rows)


def test_cli_writes_base_and_plus_side_by_side(problem_file: Path, tmp_path: Path, capsys) -> None:
    samples = tmp_path / "samples.jsonl"
    rows = [{"task_id": "HumanEval/0", "completion": "    return a + b\n"},
            {"task_id": "HumanEval/0", "solution": "def add(a, b):\n    return a + b + 1\n"},
            {"task_id": "HumanEval/1", "completion": "    return round(sum(xs) / len(xs), 1)\n"},
            {"task_id": "HumanEval/1", "completion": "    return sum(xs) / len(xs)\n"}]  # fmt: skip
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    argv = ["samples", str(samples), "--problems", str(problem_file), "--out", str(out),
            "--workers", "2", "--min-time-limit", "0.3"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["HumanEval"]["pass@1"] == pytest.approx(0.75)
    assert metrics["HumanEval+"]["pass@1"] == pytest.approx(0.5)
    assert metrics["pass@1"] == metrics["HumanEval+"]["pass@1"]
    assert metrics["config"]["time_limits"]["min_time_limit"] == 0.3
    report = (out / "report.md").read_text()
    assert "| metric | HumanEval | HumanEval+ |" in report
    assert "| pass@1 | 0.7500" in report
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["base_status"], r["plus_status"], r["passed"]) for r in results] == [
        ("pass", "pass", True), ("fail", "fail", False),
        ("pass", "fail", False), ("pass", "pass", True),
    ]  # fmt: skip
    assert (
        "HumanEval: pass@1=0.7500 pass@2=1.0000 | HumanEval+: pass@1=0.5000"
        in capsys.readouterr().out
    )


def test_cli_errors_are_one_line(problem_file: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**ROWS[0], "atol": "x"}) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": ""}) + "\n")
    assert main(["samples", str(samples), "--problems", str(bad), "--out", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "atol must be a number" in err and "Traceback" not in err


# -- a slice of HumanEval+-Mini: canonical solutions and mutants ------------------------


def _direct(problem, program: str, part: str, expected: list) -> str | None:
    """The part's status from running ``program`` right here (no sandbox), or None when
    a call ran out of time (machine-dependent: left out of the comparison)."""
    namespace: dict = {}
    exec(compile(program, "<mutant>", "exec"), namespace)
    function, check = namespace[problem.entry_point], OutputCheck(problem)

    def alarm(*_):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for args, want in zip(problem.inputs(part), expected, strict=True):
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            try:
                out = function(*json.loads(json.dumps(args)))
            except TimeoutError:
                return None
            except Exception:  # noqa: BLE001 - a raising mutant fails that input
                return "fail"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if not check.matches(args, out, want):
                return "fail"
        return "pass"
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_mini_slice_canonical_pass_and_mutants_match_a_direct_run(bench_data, pool) -> None:
    path = bench_data("evalplus/HumanEvalPlus-Mini.jsonl.gz")
    problems = load_evalplus(str(path))
    heavy = {"HumanEval/15", "HumanEval/100", "HumanEval/130", "HumanEval/139"}
    chosen = [p for i, p in enumerate(problems.values()) if i % 6 == 0 and p.task_id not in heavy]
    subset = {p.task_id: p for p in chosen}
    mutants = list(all_mutants(chosen, per_task=2))
    assert len(mutants) >= 40
    samples = [Sample(p.task_id, "", p.prompt + p.canonical_solution) for p in chosen]
    samples += [Sample(m.task_id, m.description, m.solution) for m in mutants]
    rows = score_evalplus(samples, subset, pool)
    canonical, mutated = rows[: len(chosen)], rows[len(chosen) :]
    assert [r.task_id for r in canonical if not r.passed] == []
    expected = {}
    for p in chosen:
        ns: dict = {}
        exec(p.prompt + p.canonical_solution, ns)
        expected[p.task_id] = {part: [ns[p.entry_point](*a) for a in p.inputs(part)]
                               for part in ("base", "plus")}  # fmt: skip
    compared = failed = 0
    for mutant, row in zip(mutants, mutated, strict=True):
        p = subset[mutant.task_id]
        for part, ours in (("base", row.base_status), ("plus", row.plus_status)):
            direct = _direct(p, mutant.solution, part, expected[p.task_id][part])
            if direct is None or ours == "timeout" or "time limit" in row.result:
                continue
            assert ours == direct, (mutant.task_id, mutant.description, part, row.result)
            compared += 1
            failed += ours == "fail"
    assert compared >= 60 and failed >= 30  # most mutants are wrong, and are caught
