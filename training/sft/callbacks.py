"""Trainer callbacks for ``codegen-train sft``: FIM exact match at every evaluation,
a progress bar with loss and tokens/s, and a wall-clock budget (or safety net).

Every process of a multi-process run calls them; each is written so that the run
behaves as one: the FIM cases are shared out between the processes and their hits
summed, the bar and the evaluation lines come from rank 0, and rank 0's clock decides
when the time is up (:mod:`codegen.training.sft.distributed`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from codegen.core.fim import FimFormat

from .distributed import shared_hit_rate
from .fim_metric import FimCase, fim_exact_match
from .schedule import RunClock

SELECTION_METRIC = "selection"


def selection_score(fim_em: float | None, eval_loss: float) -> float:
    """What "best checkpoint" means: highest FIM exact match, ties broken by lower eval loss.

    The loss term is scaled so that it can never outweigh one FIM case
    (losses stay far below 1e4 in practice). Without FIM cases, lowest loss wins.
    """
    if fim_em is None:
        return -eval_loss
    return fim_em - 1e-7 * eval_loss


class FimEvalCallback(TrainerCallback):  # type: ignore[misc]
    """Adds ``eval_fim_em`` and ``eval_selection`` to the metrics of every evaluation.

    Runs before the Trainer picks the best checkpoint and before early stopping,
    both of which read ``eval_selection``. Under DDP each process generates every
    ``world_size``-th case and the hits are summed, so the metric costs 1/N of the
    time and is the same number on every process (which keeps best-checkpoint and
    early-stopping decisions in step). ``share_cases = False`` (FSDP, where every
    process must run the same forward passes) makes every process do all the cases.
    """

    def __init__(
        self, tokenizer: Any, cases: Sequence[FimCase], fmt: FimFormat, max_len: int
    ) -> None:
        self.tokenizer = tokenizer
        self.cases = list(cases)
        self.fmt = fmt
        self.max_len = max_len
        self.share_cases = True

    def _exact_match(self, args: Any, model: Any) -> float:
        def hit_rate(cases: list[FimCase]) -> float:
            return fim_exact_match(model, self.tokenizer, cases, self.fmt, self.max_len)

        if not self.share_cases:
            return hit_rate(self.cases)
        return shared_hit_rate(self.cases, hit_rate, args.device)

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        metrics = kwargs.get("metrics")
        model = kwargs.get("model")
        if metrics is None or model is None:
            return
        fim_em = None
        if self.cases:
            fim_em = self._exact_match(args, model)
            metrics["eval_fim_em"] = fim_em
        metrics[f"eval_{SELECTION_METRIC}"] = selection_score(fim_em, metrics["eval_loss"])
        entry = {
            "step": state.global_step,
            "eval_loss": metrics["eval_loss"],
            "eval_fim_em": fim_em,
            "eval_fim_cases": len(self.cases),
        }
        # log_history is saved in every checkpoint, so a resumed run keeps the base figures.
        state.log_history.append(entry)


class ProgressBarCallback(TrainerCallback):  # type: ignore[misc]
    """A tqdm bar over optimizer steps showing loss and training tokens/s; one line per eval
    (printed even without the bar). Rank 0 only: the other processes show nothing."""

    def __init__(self, show_bar: bool = True) -> None:
        self.show_bar = show_bar
        self.bar: Any = None
        self.start_time = 0.0
        self.start_tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        from tqdm import tqdm

        if self.show_bar and state.is_world_process_zero:
            self.bar = tqdm(
                total=state.max_steps,
                initial=state.global_step,
                desc="sft",
                unit="step",
                file=sys.stderr,
            )
        self.start_time = time.perf_counter()
        self.start_tokens = state.num_input_tokens_seen

    def tokens_per_second(self, state: Any) -> float:
        elapsed = time.perf_counter() - self.start_time
        return (state.num_input_tokens_seen - self.start_tokens) / max(elapsed, 1e-9)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        logs = kwargs.get("logs") or {}
        if self.bar is None:
            return
        if "loss" in logs:
            self.bar.set_postfix(
                loss=f"{logs['loss']:.3f}", tok_s=f"{self.tokens_per_second(state):.0f}"
            )

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        metrics = kwargs.get("metrics") or {}
        if not state.is_world_process_zero:
            return
        parts = [f"step {state.global_step}", f"eval_loss {metrics.get('eval_loss', 0.0):.4f}"]
        if "eval_fim_em" in metrics:
            parts.append(f"fim_em {metrics['eval_fim_em']:.3f}")
        line = "sft eval: " + ", ".join(parts)
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class TimeBudgetCallback(TrainerCallback):  # type: ignore[misc]
    """Stop after ``minutes`` of training, evaluating and saving at that step first.

    Also evaluates the final step, so the last stretch of training can be the best.
    With ``shapes_schedule`` (the time is the run's length) the learning-rate schedule
    fits its cosine to the minutes; without it (the minutes are a safety net beside
    ``--max-steps``) the schedule follows the steps alone, so that the same steps train
    the same model however busy the machine. Under DDP rank 0's clock is every
    process's clock (:meth:`RunClock.tick`), so all of them stop at the same step.
    """

    def __init__(self, minutes: float | None, shapes_schedule: bool = True) -> None:
        self.budget_s = None if minutes is None else minutes * 60
        self.clock = RunClock(self.budget_s if shapes_schedule else None)
        """Shared with the learning-rate schedule; without a budget its fraction is 0."""
        self.stopped_by_budget = False

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.clock.start()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step >= state.max_steps:
            control.should_evaluate = True
            control.should_save = True
            return  # the planned steps are done: the clock did not end this run
        if self.budget_s is None or self.clock.tick(getattr(args, "device", "cpu")) < self.budget_s:
            return
        self.stopped_by_budget = True
        control.should_training_stop = True
        control.should_evaluate = True
        control.should_save = True
