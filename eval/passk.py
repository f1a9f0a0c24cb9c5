"""pass@k: the unbiased estimator of Chen et al. (2021) and a bootstrap interval."""

from __future__ import annotations

import random
from collections.abc import Sequence


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn without replacement from
    ``n`` (of which ``c`` are correct) is correct: ``1 - C(n-c, k) / C(n, k)``.

    Computed as a running product, which is exact enough and never overflows.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    prob_all_wrong = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_wrong *= 1.0 - k / i
    return 1.0 - prob_all_wrong


def pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over tasks, each given as ``(n, c)``."""
    if not counts:
        raise ValueError("no tasks")
    return sum(estimate_pass_at_k(n, c, k) for n, c in counts) / len(counts)


def ks_to_report(counts: Sequence[tuple[int, int]], wanted: Sequence[int] = ()) -> list[int]:
    """Every k up to the smallest n, plus each wanted k that every task has enough samples for."""
    smallest = min(n for n, _ in counts)
    return sorted({*range(1, smallest + 1), *(k for k in wanted if 1 <= k <= smallest)})


def bootstrap_interval(
    counts: Sequence[tuple[int, int]],
    k: int,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of pass@k, resampling tasks with replacement."""
    per_task = [estimate_pass_at_k(n, c, k) for n, c in counts]
    rng = random.Random(seed)
    size = len(per_task)
    means = sorted(sum(rng.choices(per_task, k=size)) / size for _ in range(resamples))
    tail = (1.0 - confidence) / 2
    low = means[int(tail * (resamples - 1))]
    high = means[int(round((1.0 - tail) * (resamples - 1)))]
    return low, high
