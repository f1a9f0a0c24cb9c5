"""The ``gate`` subcommand of ``codegen-train``: arguments and entry point."""

from __future__ import annotations

import argparse
from pathlib import Path


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"wants a fraction between 0 and 1 (got {text!r})")
    return value


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every ``codegen-train gate`` option to ``parser``."""
    parser.add_argument(
        "--log", nargs="+", action="extend", required=True, type=Path, metavar="LOG",
        help="acceptance logs written by codegen-lsp (acceptanceLog.path; rotated LOG.1, "
        "LOG.2 ... are read too); repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR",
        help="output directory: gate.json, metrics.json, report.md, tradeoff.png",
    )  # fmt: skip
    parser.add_argument(
        "--target-loss", type=_share, default=0.05, metavar="F",
        help="the threshold may withhold at most this share of the held-out suggestions "
        "the user accepted and kept (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--held-out", type=_share, default=0.25, metavar="F",
        help="share of the suggestions, the latest ones, held out to pick the threshold "
        "and report on (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0,
        help="seed of the cross-validation folds that pick the regularisation (default: 0)",
    )  # fmt: skip


def run_gate(args: argparse.Namespace) -> int:
    from .train import train_gate

    metrics = train_gate(args.log, args.out, args.target_loss, args.held_out, args.seed)
    held = metrics["held_out"]
    print(
        f"threshold={held['threshold']:.4f}: withholds {100 * held['withheld_rejected']:.1f}% "
        f"of rejected, loses {100 * held['lost_accepted']:.1f}% of accepted "
        f"({held['positives'] + held['negatives']} held-out suggestions, AUC {held['auc']:.3f})"
        f" -> {args.out / 'gate.json'}"
    )
    return 0
