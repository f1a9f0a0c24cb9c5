"""Eval generation throughput in process: batched rows against today's sequential loop.

The rows are those of ``codegen-eval humaneval --n 8 --temperature 0.8``: the first
``--problems`` HumanEval prompts x ``--n`` samples, sample ``i`` seeded ``seed + i``,
the ``humaneval`` profile's stop strings, ``--max-new-tokens`` at most. Three ways to
generate them, in the same run, on the same model:

- **sequential** (the baseline): one ``engine.generate()`` per sample, the loop eval ran
  before batching (it reuses the KV cache of the previous sample's prompt);
- **batched**: ``engine.generate_batch()`` with ``--batch-size`` rows decoding together
  (a finished row's slot is refilled at once), as ``generate_missing`` calls it;
- **hf_generate**: transformers' ``model.generate()`` on batches of ``--batch-size`` rows
  (left-padded, ``do_sample`` with the same temperature/top-p, the same stop strings
  and EOS; a batch ends when its last row does). HF has no per-row seed, so its samples
  (and how much text they hold) differ; the **fixed_length** arm therefore compares the
  batched engine with ``model.generate()`` on equal work: the same batches, every row
  exactly ``--fixed-tokens`` tokens.

It also checks that the batched rows are the sequential rows (same text: the per-row
seeds make sampling independent of the batch). Model: ``builtin:tiny`` when it is
already cached, else a random tiny model built here (``--model`` picks another).
Prints JSON with samples/s and the ratios. Goals: batched >= 4x sequential, >= 1x HF.

Every arm reports wall seconds and ``cpu_seconds``, the CPU time this process spent
(all its threads). On a shared machine wall time also counts the time spent waiting for
a core, which other jobs decide; the CPU-time ratios (``..._cpu``) count only the work
each arm did, so they move far less from run to run.

    python bench/bench_eval_batched.py [--problems 20] [--n 8] [--batch-size 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any


def pick_model(spec: str | None, tmp: str) -> tuple[str, str]:
    """``(spec, description)``: ``--model``, else builtin:tiny if cached, else a random model."""
    from codegen.core.builtin import builtin_dir, is_built
    from codegen.core.builtin.tiny import make_random_model

    if spec:
        return spec, spec
    if is_built(builtin_dir("tiny")):
        return "builtin:tiny", f"builtin:tiny ({builtin_dir('tiny').name})"
    return str(make_random_model(tmp, hidden=128, layers=4, vocab_size=1024)), "random tiny"


def sequential(engine: Any, prompts: list[str], configs: list) -> list:
    return [engine.generate(p, c) for p, c in zip(prompts, configs, strict=True)]


def batched(engine: Any, prompts: list[str], configs: list, batch_size: int) -> list:
    """As ``generate_missing`` calls it: every row, ``batch_size`` decoding together."""
    from codegen.core.engine import generate_rows

    return generate_rows(engine, prompts, configs, batch_size=batch_size)


def hf_generate(
    engine: Any, prompts: list[str], configs: list, batch_size: int, fixed: bool
) -> list[int]:
    """New tokens per row from ``model.generate()`` on batches of ``batch_size`` rows; one
    seed per batch (HF has no per-row generator). ``fixed``: no stops, exactly
    ``max_new_tokens`` per row."""
    import torch

    model, tok = engine.model, engine.tokenizer
    tok.padding_side = "left"
    stops = sorted(engine._stop_ids)
    counts: list[int] = []
    for start in range(0, len(prompts), batch_size):
        rows, cfg = prompts[start : start + batch_size], configs[start]
        enc = tok(rows, return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(cfg.seed)
        limits = {"min_new_tokens": cfg.max_new_tokens} if fixed else {
            "stop_strings": list(cfg.stop), "tokenizer": tok
        }  # fmt: skip
        out = model.generate(
            **enc,
            do_sample=cfg.temperature > 0,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            top_k=0,
            max_new_tokens=cfg.max_new_tokens,
            eos_token_id=stops,
            pad_token_id=engine._pad_id(),
            **limits,
        )
        for row in out[:, enc["input_ids"].shape[1] :].tolist():
            n = 0
            while n < len(row) and row[n] not in stops:
                n += 1
            counts.append(n)
    return counts


def fixed_length(engine: Any, prompts: list[str], configs: list, args: Any) -> dict[str, Any]:
    """Equal work for both: every row exactly ``--fixed-tokens`` tokens (no stop strings,
    EOS ignored), batched engine against HF ``generate()`` on the same batches."""
    from dataclasses import replace

    configs = [replace(c, stop=(), max_new_tokens=args.fixed_tokens) for c in configs]
    saved = engine._stop_ids
    engine._stop_ids = set()
    try:
        ours, ours_s = timed(lambda: batched(engine, prompts, configs, args.batch_size))
    finally:
        engine._stop_ids = saved
    hf, hf_s = timed(lambda: hf_generate(engine, prompts, configs, args.batch_size, True))
    rows = len(prompts)
    return {
        "tokens_per_row": args.fixed_tokens,
        "batched": arm(ours_s, rows, sum(r.stats.new_tokens for r in ours)),
        "hf_generate": arm(hf_s, rows, sum(hf)),
        "ratio_vs_hf_generate": round(hf_s[0] / ours_s[0], 2),
        "ratio_vs_hf_generate_cpu": round(hf_s[1] / ours_s[1], 2),
        "goal_vs_hf_generate": ">= 1x",
    }


def timed(fn: Any) -> tuple[Any, tuple[float, float]]:
    """``fn()`` and the ``(wall, CPU)`` seconds it took."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, (time.perf_counter() - start, time.process_time() - cpu)


def arm(seconds: tuple[float, float], rows: int, new_tokens: int) -> dict[str, Any]:
    wall, cpu = seconds
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "samples_per_s": round(rows / wall, 2),
        "new_tokens": new_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="model spec (default: builtin:tiny if cached)"
    )
    parser.add_argument("--problems", type=int, default=20, help="HumanEval problems (default 20)")
    parser.add_argument("--n", type=int, default=8, help="samples per problem (default 8)")
    parser.add_argument("--batch-size", type=int, default=16, help="rows per batch (default 16)")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="per sample (default 128)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature")
    parser.add_argument("--seed", type=int, default=0, help="base seed (sample i: seed + i)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--no-hf", action="store_true", help="skip the model.generate() arms")
    parser.add_argument(
        "--fixed-tokens", type=int, default=64, help="tokens per row, equal-work arm (default 64)"
    )
    args = parser.parse_args()

    import torch
    from tqdm import tqdm

    from codegen.core.transformers_engine import load_engine
    from codegen.eval.generate import GenerationPlan, get_profile
    from codegen.eval.problems import load_problems

    if args.threads:
        torch.set_num_threads(args.threads)
    problems = list(load_problems().values())[: args.problems]
    profile = get_profile("humaneval")
    plan = GenerationPlan(args.n, args.temperature, 0.95, args.max_new_tokens, args.seed)
    prompts = [p.prompt for p in problems for _ in range(args.n)]
    configs = [plan.config(profile.stop, i) for _ in problems for i in range(args.n)]
    with tempfile.TemporaryDirectory() as tmp:
        spec, described = pick_model(args.model, tmp)
        engine = load_engine(spec, device="cpu")
        engine.generate(prompts[0], configs[0])  # warm-up: first-call allocations
        arms = tqdm(total=2 if args.no_hf else 4, desc="bench arms", unit="arm")
        seq, seq_s = timed(lambda: sequential(engine, prompts, configs))
        arms.update(1)
        bat, bat_s = timed(lambda: batched(engine, prompts, configs, args.batch_size))
        arms.update(1)
        hf = fixed = None
        if not args.no_hf:
            hf_counts, hf_s = timed(
                lambda: hf_generate(engine, prompts, configs, args.batch_size, False)
            )
            hf = arm(hf_s, len(prompts), sum(hf_counts))
            hf["note"] = "its own random draws: a different amount of text than the rows above"
            arms.update(1)
            fixed = fixed_length(engine, prompts, configs, args)
            arms.update(1)
        arms.close()

    rows = len(prompts)
    same = sum(a.text == b.text for a, b in zip(seq, bat, strict=True))
    result: dict[str, Any] = {
        "bench": "eval_batched",
        "model": described,
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "problems": len(problems),
        "n": args.n,
        "rows": rows,
        "batch_size": args.batch_size,
        "temperature": args.temperature,
        "max_new_tokens": args.max_new_tokens,
        "sequential": arm(seq_s, rows, sum(r.stats.new_tokens for r in seq)),
        "batched": arm(bat_s, rows, sum(r.stats.new_tokens for r in bat)),
        "rows_identical_to_sequential": f"{same}/{rows}",
        "ratio_vs_sequential": round(seq_s[0] / bat_s[0], 2),
        "ratio_vs_sequential_cpu": round(seq_s[1] / bat_s[1], 2),
        "goal_vs_sequential": ">= 4x",
    }
    if hf is not None:
        result["hf_generate_eval_rows"] = hf
        result["fixed_length"] = fixed
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
