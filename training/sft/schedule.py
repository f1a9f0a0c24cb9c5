"""The learning-rate schedule of ``codegen-train sft``: warmup then cosine, over the run's
real length.

A step-planned schedule goes wrong under ``--max-minutes``: with ``--epochs 1000``
the planned run is thousands of steps, so a 5% warmup never ends and the cosine
never decays inside a few minutes. Here progress is the larger of *steps done /
steps planned* and *time spent / time budget*, so the same warmup fraction and
cosine fit whichever limit ends the run first. Without a time budget it is the
usual step-based warmup + cosine (and ``--resume`` replays it exactly).
"""

from __future__ import annotations

import math
import time
from typing import Any


class RunClock:
    """Wall-clock share of a time budget spent since :meth:`start` (0 without a budget).

    The clock is read once per optimizer step, by :meth:`tick`, which also makes every
    process of a multi-process run agree on rank 0's reading: the schedule's time
    fraction and the decision to stop must be the same on every process, or their
    learning rates (and so their copies of the model) would drift apart.
    """

    def __init__(self, budget_s: float | None) -> None:
        self.budget_s = budget_s
        self.started: float | None = None
        self.ticked_s = 0.0
        """Seconds since :meth:`start` at the last :meth:`tick`, as rank 0 read them."""

    def start(self) -> None:
        self.started = time.perf_counter()
        self.ticked_s = 0.0

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.perf_counter() - self.started

    def tick(self, device: Any = "cpu") -> float:
        """Read the clock (rank 0's reading on every process); return the seconds elapsed."""
        from .distributed import broadcast_from_main

        self.ticked_s = broadcast_from_main(self.elapsed(), device)
        return self.ticked_s

    def fraction(self) -> float:
        """The share of the budget spent at the last :meth:`tick`."""
        if not self.budget_s or self.started is None:
            return 0.0
        return min(1.0, self.ticked_s / self.budget_s)


def lr_factor(step: int, total_steps: int, time_fraction: float, warmup: float) -> float:
    """Multiplier of the peak learning rate after ``step`` optimizer steps.

    Linear warmup over the first ``warmup`` share of progress, then a cosine down
    to zero at progress 1, where progress = max(step / total_steps, time_fraction).
    """
    progress = min(1.0, max(step / max(1, total_steps), time_fraction))
    if warmup > 0 and progress < warmup:
        return progress / warmup
    rest = (progress - warmup) / max(1e-9, 1.0 - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, rest)))


def budget_cosine_schedule(optimizer: Any, total_steps: int, warmup: float, clock: RunClock) -> Any:
    """A ``LambdaLR`` following :func:`lr_factor` with ``clock``'s time fraction."""
    from torch.optim.lr_scheduler import LambdaLR

    def factor(step: int) -> float:
        return lr_factor(step, total_steps, clock.fraction(), warmup)

    return LambdaLR(optimizer, factor)
