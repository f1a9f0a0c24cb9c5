"""Build the transformers ``Trainer`` for ``codegen-train sft`` and save its result.

The Trainer does the loop: gradient accumulation normalised by the number of
label tokens (``num_items_in_batch``), checkpoints with RNG and sampler state
(``--resume`` replays the same data order), best checkpoint by
``eval_selection`` (FIM exact match, then eval loss), early stopping. Launched by
``torchrun`` or ``accelerate launch`` it is also the DDP loop: each process takes
every N-th micro-batch of one shared data order, and the token count that normalises
the loss is summed over the processes, so N processes train what one process does
with N times the batch. Only rank 0 writes the adapter and ``codegen.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from transformers import Trainer

from codegen.core.metadata import config_fingerprint, write_metadata
from codegen.core.model import LoadedModel

from .callbacks import (
    SELECTION_METRIC,
    FimEvalCallback,
    ProgressBarCallback,
    TimeBudgetCallback,
)
from .collator import PackedCollator
from .config import CHECKPOINTS, PROG, SftConfig
from .data import SftData
from .fim_metric import fim_cases, fit_cases
from .model import check_not_empty
from .packing import PackingStats
from .schedule import RunClock, budget_cosine_schedule


def _optimizer(config: SftConfig, device: str) -> str:
    # Paged 8-bit AdamW needs CUDA; on CPU bitsandbytes' optimizers are not an option.
    if device == "cuda" and config.quantize == "4bit":
        return "paged_adamw_8bit"
    return "adamw_torch"


def training_arguments(config: SftConfig, device: str) -> Any:
    import torch
    from transformers import TrainingArguments

    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    extra: dict[str, Any] = {}
    if config.gradient_checkpointing:
        extra["gradient_checkpointing"] = True
        # Non-reentrant checkpointing is the kind DDP can reduce gradients through.
        extra["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    return TrainingArguments(
        **extra,
        output_dir=str(Path(config.out) / CHECKPOINTS),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr if config.lr is not None else 2e-4,
        # Warmup and cosine come from BudgetTrainer's own scheduler (schedule.py).
        weight_decay=0.0,
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        num_train_epochs=config.epochs,
        optim=_optimizer(config, device),
        bf16=bf16,
        use_cpu=device == "cpu",
        eval_strategy="steps",
        eval_steps=config.eval_every,
        save_strategy="steps",
        save_steps=config.eval_every,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model=SELECTION_METRIC,
        greater_is_better=True,
        logging_steps=max(1, min(10, config.eval_every)),
        include_num_input_tokens_seen="non_padding",
        remove_unused_columns=False,
        dataloader_pin_memory=False,
        # Every trainable tensor (LoRA, the embedding copies) takes part in every forward
        # pass, so DDP need not search the graph for unused ones after each backward.
        ddp_find_unused_parameters=False,
        report_to="none",
        disable_tqdm=True,
        seed=config.seed,
        data_seed=config.seed,
    )


def build_trainer(
    config: SftConfig,
    loaded: LoadedModel,
    model: Any,
    tokenizer: Any,
    pad_id: int,
    boundary: str,
    train_rows: list[dict[str, list[int]]],
    eval_rows: list[dict[str, list[int]]],
    data: SftData,
    resuming: bool,
    extra_callbacks: Any = (),
) -> tuple[Any, TimeBudgetCallback]:
    from transformers import EarlyStoppingCallback, PrinterCallback

    args = training_arguments(config, loaded.device)
    # An empty eval split would make every evaluation fail; evaluate on a few train rows instead.
    eval_rows = eval_rows or train_rows[: max(1, config.batch_size)]
    max_len = int(getattr(model.config, "max_position_embeddings", 4096))
    cases = fit_cases(
        fim_cases(data.eval, loaded.fim, config.fim_eval_examples),
        tokenizer,
        loaded.fim,
        min(config.seq_len, max_len),
    )
    budget = TimeBudgetCallback(config.max_minutes, shapes_schedule=not config.time_is_safety_net())
    fim_callback = FimEvalCallback(tokenizer, cases, loaded.fim, max_len)
    callbacks: list[Any] = [fim_callback]
    if config.patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.patience))
    callbacks += [ProgressBarCallback(show_bar=config.progress), budget, *extra_callbacks]
    # The evaluation at step 0 measures the base model (a fresh LoRA adapter is a no-op).
    args.eval_on_start = not resuming
    trainer = BudgetTrainer(
        budget.clock,
        config.warmup,
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        data_collator=PackedCollator(pad_id, boundary, mask_dtype=_compute_dtype(model)),
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)
    # FSDP shards the weights: every process must then run the same forward passes.
    fim_callback.share_cases = not trainer.is_fsdp_enabled
    return trainer, budget


class BudgetTrainer(Trainer):  # type: ignore[misc]
    """``Trainer`` whose learning-rate schedule is :func:`schedule.lr_factor`: warmup and
    cosine over the planned steps, or over ``--max-minutes`` when the time ends the run
    first (not when the minutes are only a safety net beside ``--max-steps``)."""

    def __init__(self, clock: RunClock, warmup: float, **kwargs: Any) -> None:
        self.run_clock = clock
        self.warmup_share = warmup
        super().__init__(**kwargs)

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        if self.lr_scheduler is None:
            self.lr_scheduler = budget_cosine_schedule(
                optimizer or self.optimizer, num_training_steps, self.warmup_share, self.run_clock
            )
            self._created_lr_scheduler = True  # lets the Trainer rebuild it as it would its own
        return self.lr_scheduler


def _compute_dtype(model: Any) -> Any:
    import torch

    for param in model.parameters():
        if param.is_floating_point():
            return param.dtype
    return torch.float32


def _eval_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log_history if "eval_fim_cases" in e]


def summarize(
    config: SftConfig,
    loaded: LoadedModel,
    trainer: Any,
    data: SftData,
    train_stats: PackingStats,
    eval_stats: PackingStats,
    boundary: str,
    stopped_by_budget: bool,
) -> dict[str, Any]:
    """Refuse an empty adapter, save it with ``codegen.json`` (rank 0 only), return that
    metadata (on every process)."""
    import peft
    import torch
    import transformers

    model = trainer.model
    check_not_empty(model)
    out = Path(config.out)
    main = trainer.is_world_process_zero()
    _save_adapter(trainer, out)
    state = trainer.state
    history = _eval_history(state.log_history)
    base = next((e for e in history if e["step"] == 0), None)
    best_step = state.best_global_step or (history[-1]["step"] if history else state.global_step)
    best = next((e for e in reversed(history) if e["step"] == best_step), None)
    metrics = {
        "base": _metric_view(base),
        "adapter": _metric_view(best),
        "best_step": best_step,
        "steps": state.global_step,
        "fim_eval_cases": history[0]["eval_fim_cases"] if history else 0,
        "train_tokens": state.num_input_tokens_seen,
        "stopped_by": _stop_reason(config, state, stopped_by_budget),
        "planned_steps": state.max_steps,
        "safety_net_hit": stopped_by_budget and config.time_is_safety_net(),
        "evaluations": [{**(_metric_view(e) or {}), "step": e["step"]} for e in history],
    }
    revision = getattr(loaded.model.config, "_commit_hash", None)
    meta = {
        "kind": "lora-adapter",
        "base_model": config.base,
        "base_revision": revision,
        "base_fingerprint": config_fingerprint(trainer.model.get_base_model().config),
        "fim_format": loaded.fim.name,
        "quantize": config.quantize,
        "data_dir": data.path,
        "data_manifest_sha256": data.manifest_sha256,
        "data_stats": {
            "train": train_stats.as_dict(config.seq_len),
            "eval": eval_stats.as_dict(config.seq_len),
        },
        "packing_boundary": boundary if config.packing else "none",
        "metrics": metrics,
        "training": {
            **{k: v for k, v in vars(config).items() if k not in ("progress",)},
            "embeddings_trained": bool(model.peft_config["default"].modules_to_save),
            "processes": trainer.args.world_size,
            "global_batch_rows": config.batch_size * config.grad_accum * trainer.args.world_size,
        },
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
        },
    }
    if main:
        write_metadata(out, **meta)
        _print_result(meta)
    return meta


def _save_adapter(trainer: Any, out: Path) -> None:
    """Write the adapter once. Under FSDP the weights are sharded, so every process takes
    part in gathering a full state dict and the Trainer writes it from rank 0."""
    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
        trainer.save_model(str(out))
    elif trainer.is_world_process_zero():
        trainer.model.save_pretrained(str(out))


def _metric_view(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"fim_em": entry["eval_fim_em"], "eval_loss": round(float(entry["eval_loss"]), 4)}


def _stop_reason(config: SftConfig, state: Any, stopped_by_budget: bool) -> str:
    if stopped_by_budget:
        return "max_minutes"
    if state.global_step < state.max_steps:
        return "early_stopping"
    return "max_steps" if config.max_steps > 0 else "epochs"


def stop_lines(metrics: dict[str, Any], max_minutes: float | None) -> list[str]:
    """What ended the run, for the end-of-run output; a warning when the ``--max-minutes``
    safety net cut short a run planned by ``--max-steps`` (its figures are then not the
    ones that run would give on a faster machine)."""
    steps, planned = metrics["steps"], metrics["planned_steps"]
    timed = metrics["stopped_by"] == "max_minutes" and not metrics.get("safety_net_hit")
    of = "" if timed else f" of {planned}"  # --max-minutes alone: its plan is not a plan
    lines = [f"{PROG}: stopped by {metrics['stopped_by']} after {steps}{of} steps"]
    if metrics.get("safety_net_hit"):
        lines.append(
            f"{PROG}: warning: the --max-minutes {max_minutes:g} safety net stopped training at "
            f"step {steps} of the {planned} that --max-steps asks for; these figures are from a "
            "shorter run (raise --max-minutes, or run on a less busy machine, to reproduce them)"
        )
    return lines


def _print_result(meta: dict[str, Any]) -> None:
    m = meta["metrics"]

    def fmt(view: dict[str, Any] | None) -> str:
        if view is None:
            return "n/a"
        em = "n/a" if view["fim_em"] is None else f"{view['fim_em']:.3f}"
        return f"FIM exact match {em}, eval loss {view['eval_loss']:.4f}"

    for line in stop_lines(m, meta["training"]["max_minutes"]):
        print(line, file=sys.stderr)
    print(f"{PROG}: base:    {fmt(m['base'])}", file=sys.stderr)
    print(
        f"{PROG}: adapter: {fmt(m['adapter'])} (step {m['best_step']}); "
        f"saved to {meta['training']['out']}",
        file=sys.stderr,
    )
