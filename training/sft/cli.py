"""The ``sft`` and ``merge`` subcommands of ``codegen-train``: arguments and entry points."""

from __future__ import annotations

import argparse
import json
import sys

from codegen.core.model import DEVICE_CHOICES

from .config import SftConfig

_DEFAULTS = SftConfig(base="", data="", out="")


UNTIL_BUDGET_EPOCHS = 1000.0
"""Epochs planned when only --max-minutes bounds the run: the clock ends it first."""


def _epochs(args: argparse.Namespace) -> float:
    if args.epochs is not None:
        return float(args.epochs)
    if args.max_minutes is not None and args.max_steps <= 0:
        return UNTIL_BUDGET_EPOCHS
    return _DEFAULTS.epochs


def add_sft_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every ``codegen-train sft`` option to ``parser``."""
    d = _DEFAULTS
    io = parser.add_argument_group("input and output")
    io.add_argument(
        "--base",
        required=True,
        metavar="M",
        help="base model: Hugging Face id, local model directory, or builtin:tiny",
    )
    io.add_argument(
        "--data", required=True, metavar="DIR", help="output directory of codegen-train data"
    )
    io.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="adapter directory to write (with codegen.json and checkpoints/)",
    )
    io.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --out from its last checkpoint, same data order",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--quantize",
        choices=("none", "4bit"),
        default=d.quantize,
        help="4bit = QLoRA: NF4 base with double quantization (default: %(default)s)",
    )
    model.add_argument(
        "--device", choices=DEVICE_CHOICES, default=d.device, help="default: %(default)s"
    )
    model.add_argument(
        "--lora-r", type=int, default=d.lora_r, help="LoRA rank (default: %(default)s)"
    )
    model.add_argument(
        "--lora-alpha", type=int, default=d.lora_alpha, help="LoRA alpha (default: %(default)s)"
    )
    model.add_argument(
        "--lora-dropout",
        type=float,
        default=d.lora_dropout,
        help="dropout on the LoRA path (default: %(default)s)",
    )
    model.add_argument(
        "--train-embeddings",
        choices=("auto", "yes", "no"),
        default=d.train_embeddings,
        help="also train the token embeddings and output head in full (saved in the adapter); "
        "auto = only for models under 50M parameters, such as builtin:tiny (default: %(default)s)",
    )
    model.add_argument(
        "--gradient-checkpointing",
        action="store_true",
        help="recompute activations to save memory (always on with --quantize 4bit)",
    )
    loop = parser.add_argument_group("training")
    loop.add_argument(
        "--epochs",
        type=float,
        default=None,
        help=f"passes over the data (default: {d.epochs:g}; with --max-minutes and neither "
        "--epochs nor --max-steps, as many as the time allows)",
    )
    loop.add_argument(
        "--max-steps",
        type=int,
        default=d.max_steps,
        help="optimizer steps; overrides --epochs when > 0 (default: %(default)s)",
    )
    loop.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop after this many minutes of training, evaluating and saving first; beside "
        "--max-steps only a safety net (the schedule follows the steps, and the output warns "
        "when the net was hit)",
    )
    loop.add_argument(
        "--lr",
        type=float,
        default=None,
        help="peak learning rate (default: 5e-3 for models under 50M parameters such as "
        "builtin:tiny, else 2e-4)",
    )
    loop.add_argument(
        "--warmup",
        type=float,
        default=d.warmup,
        help="share of the run spent warming up, then cosine to zero; the run's length is "
        "the planned steps, or --max-minutes if that ends the run first and --max-steps is "
        "not given (default: %(default)s)",
    )
    loop.add_argument(
        "--batch-size",
        type=int,
        default=d.batch_size,
        help="rows of up to --seq-len tokens per micro-batch (default: %(default)s)",
    )
    loop.add_argument(
        "--grad-accum",
        type=int,
        default=d.grad_accum,
        help="micro-batches per optimizer step; the loss is normalised by token count "
        "(default: %(default)s)",
    )
    loop.add_argument(
        "--seq-len",
        type=int,
        default=d.seq_len,
        help="tokens per packed row; longer examples lose the end of their completion "
        "(default: %(default)s)",
    )
    loop.add_argument(
        "--no-packing",
        action="store_true",
        help="one example per row, padded (slower; for comparison)",
    )
    loop.add_argument("--seed", type=int, default=d.seed, help="random seed (default: %(default)s)")
    ev = parser.add_argument_group("evaluation")
    ev.add_argument(
        "--eval-every",
        type=int,
        default=d.eval_every,
        help="evaluate and checkpoint every N optimizer steps (default: %(default)s)",
    )
    ev.add_argument(
        "--patience",
        type=int,
        default=d.patience,
        help="stop after N evaluations without improvement; 0 = never (default: %(default)s)",
    )
    ev.add_argument(
        "--fim-eval-examples",
        type=int,
        default=d.fim_eval_examples,
        help="held-out FIM examples for the exact-match metric (default: %(default)s)",
    )
    ev.add_argument(
        "--eval-examples",
        type=int,
        default=d.eval_examples,
        help="held-out examples for the eval loss (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")


def config_from_args(args: argparse.Namespace) -> SftConfig:
    return SftConfig(
        base=args.base,
        data=args.data,
        out=args.out,
        quantize=args.quantize,
        resume=args.resume,
        epochs=_epochs(args),
        max_steps=args.max_steps,
        max_minutes=args.max_minutes,
        lr=args.lr,
        warmup=args.warmup,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        train_embeddings=args.train_embeddings,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        seq_len=args.seq_len,
        packing=not args.no_packing,
        eval_every=args.eval_every,
        patience=args.patience,
        fim_eval_examples=args.fim_eval_examples,
        eval_examples=args.eval_examples,
        gradient_checkpointing=args.gradient_checkpointing,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
    )


def run_sft(args: argparse.Namespace) -> int:
    """Train; print the metrics as JSON. Under ``torchrun`` / ``accelerate launch`` the
    other ranks print nothing, not even the one-line error every rank hits alike."""
    from codegen.core.errors import CodegenError

    from .distributed import launch_ranks
    from .train import train_sft

    main = launch_ranks().is_main
    try:
        meta = train_sft(config_from_args(args))
    except CodegenError as err:
        if main:
            raise
        return err.exit_code
    if main:
        print(json.dumps(meta["metrics"] | {"out": args.out}, indent=2))
    return 0


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every ``codegen-train merge`` option to ``parser``."""
    parser.add_argument(
        "--base",
        required=True,
        metavar="M",
        help="the adapter's base model, unquantized: Hugging Face id, directory or builtin:tiny",
    )
    parser.add_argument(
        "--adapter", required=True, metavar="DIR", help="adapter directory from codegen-train sft"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="new model directory to write")
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default="cpu",
        help="where to merge: cpu keeps float32, cuda uses bfloat16 (default: %(default)s)",
    )


def run_merge(args: argparse.Namespace) -> int:
    from ..merge import merge_adapter

    meta = merge_adapter(args.base, args.adapter, args.out, device=args.device)
    print(json.dumps(meta | {"out": args.out}, indent=2), file=sys.stdout)
    return 0
