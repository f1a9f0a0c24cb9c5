"""The show/no-show gate: what it withholds, and what a decision costs beside a completion.

1. A synthetic acceptance log (``tests/fixtures/synthetic_usage.py``: a known
   accept-and-keep rule over several days, languages and two adapters) is trained with
   ``codegen-train gate``'s own code; the held-out figures at the picked threshold are
   reported (rejected suggestions withheld, accepted ones lost), with the same-run
   baseline of a threshold on ``mean_logprob`` alone, and again on a fresh log.
2. Decision time: ``Gate.allows`` on the real feature dicts of that log, one call timed
   at a time (p50/p95), against the p50 of one in-process completion request in the
   same run: a single-line completion (the server's single-line token budget and stop at
   the newline) of a FIM prompt, the prefix growing by one typed character each round as
   in the editor (KV-cache reuse on). Model: ``builtin:tiny`` when it is cached, else a
   random tiny model built here. Goal: decision p95 <= 5% of a completion's p50.

    python bench/bench_gate.py [--suggestions 6000] [--rounds 30] [--model SPEC]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
sys.path.insert(0, str(ROOT / "bench"))
import synthetic_usage  # noqa: E402
from bench_eval_batched import pick_model  # noqa: E402

SINGLE_LINE_TOKENS = 48
"""As the server's single-line requests (server/completion/completer.py)."""
PREFIX = '''import json
from pathlib import Path


def load_settings(path: Path) -> dict:
    """Read the JSON settings file at ``path``; an empty dict when it is missing."""
    if not path.exists():
        return {}
    with path.open() as fh:
        data = json.load(fh)
    for key, value in data.items():
        if isinstance(value, str):
            data[key] = value.strip()
    return '''
SUFFIX = "\n\n\ndef save_settings(path: Path, settings: dict) -> None:\n    path.write_text(json.dumps(settings))\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def gate_figures(gate, suggestions) -> dict:
    pos = [s for s in suggestions if s.label]
    neg = [s for s in suggestions if not s.label]
    return {
        "suggestions": len(suggestions),
        "withheld_rejected": round(sum(not gate.allows(s.features) for s in neg) / len(neg), 4),
        "lost_accepted": round(sum(not gate.allows(s.features) for s in pos) / len(pos), 4),
    }


def decision_times_us(gate, features: list[dict], repeats: int) -> list[float]:
    """One ``allows`` call per sample, each timed on its own."""
    clock = time.perf_counter_ns

    def empty() -> int:
        start = clock()
        return clock() - start

    overhead = min(empty() for _ in range(1000))  # the timer's own cost, taken off each call
    times = []
    for _ in range(repeats):
        for f in features:
            start = clock()
            gate.allows(f)
            times.append((clock() - start - overhead) / 1000)
    return times


def completion_times_ms(spec: str, rounds: int) -> tuple[list[float], dict]:
    from codegen.core.engine import GenerationConfig
    from codegen.core.load import load_engine

    engine = load_engine(spec, device="cpu")
    fim = engine.fim
    config = GenerationConfig(
        max_new_tokens=SINGLE_LINE_TOKENS, stop=(*fim.stop_strings, "\n"), use_cache_reuse=True
    )
    prefix = PREFIX
    engine.generate(fim.build_prompt(prefix, SUFFIX), config)  # load and warm the cache
    times, tokens = [], []
    for i in range(rounds):
        prefix += "data"[i % 4] if i % 5 else " "
        start = time.perf_counter()
        result = engine.generate(fim.build_prompt(prefix, SUFFIX), config)
        times.append((time.perf_counter() - start) * 1000)
        tokens.append(result.stats.new_tokens)
    return times, {"new_tokens_p50": statistics.median(tokens), "fim_format": fim.name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suggestions", type=int, default=6000, help="in the training log")
    parser.add_argument("--rounds", type=int, default=30, help="completion requests to time")
    parser.add_argument("--repeats", type=int, default=5, help="passes of allows() over the log")
    parser.add_argument("--model", default=None, help="model spec (default: see the docstring)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from codegen.core.gate import Gate
    from codegen.core.usage_log import collect
    from codegen.training.gate.train import train_gate

    with tempfile.TemporaryDirectory() as tmp:
        log = synthetic_usage.write_log(
            Path(tmp) / "acceptance.jsonl", synthetic_usage.synthetic_records(args.suggestions)
        )
        started = time.perf_counter()
        metrics = train_gate([log], Path(tmp) / "gate")
        train_s = time.perf_counter() - started
        gate = Gate.load(Path(tmp) / "gate" / "gate.json")
        later = synthetic_usage.START_TS + 7 * 86_400
        fresh = synthetic_usage.synthetic_records(4000, seed=1, start_ts=later)
        fresh_shown = [s for s in collect(fresh) if s.shown]
        features = [s.features for s in fresh_shown]
        decisions = decision_times_us(gate, features, args.repeats)
        spec, model = pick_model(args.model, tmp)
        completions, completion_info = completion_times_ms(spec, args.rounds)

    held = metrics["held_out"]
    decision_p50, decision_p95 = percentile(decisions, 50), percentile(decisions, 95)
    completion_p50 = statistics.median(completions)
    print(json.dumps({
        "bench": "gate",
        "log": {"suggestions": args.suggestions, "held_out": held["positives"] + held["negatives"],
                "train_seconds": round(train_s, 2)},
        "held_out": {k: held[k] for k in ("threshold", "auc", "withheld_rejected",
                                          "lost_accepted", "shown")},
        "baseline_mean_logprob": {k: metrics["baseline"][k] for k in (
            "withheld_rejected", "lost_accepted")},
        "fresh_log": gate_figures(gate, fresh_shown),
        "goal_held_out": "withheld_rejected >= 0.30 at lost_accepted <= 0.05",
        "decision_us": {"p50": round(decision_p50, 2), "p95": round(decision_p95, 2),
                        "calls": len(decisions)},
        "completion_ms": {"p50": round(completion_p50, 2),
                          "p95": round(percentile(completions, 95), 2),
                          "rounds": args.rounds, "model": model, **completion_info},
        "ratio_decision_p50_to_completion_p50": round(decision_p50 / 1000 / completion_p50, 6),
        "ratio_decision_p95_to_completion_p50": round(decision_p95 / 1000 / completion_p50, 6),
        "goal_ratio": "<= 0.05",
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
