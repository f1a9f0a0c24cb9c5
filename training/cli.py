"""``codegen-train``: pretrain a small model, build training data, fine-tune, merge, export,
and train the show/no-show gate."""

from __future__ import annotations

import argparse
import json
import sys

from codegen.core.cli_errors import run_cli

PROG = "codegen-train"


def _add_pretrain(sub: argparse._SubParsersAction) -> None:
    from codegen.core.builtin.pretrain import PretrainConfig

    defaults = PretrainConfig()
    p = sub.add_parser(
        "pretrain",
        help="train a small FIM code model (and its tokenizer) from scratch",
        description="Train a byte-level BPE tokenizer with FIM sentinels and a small Llama "
        "model with a fill-in-the-middle objective. This is how builtin:tiny is made.",
    )
    p.add_argument(
        "--corpus",
        help="directory of .py files or a text file (default: this interpreter's standard library)",
    )
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=defaults.max_tokens,
        help="the training budget, in tokens: the same budget trains the same model on a busy "
        "machine and an idle one (default: %(default)s)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=defaults.max_minutes,
        help="safety net: stop early after this many minutes, with a warning, and record "
        "stopped_by: max_minutes (default: %(default)s)",
    )
    p.add_argument("--hidden", type=int, default=192, help="hidden size of the model")
    p.add_argument("--layers", type=int, default=4, help="number of transformer layers")
    p.add_argument("--vocab-size", type=int, default=2048, help="BPE vocabulary size")
    p.add_argument("--seed", type=int, default=1234, help="random seed")
    p.set_defaults(func=_run_pretrain)


def _run_pretrain(args: argparse.Namespace) -> int:
    from codegen.core.builtin import progress_bar
    from codegen.core.builtin.pretrain import PretrainConfig, pretrain

    config = PretrainConfig(
        corpus=args.corpus,
        max_minutes=args.max_minutes,
        max_tokens=args.max_tokens,
        hidden=args.hidden,
        layers=args.layers,
        vocab_size=args.vocab_size,
        seed=args.seed,
    )
    print(f"{PROG}: pretrain config: {json.dumps(vars(config))}", file=sys.stderr)
    with progress_bar() as report:
        metrics = pretrain(args.out, config, progress=report)
    print(json.dumps({k: v for k, v in metrics.items() if k != "config"}, indent=2))
    return 0


def _add_data(sub: argparse._SubParsersAction) -> None:
    from .data.cli import add_data_arguments, run_data

    p = sub.add_parser(
        "data",
        help="turn folders, git repos, JSONL files or saved datasets into training examples",
        description="Filter, deduplicate, redact secrets, decontaminate against HumanEval, split "
        "by file and build FIM, docstring and fix examples; writes an HF dataset, stats.json "
        "and manifest.jsonl (one row per input file).",
    )
    add_data_arguments(p)
    p.set_defaults(func=run_data)


def _add_sft(sub: argparse._SubParsersAction) -> None:
    from .sft.cli import add_sft_arguments, run_sft

    p = sub.add_parser(
        "sft",
        help="fine-tune a LoRA (or QLoRA) adapter on codegen-train data output",
        description="LoRA on all linear layers of the base (--quantize 4bit: QLoRA), packed "
        "examples with loss on completions only, FIM exact match on held-out files at every "
        "evaluation; writes a PEFT adapter with codegen.json that codegen-lsp and codegen-eval "
        "load with --adapter DIR.",
    )
    add_sft_arguments(p)
    p.set_defaults(func=run_sft)


def _add_merge(sub: argparse._SubParsersAction) -> None:
    from .sft.cli import add_merge_arguments, run_merge

    p = sub.add_parser(
        "merge",
        help="merge an adapter into its 16/32-bit base and save a plain model",
        description="Load the base unquantized (never 4-bit), fold the LoRA adapter into its "
        "weights and save model, tokenizer and codegen.json to a new directory.",
    )
    add_merge_arguments(p)
    p.set_defaults(func=run_merge)


def _add_export(sub: argparse._SubParsersAction) -> None:
    from .export import add_export_arguments, run_export

    p = sub.add_parser(
        "export",
        help="export a base (and adapter) for serving engines: peft, merged or gguf",
        description="peft: an adapter directory vLLM's --lora-modules loads as it is; merged: "
        "a full HF model (as merge); gguf: model.gguf and NAME.lora.gguf for the llama.cpp "
        "server, made by llama.cpp's own converters. The output path must not exist.",
    )
    add_export_arguments(p)
    p.set_defaults(func=run_export)


def _add_gate(sub: argparse._SubParsersAction) -> None:
    from .gate.cli import add_gate_arguments, run_gate

    p = sub.add_parser(
        "gate",
        help="learn from the acceptance log which suggestions not to show",
        description="Fit a logistic regression on the gate features of the suggestions "
        "codegen-lsp showed (label: accepted and kept), hold out the latest ones, and pick "
        "the threshold that withholds the most rejected suggestions while losing at most "
        "--target-loss of the accepted; writes gate.json for the server, metrics.json, "
        "report.md and tradeoff.png.",
    )
    add_gate_arguments(p)
    p.set_defaults(func=run_gate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_pretrain(sub)
    _add_data(sub)
    _add_sft(sub)
    _add_merge(sub)
    _add_export(sub)
    _add_gate(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_cli(lambda: args.func(args), PROG)


if __name__ == "__main__":
    sys.exit(main())
