"""Time to first token of a keystroke with and without KV-cache reuse.

A ~2,000-token prompt is generated once (warming the cache); then the same
prompt plus one typed character is generated with reuse (only the new tokens go
through the model) and, as the baseline in the same run, without reuse (the
whole prompt again). Medians over several rounds; prints JSON. Acceptance:
ratio >= 3.

    python bench/bench_core_kv_reuse.py [--model builtin:tiny] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path


def build_prompt(engine, target_tokens: int) -> str:
    source = Path(__file__).resolve().parents[1] / "core" / "transformers_engine.py"
    text = source.read_text()
    while engine.count_tokens(text) < target_tokens:
        text += text
    ids = engine.tokenizer.encode(text, add_special_tokens=False)[:target_tokens]
    return engine.tokenizer.decode(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model spec (default: a random tiny model)")
    parser.add_argument("--tokens", type=int, default=2000, help="prompt length in tokens")
    parser.add_argument("--rounds", type=int, default=5, help="keystrokes to time")
    args = parser.parse_args()

    from codegen.core.builtin.tiny import make_random_model
    from codegen.core.engine import GenerationConfig
    from codegen.core.load import load_engine

    with tempfile.TemporaryDirectory() as tmp:
        spec = args.model or str(make_random_model(tmp, hidden=192, layers=4, vocab_size=1024))
        engine = load_engine(spec, device="cpu")
        prompt = build_prompt(engine, args.tokens)
        reuse_cfg = GenerationConfig(max_new_tokens=1)
        cold_cfg = GenerationConfig(max_new_tokens=1, use_cache_reuse=False)
        with_reuse, without = [], []
        reused = 0
        for i in range(args.rounds):
            typed = prompt + "abcdefghij"[i % 10]
            engine.generate(prompt, reuse_cfg)  # the cache holds the prompt before the keystroke
            hot = engine.generate(typed, reuse_cfg)
            cold = engine.generate(typed, cold_cfg)
            with_reuse.append(hot.stats.time_to_first_token_ms)
            without.append(cold.stats.time_to_first_token_ms)
            reused = hot.stats.reused_tokens
            prompt_tokens = hot.stats.prompt_tokens
    hot_ms, cold_ms = statistics.median(with_reuse), statistics.median(without)
    print(
        json.dumps(
            {
                "bench": "core_kv_reuse",
                "model": args.model or "random tiny (hidden 192, 4 layers)",
                "prompt_tokens": prompt_tokens,
                "reused_tokens": reused,
                "ttft_ms_with_reuse_p50": round(hot_ms, 2),
                "ttft_ms_without_reuse_p50": round(cold_ms, 2),
                "speedup": round(cold_ms / hot_ms, 1),
                "target_speedup_min": 3,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
