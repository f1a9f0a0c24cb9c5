"""``codegen-train sft``: fine-tune a LoRA (or QLoRA) adapter on ``codegen-train data`` output.

Reads top to bottom: load data and base model, tokenize with completion-only
labels, pack, wrap the model with LoRA, hand everything to the transformers
``Trainer`` (which does accumulation normalised by token count, checkpoints,
resume, best-checkpoint selection and early stopping), then save the adapter
with its ``codegen.json``. The FIM exact-match metric, the progress bar and the
time budget are Trainer callbacks.

Layout of ``--out``: the adapter (``adapter_config.json``,
``adapter_model.safetensors``, ``codegen.json``) and ``checkpoints/`` (Trainer
checkpoints for ``--resume``, plus ``run.json`` with the run's configuration).

Under ``torchrun`` / ``accelerate launch`` every process runs this same function on
the same data (tokenizing and packing are deterministic, so all of them build the
same rows); rank 0 alone prints and writes files (:mod:`.distributed`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from codegen.core.errors import CodegenError, ConfigError
from codegen.core.fim import get_fim_format

from .config import CHECKPOINTS, PROG, RESUME_KEYS, RUN_FILE, SftConfig
from .data import SftData, load_sft_data
from .distributed import (
    Ranks,
    bind_cuda_device,
    fsdp_launch,
    launch_ranks,
    print_main,
    quiet_replica,
)
from .packing import PackingStats, pack_examples, tokenize_examples, update_row_stats

log = logging.getLogger(__name__)


class RunStateError(CodegenError):
    """``--out`` holds another run, or ``--resume`` does not match the interrupted run."""


def _same_fim(a: Any, b: Any) -> bool:
    return dataclasses.replace(a, name="") == dataclasses.replace(b, name="")


SMALL_MODEL_PARAMETERS = 50_000_000


def default_lr(parameters: int) -> float:
    """LoRA learning rate by base size: tiny models (builtin:tiny) learn fastest at 5e-3,
    billion-parameter code models at the usual 2e-4."""
    return 5e-3 if parameters < SMALL_MODEL_PARAMETERS else 2e-4


def wants_embeddings(setting: str, parameters: int) -> bool:
    """Whether to train embeddings and output head in full: on request, or by default for
    small models, where they are a large share of the model and cheap to store (for a
    1.5B model they would be ~230M parameters: LoRA alone is the right default there)."""
    if setting not in ("auto", "yes", "no"):
        raise ConfigError(f"--train-embeddings must be auto, yes or no, not {setting!r}")
    return setting == "yes" or (setting == "auto" and parameters < SMALL_MODEL_PARAMETERS)


def _checkpoint_complete(path: Path, world_size: int) -> bool:
    # Rank 0 writes trainer_state.json after its own files, but the other ranks write
    # their RNG states (rng_state_R.pth) at the same time: wait for all of them.
    if not (path / "trainer_state.json").is_file():
        return False
    return world_size == 1 or all(
        (path / f"rng_state_{rank}.pth").is_file() for rank in range(world_size)
    )


def last_complete_checkpoint(ckpt_dir: Path, world_size: int = 1) -> Path | None:
    """The newest ``checkpoint-N`` that was written to the end by all ``world_size`` processes.

    The Trainer writes ``trainer_state.json`` last, so a checkpoint without it
    was interrupted mid-save (kill -9) and is skipped.
    """
    if not ckpt_dir.is_dir():
        return None
    found = []
    for path in ckpt_dir.glob("checkpoint-*"):
        step = path.name.removeprefix("checkpoint-")
        if step.isdigit() and _checkpoint_complete(path, world_size):
            found.append((int(step), path))
    return max(found)[1] if found else None


RECORD_DEFAULTS = {"world_size": 1}
"""Values of keys that a ``run.json`` written before they existed lacks."""


def _check_resumable(config: SftConfig, run_file: Path, world_size: int) -> None:
    before = json.loads(run_file.read_text())
    now = _run_record(config, None, world_size)
    was = before.get("world_size", RECORD_DEFAULTS["world_size"])
    if was != world_size:
        raise RunStateError(
            f"--resume: the interrupted run in {config.out} ran {was} process(es), this one "
            f"runs {world_size}; relaunch with the same number (torchrun --nproc_per_node {was}), "
            "since the data order and the global batch depend on it"
        )
    changed = [k for k in RESUME_KEYS if before.get(k, RECORD_DEFAULTS.get(k)) != now.get(k)]
    if changed:
        raise RunStateError(
            f"--resume: {', '.join(changed)} differ from the interrupted run in {config.out}; "
            "resume with the same options or start a new --out"
        )


def _check_out_dir(config: SftConfig, ranks: Ranks) -> str | None:
    """The checkpoint to resume from, if any; refuse to mix two runs in one ``--out``."""
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {config.out} is a file; pass a directory")
    ckpt_dir = out / CHECKPOINTS
    any_saved = last_complete_checkpoint(ckpt_dir)
    if not config.resume:
        if any_saved or (out / "adapter_config.json").exists():
            raise RunStateError(
                f"--out {config.out} already holds a run; pass --resume to continue it "
                "or choose another --out"
            )
        return None
    if any_saved is not None and (ckpt_dir / RUN_FILE).is_file():
        _check_resumable(config, ckpt_dir / RUN_FILE, ranks.world_size)
    last = last_complete_checkpoint(ckpt_dir, ranks.world_size)
    if last is None:
        print_main(f"{PROG}: no checkpoint in {ckpt_dir} yet; starting from the beginning")
        return None
    return str(last)


def _run_record(config: SftConfig, data: SftData | None, world_size: int) -> dict[str, Any]:
    record = asdict(config)
    record["world_size"] = world_size
    if data is not None:
        record["data_manifest_sha256"] = data.manifest_sha256
    return record


def _write_run_file(path: Path, record: dict[str, Any]) -> None:
    # Written whole and renamed: another process may be reading the previous one.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)


def _check_data_manifest(config: SftConfig, data: SftData) -> None:
    run_file = Path(config.out) / CHECKPOINTS / RUN_FILE
    if config.resume and run_file.is_file():
        before = json.loads(run_file.read_text()).get("data_manifest_sha256")
        if before != data.manifest_sha256:
            raise RunStateError(
                f"--resume: the data in {config.data} changed since the interrupted run "
                "(manifest hash differs); start a new --out"
            )


def _prepare_rows(
    tokenizer: Any, rows: Any, config: SftConfig, fim: Any, limit: int | None = None
) -> tuple[list[dict[str, list[int]]], PackingStats]:
    stats = PackingStats()
    selected = rows if limit is None else rows.select(range(min(limit, len(rows))))
    examples = tokenize_examples(tokenizer, selected, config.seq_len, stats, fim)
    packed = pack_examples(examples, config.seq_len, pack=config.packing)
    update_row_stats(stats, packed)
    return packed, stats


def _report_packing(name: str, stats: PackingStats, seq_len: int) -> None:
    line = (
        f"{PROG}: {name}: {stats.examples} examples -> {stats.rows} rows of <= {seq_len} tokens "
        f"(fill {stats.fill(seq_len):.0%}); {stats.context_trimmed} FIM contexts trimmed, "
        f"{stats.truncated} completions truncated, "
        f"{stats.dropped_completion_truncated} dropped because the prompt alone fills --seq-len, "
        f"{stats.dropped_empty_completion} dropped with an empty completion"
    )
    print_main(line)


def train_sft(config: SftConfig, extra_callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Train and save the adapter to ``config.out``; return the ``codegen.json`` content.

    The same call runs in every process of a ``torchrun`` / ``accelerate launch`` launch.
    """
    from codegen.core.model import load_model

    from .model import add_lora, choose_boundary_mode, choose_pad_token_id
    from .trainer import build_trainer, summarize

    if config.lora_r < 1 or config.seq_len < 8 or config.batch_size < 1 or config.grad_accum < 1:
        raise ConfigError("--lora-r, --batch-size and --grad-accum must be >= 1, --seq-len >= 8")
    if not 0.0 <= config.warmup < 1.0:
        raise ConfigError(f"--warmup must be in [0, 1), not {config.warmup}")
    wants_embeddings(config.train_embeddings, 0)  # a bad value fails before any loading
    ranks = launch_ranks()
    quiet_replica(ranks)
    data = load_sft_data(config.data)
    resume_from = _check_out_dir(config, ranks)
    _check_data_manifest(config, data)
    bind_cuda_device(ranks, config.device)
    loaded = load_model(
        config.base, quantize=config.quantize, device=config.device, sharded=fsdp_launch()
    )
    if data.fim_format and not _same_fim(get_fim_format(data.fim_format), loaded.fim):
        raise ConfigError(
            f"--data was built with FIM format {data.fim_format!r} but {config.base} uses "
            f"{loaded.fim.name!r}; rebuild it with codegen-train data --fim-format {loaded.fim.name}"
        )
    tokenizer = loaded.tokenizer
    pad_id, pad_note = choose_pad_token_id(tokenizer)
    tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad_id)
    print_main(f"{PROG}: padding with {pad_note}")

    train_rows, train_stats = _prepare_rows(tokenizer, data.train, config, loaded.fim)
    eval_rows, eval_stats = _prepare_rows(
        tokenizer, data.eval, config, loaded.fim, config.eval_examples
    )
    _report_packing("train", train_stats, config.seq_len)
    if not train_rows:
        raise ConfigError(
            f"no training example fits in --seq-len {config.seq_len}: every prompt fills it; "
            "raise --seq-len"
        )

    from transformers import set_seed

    model = loaded.model
    model.config.use_cache = False
    record = _run_record(config, data, ranks.world_size)
    if config.lr is None:
        config = dataclasses.replace(config, lr=default_lr(model.num_parameters()))
    set_seed(config.seed)  # LoRA's A matrices are drawn from the global RNG
    embeddings = wants_embeddings(config.train_embeddings, model.num_parameters())
    record["embeddings_trained"] = embeddings
    model = add_lora(
        model,
        config.lora_r,
        config.lora_alpha,
        config.lora_dropout,
        config.quantize != "none",
        train_embeddings=embeddings,
    )
    boundary = choose_boundary_mode(model, len(tokenizer)) if config.packing else "position_ids"
    out = Path(config.out)
    record["lr_used"] = config.lr
    if ranks.is_main:
        (out / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        _write_run_file(out / CHECKPOINTS / RUN_FILE, record)
    print_main(f"{PROG}: config: {json.dumps(record)}")

    trainer, budget = build_trainer(
        config,
        loaded,
        model,
        tokenizer,
        pad_id,
        boundary,
        train_rows,
        eval_rows,
        data,
        resuming=resume_from is not None,
        extra_callbacks=extra_callbacks,
    )
    trainer.train(resume_from_checkpoint=resume_from)
    return summarize(
        config, loaded, trainer, data, train_stats, eval_stats, boundary, budget.stopped_by_budget
    )
