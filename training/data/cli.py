"""The ``data`` subcommand of ``codegen-train``: arguments and entry point.

``training/cli.py`` adds these arguments to its ``data`` subparser and calls
:func:`run_data`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codegen.core.errors import ConfigError
from codegen.core.fim import FIM_FORMATS
from codegen.core.syntax import LANGUAGES

from .example import DEFAULT_TASKS, TASKS
from .filters import FilterConfig
from .pipeline import DataConfig, run_pipeline
from .tasks.docstring import DocstringConfig
from .tasks.fim import DEFAULT_ORDER_SHARE, FimConfig
from .tasks.fix import FixConfig
from .tasks.next_edit import NextEditConfig


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every ``codegen-train data`` option to ``parser``."""
    io = parser.add_argument_group("input and output")
    io.add_argument(
        "--source",
        nargs="+",
        action="extend",
        required=True,
        type=Path,
        metavar="PATH",
        help="folders or git repositories, .jsonl files with a text/content field, "
        "acceptance logs of codegen-lsp (.jsonl, recognised by their records), or "
        "datasets saved with save_to_disk; repeatable",
    )
    io.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="output directory: dataset/ (train/eval), stats.json, manifest.jsonl "
        "(and gate.jsonl for acceptance logs)",
    )
    io.add_argument(
        "--default-language",
        default="python",
        choices=LANGUAGES,
        help="language of JSONL/dataset rows that have no path (default: %(default)s)",
    )
    io.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    tasks = parser.add_argument_group("tasks")
    tasks.add_argument(
        "--tasks",
        default=",".join(DEFAULT_TASKS),
        help=f"comma-separated tasks to build, of {', '.join(TASKS)} (default: %(default)s; "
        "next-edit is opt-in)",
    )
    tasks.add_argument(
        "--fim-format",
        default="tiny",
        choices=sorted(FIM_FORMATS),
        help="FIM prompt format of the model to train (default: %(default)s)",
    )
    tasks.add_argument(
        "--fim-rate",
        type=float,
        default=FimConfig.fim_rate,
        help="share of windows turned into FIM examples; the rest stay plain LM "
        "(default: %(default)s)",
    )
    tasks.add_argument(
        "--spm-rate",
        type=float,
        default=None,
        help="share of training FIM holes in suffix-prefix-middle order (default: "
        f"{DEFAULT_ORDER_SHARE:.0%}% in the order the format is served in; held-out holes "
        "always use that order)",
    )
    tasks.add_argument(
        "--window-chars",
        type=int,
        default=FimConfig.window_chars,
        help="files are cut into line-aligned windows of at most this many characters "
        "(default: %(default)s)",
    )
    tasks.add_argument(
        "--fix-per-file",
        type=int,
        default=FixConfig.per_file,
        help="synthetic bug-fix examples per file (default: %(default)s)",
    )
    tasks.add_argument(
        "--max-commits",
        type=int,
        default=200,
        help="commits of each git source scanned for small real fixes; 0 disables "
        "(default: %(default)s)",
    )
    tasks.add_argument(
        "--docstring-min-chars",
        type=int,
        default=DocstringConfig.min_doc_chars,
        help="shortest docstring used for the docstring task (default: %(default)s)",
    )
    tasks.add_argument(
        "--docstring-max-chars",
        type=int,
        default=DocstringConfig.max_doc_chars,
        help="longest docstring used for the docstring task (default: %(default)s)",
    )
    _add_next_edit_arguments(parser)
    clean = parser.add_argument_group("cleaning")
    clean.add_argument(
        "--max-file-bytes",
        type=int,
        default=FilterConfig.max_bytes,
        help="larger files are rejected (default: %(default)s)",
    )
    clean.add_argument(
        "--max-line-chars",
        type=int,
        default=FilterConfig.max_line_chars,
        help="files with a longer line count as minified (default: %(default)s)",
    )
    clean.add_argument(
        "--min-alnum-fraction",
        type=float,
        default=FilterConfig.min_alnum_fraction,
        help="files with a smaller share of alphanumeric characters count as minified "
        "(default: %(default)s)",
    )
    clean.add_argument(
        "--dedup-threshold",
        type=float,
        default=0.7,
        help="estimated Jaccard similarity (5-token shingles, 256-permutation MinHash) "
        "above which a file is a near duplicate (default: %(default)s)",
    )
    clean.add_argument(
        "--decontaminate",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help="benchmark problems to keep out of the data (prompt/solution or text "
        "fields); repeatable; HumanEval is always included unless --no-humaneval",
    )
    clean.add_argument(
        "--no-humaneval", action="store_true", help="do not decontaminate against HumanEval"
    )
    clean.add_argument(
        "--decontam-ngram",
        type=int,
        default=10,
        help="token n-gram size for decontamination (default: %(default)s)",
    )
    clean.add_argument(
        "--decontam-threshold",
        type=float,
        default=0.5,
        help="share of a benchmark item's n-grams a file must contain to be dropped "
        "(default: %(default)s)",
    )
    split = parser.add_argument_group("split")
    split.add_argument(
        "--eval-fraction",
        type=float,
        default=0.1,
        help="share of files held out for eval, chosen by a hash of the path "
        "(default: %(default)s)",
    )
    split.add_argument(
        "--seed", type=int, default=0, help="seed of every random choice (default: %(default)s)"
    )


def _add_next_edit_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "next-edit (--tasks next-edit; region sizes must equal the server's nextEdit options)"
    )
    defaults = NextEditConfig()
    group.add_argument(
        "--next-edit-lines-before",
        type=int,
        default=defaults.lines_before,
        help="lines above the cursor in the editable region; must equal the server's "
        "nextEdit.linesBefore (default: %(default)s)",
    )
    group.add_argument(
        "--next-edit-lines-after",
        type=int,
        default=defaults.lines_after,
        help="lines below the cursor in the editable region; must equal the server's "
        "nextEdit.linesAfter (default: %(default)s)",
    )
    group.add_argument(
        "--next-edit-max-events",
        type=int,
        default=defaults.max_events,
        help="recent edits shown in a prompt, as the server's nextEdit.maxEvents "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--next-edit-max-commits",
        type=int,
        default=defaults.max_commits,
        help="commits of each git source read, newest first; 0 disables (default: %(default)s)",
    )
    group.add_argument(
        "--next-edit-max-files",
        type=int,
        default=defaults.max_files,
        help="commits touching more files are skipped (default: %(default)s)",
    )
    group.add_argument(
        "--next-edit-max-hunks",
        type=int,
        default=defaults.max_hunks,
        help="commits with more hunks are skipped (default: %(default)s)",
    )
    group.add_argument(
        "--next-edit-max-lines",
        type=int,
        default=defaults.max_changed_lines,
        help="commits changing more lines (removed + added) are skipped (default: %(default)s)",
    )


def _next_edit_config(args: argparse.Namespace) -> NextEditConfig:
    values = {
        "lines_before": args.next_edit_lines_before,
        "lines_after": args.next_edit_lines_after,
        "max_events": args.next_edit_max_events,
        "max_commits": args.next_edit_max_commits,
        "max_files": args.next_edit_max_files,
        "max_hunks": args.next_edit_max_hunks,
        "max_changed_lines": args.next_edit_max_lines,
    }
    for name, value in values.items():
        if value < 0:
            flag = "--next-edit-" + name.replace("_", "-").replace("changed-lines", "lines")
            raise ConfigError(f"{flag} must not be negative")
    return NextEditConfig(**values)


def _fraction(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be between 0 and 1, got {value}")
    return value


def config_from_args(args: argparse.Namespace) -> DataConfig:
    """Validate the parsed arguments into a :class:`DataConfig` (raises ConfigError)."""
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown or not tasks:
        raise ConfigError(
            f"unknown task(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(TASKS)}"
        )
    for flag in ("window_chars", "max_file_bytes", "max_line_chars", "decontam_ngram"):
        if getattr(args, flag) <= 0:
            raise ConfigError(f"--{flag.replace('_', '-')} must be positive")
    if args.fix_per_file < 0 or args.max_commits < 0:
        raise ConfigError("--fix-per-file and --max-commits must not be negative")
    for source in args.source:
        if not source.exists():
            raise ConfigError(
                f"--source {source} does not exist; pass a folder, a .jsonl file or a saved dataset"
            )
    for path in args.decontaminate:
        if not path.is_file():
            raise ConfigError(f"--decontaminate file {path} does not exist")
    return DataConfig(
        sources=list(args.source),
        out=args.out,
        fim_format=args.fim_format,
        seed=args.seed,
        eval_fraction=_fraction("--eval-fraction", args.eval_fraction),
        tasks=tasks,
        default_language=args.default_language,
        filters=FilterConfig(
            max_bytes=args.max_file_bytes,
            max_line_chars=args.max_line_chars,
            min_alnum_fraction=_fraction("--min-alnum-fraction", args.min_alnum_fraction),
        ),
        fim=FimConfig(
            fim_rate=_fraction("--fim-rate", args.fim_rate),
            spm_rate=None if args.spm_rate is None else _fraction("--spm-rate", args.spm_rate),
            window_chars=args.window_chars,
        ),
        docstring=DocstringConfig(
            min_doc_chars=args.docstring_min_chars, max_doc_chars=args.docstring_max_chars
        ),
        fix=FixConfig(per_file=args.fix_per_file),
        next_edit=_next_edit_config(args),
        dedup_threshold=_fraction("--dedup-threshold", args.dedup_threshold),
        humaneval=not args.no_humaneval,
        decontaminate=list(args.decontaminate),
        decontam_ngram=args.decontam_ngram,
        decontam_threshold=_fraction("--decontam-threshold", args.decontam_threshold),
        max_commits=args.max_commits,
        progress=not args.no_progress,
    )


def run_data(args: argparse.Namespace) -> int:
    """Run ``codegen-train data``; prints the resolved configuration and a summary."""
    config = config_from_args(args)
    print(
        "codegen-train data: "
        + json.dumps(
            {
                "sources": [str(s) for s in config.sources],
                "out": str(config.out),
                "tasks": list(config.tasks),
                "fim_format": config.fim_format,
                "seed": config.seed,
            }
        ),
        file=sys.stderr,
    )
    stats = run_pipeline(config)
    files, examples = stats["files"], stats["examples"]
    total = {split: sum(counts.values()) for split, counts in examples.items()}
    print(
        f"{files.get('accepted', 0)} of {files.get('total', 0)} files kept "
        f"({files.get('train', 0)} train, {files.get('eval', 0)} eval); "
        f"{total.get('train', 0)} train and {total.get('eval', 0)} eval examples; "
        f"{sum(stats['redactions'].values())} secrets redacted; wrote {config.out}"
    )
    if "next-edit" in config.tasks:
        counts = stats["next_edit"]
        print(
            f"next-edit: {counts.get('commit used', 0)} commits used, "
            f"{examples.get('train', {}).get('next-edit', 0)} train and "
            f"{examples.get('eval', {}).get('next-edit', 0)} eval examples"
        )
    if "log" in stats:
        log = stats["log"]
        kept = sum(log["examples"].values())
        print(
            f"acceptance logs: {log['suggestions']} suggestions, {kept} kept as FIM examples "
            f"({log['examples'].get('train', 0)} train, {log['examples'].get('eval', 0)} eval); "
            + (
                f"{sum(log['next_edit_examples'].values())} accepted next edits as next-edit "
                "examples; "
                if log.get("next_edit_examples")
                else ""
            )
            + ", ".join(f"{n} {reason}" for reason, n in log["reasons"].items())
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests and debugging: ``python -m codegen.training.data.cli``."""
    from codegen.core.cli_errors import run_cli

    parser = argparse.ArgumentParser(prog="codegen-train data", description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    return run_cli(lambda: run_data(parser.parse_args(argv)), "codegen-train data")


if __name__ == "__main__":
    sys.exit(main())
