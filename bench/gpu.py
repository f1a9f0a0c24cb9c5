"""GPU figures for real architectures with random weights (no download).

Builds Qwen2.5-Coder-1.5B and 7B shaped models from their published configs,
saves them, loads them in 4-bit (NF4 + double quantization) and measures:

- 4-bit load memory (allocated after load; peak during load on CUDA);
- inline-completion latency p50/p95: 1,500-token prompt, 64 new tokens, with and
  without KV-cache reuse (the keystroke case: same prompt plus one character);
- generation tokens/s;
- batched eval throughput: ``--eval-prompts`` prompts x ``--eval-n`` samples
  (``--eval-prompt-tokens`` each, ``--eval-new-tokens`` new tokens, sampled with
  per-row seeds) through ``generate_batch`` with ``--eval-batch`` rows decoding
  together, against the same engine's sequential ``generate()`` on the first
  prompt's ``n`` samples (the baseline, same run), as samples/s and tokens/s;
- QLoRA training tokens/s and peak memory at 2,048-token sequences.

On a machine without CUDA it runs the same code at tiny sizes (``--sizes tiny``
is the default there), so `make bench` keeps it working; ``--dry-run`` does that
with the smallest settings, to check the script in seconds. Prints JSON.

    python bench/gpu.py                       # cuda: 1.5b and 7b; cpu: tiny
    python bench/gpu.py --sizes 1.5b --rounds 10
    python bench/gpu.py --dry-run             # any machine: tiny shapes, a few steps
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from typing import Any

SHAPES: dict[str, dict[str, Any]] = {
    "1.5b": dict(
        vocab_size=151936,
        hidden_size=1536,
        intermediate_size=8960,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        tie_word_embeddings=True,
    ),
    "7b": dict(
        vocab_size=152064,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        max_position_embeddings=32768,
        rope_theta=1000000.0,
        tie_word_embeddings=False,
    ),
    "tiny": dict(
        vocab_size=2048,
        hidden_size=128,
        intermediate_size=344,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
    ),
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _memory(device: str) -> dict[str, float]:
    import torch

    if device != "cuda":
        return {}
    return {
        "allocated_gib": round(torch.cuda.memory_allocated() / 2**30, 2),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
    }


def build(shape: str, out: str) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    with torch.device("cpu"):
        model = Qwen2ForCausalLM(Qwen2Config(**SHAPES[shape])).to(torch.bfloat16)
    model.save_pretrained(out)
    del model
    gc.collect()


def load_4bit(path: str, device: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    from codegen.core.quantize import guard_packed_cpu_path, quantization_config

    model = AutoModelForCausalLM.from_pretrained(
        path,
        quantization_config=quantization_config("4bit", device),
        device_map={"": 0 if device == "cuda" else "cpu"},
        dtype=torch.bfloat16 if device == "cuda" else torch.float32,
    )
    if device == "cpu":
        guard_packed_cpu_path(model)  # as load_model does
    return model


class IdTokenizer:
    """Random weights need no real tokenizer: one character = one token."""

    eos_token_id = 0
    pad_token_id = 1

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [3 + (ord(c) % 1000) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(97 + i % 26) for i in ids)

    def __call__(self, text: str, **_: Any) -> dict:
        return {"input_ids": self.encode(text), "offset_mapping": []}


def random_engine(model: Any, device: str) -> Any:
    """The project's engine (the code the server and eval run) on a random-weight model."""
    from codegen.core.fim import QWEN
    from codegen.core.model import LoadedModel
    from codegen.core.transformers_engine import TransformersEngine

    loaded = LoadedModel(model, IdTokenizer(), QWEN, "random", "", device, "4bit", "")
    engine = TransformersEngine(loaded)
    engine._stop_ids = set()  # random weights: never stop early, always decode new_tokens
    return engine


def random_text(tokens: int, salt: int = 0) -> str:
    return "".join(chr(32 + (i * 7919 + salt * 104729) % 90) for i in range(tokens))


def latency(model: Any, device: str, prompt_tokens: int, new_tokens: int, rounds: int) -> dict:
    """Keystroke latency through the project's engine (the same code the server runs)."""
    import torch

    from codegen.core.engine import GenerationConfig

    engine = random_engine(model, device)
    base = random_text(prompt_tokens)
    hot_cfg = GenerationConfig(max_new_tokens=new_tokens)
    cold_cfg = GenerationConfig(max_new_tokens=new_tokens, use_cache_reuse=False)
    hot, cold, hot_ttft, cold_ttft, tps = [], [], [], [], []
    for i in range(rounds + 1):
        engine.generate(base + "x" * i, hot_cfg)
        if device == "cuda":
            torch.cuda.synchronize()
        a = engine.generate(base + "x" * (i + 1), hot_cfg)
        b = engine.generate(base + "x" * (i + 1), cold_cfg)
        if i == 0:
            continue  # warm-up round
        hot.append(a.stats.total_ms)
        cold.append(b.stats.total_ms)
        hot_ttft.append(a.stats.time_to_first_token_ms)
        cold_ttft.append(b.stats.time_to_first_token_ms)
        decode_ms = a.stats.total_ms - a.stats.time_to_first_token_ms
        tps.append((a.stats.new_tokens - 1) / max(decode_ms / 1000, 1e-9))
    return {
        "prompt_tokens": prompt_tokens,
        "new_tokens": new_tokens,
        "with_reuse_ms": {
            "p50": round(statistics.median(hot), 1),
            "p95": round(_percentile(hot, 0.95), 1),
        },
        "without_reuse_ms": {
            "p50": round(statistics.median(cold), 1),
            "p95": round(_percentile(cold, 0.95), 1),
        },
        "ttft_with_reuse_ms_p50": round(statistics.median(hot_ttft), 1),
        "ttft_without_reuse_ms_p50": round(statistics.median(cold_ttft), 1),
        "generation_tokens_per_s": round(statistics.median(tps), 1),
    }


def batched_eval(model: Any, device: str, args: argparse.Namespace, tiny: bool) -> dict:
    """Eval-shaped generation: prompts x n sampled rows through ``generate_batch``, against
    sequential ``generate()`` on one prompt's n rows (same engine, same run)."""
    import torch

    from codegen.core.engine import GenerationConfig, sample_configs

    engine = random_engine(model, device)
    prompts_n = 2 if tiny else args.eval_prompts
    prompt_tokens = 64 if tiny else args.eval_prompt_tokens
    new_tokens = 16 if tiny else args.eval_new_tokens
    cfg = GenerationConfig(max_new_tokens=new_tokens, temperature=0.8, top_p=0.95, seed=0)
    prompts = [random_text(prompt_tokens, salt=p) for p in range(prompts_n)]
    rows = [p for p in prompts for _ in range(args.eval_n)]
    configs = [c for _ in prompts for c in sample_configs(cfg, args.eval_n)]

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    engine.generate(prompts[0], GenerationConfig(max_new_tokens=2))  # warm-up
    sync()
    start = time.perf_counter()
    seq = [engine.generate(prompts[0], c) for c in configs[: args.eval_n]]
    sync()
    seq_s = time.perf_counter() - start
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    out = engine.generate_batch(rows, configs, batch_size=args.eval_batch)
    sync()
    bat_s = time.perf_counter() - start
    seq_rate = len(seq) / seq_s
    bat_rate = len(out) / bat_s
    result = {
        "rows": len(rows),
        "batch_size": args.eval_batch,
        "prompt_tokens": prompt_tokens,
        "new_tokens": new_tokens,
        "sequential_samples_per_s": round(seq_rate, 2),
        "batched_samples_per_s": round(bat_rate, 2),
        "batched_tokens_per_s": round(sum(r.stats.new_tokens for r in out) / bat_s, 1),
        "ratio_vs_sequential": round(bat_rate / seq_rate, 2),
    }
    if device == "cuda":
        result["batched_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return result


def qlora(model: Any, device: str, seq_len: int, steps: int) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from codegen.core.quantize import guard_packed_cpu_path

    guard_packed_cpu_path(model, training=True)  # as codegen-train sft does
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    params = [p for p in model.parameters() if p.requires_grad]
    if device == "cuda":
        import bitsandbytes as bnb

        optimizer = bnb.optim.PagedAdamW8bit(params, lr=1e-4)
        torch.cuda.reset_peak_memory_stats()
    else:
        optimizer = torch.optim.AdamW(params, lr=1e-4)
    vocab = model.config.vocab_size
    x = torch.randint(3, vocab, (1, seq_len), device=model.device)
    times = []
    for step in range(steps + 1):
        start = time.perf_counter()
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        if step:  # the first step compiles kernels and allocates: not representative
            times.append(time.perf_counter() - start)
    out = {"seq_len": seq_len, "train_tokens_per_s": round(seq_len / statistics.median(times), 1)}
    if device == "cuda":
        out["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def run(shape: str, device: str, args: argparse.Namespace) -> dict:
    import torch

    result: dict[str, Any] = {"shape": shape}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build(shape, tmp)
        result["build_s"] = round(time.perf_counter() - t0, 1)
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        model = load_4bit(tmp, device)
        result["load_4bit_s"] = round(time.perf_counter() - t0, 1)
        result["load_4bit_memory"] = {
            "footprint_gib": round(model.get_memory_footprint() / 2**30, 3),
            **_memory(device),
        }
        prompt = args.prompt_tokens if shape != "tiny" or device == "cuda" else 256
        result["inline_completion"] = latency(model, device, prompt, args.new_tokens, args.rounds)
        small = shape == "tiny" and device != "cuda"
        result["batched_eval"] = batched_eval(model, device, args, small)
        seq = args.train_seq if shape != "tiny" or device == "cuda" else 256
        result["qlora"] = qlora(model, device, seq, args.train_steps)
        del model
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="comma list of 1.5b,7b,tiny")
    parser.add_argument("--rounds", type=int, default=8, help="keystrokes timed per size")
    parser.add_argument("--prompt-tokens", type=int, default=1500, help="completion prompt length")
    parser.add_argument("--new-tokens", type=int, default=64, help="tokens generated per call")
    parser.add_argument("--train-seq", type=int, default=2048, help="QLoRA sequence length")
    parser.add_argument("--train-steps", type=int, default=5, help="QLoRA steps timed")
    parser.add_argument("--eval-prompts", type=int, default=8, help="batched eval: prompts")
    parser.add_argument("--eval-n", type=int, default=8, help="batched eval: samples per prompt")
    parser.add_argument("--eval-batch", type=int, default=64, help="batched eval: rows together")
    parser.add_argument("--eval-prompt-tokens", type=int, default=300, help="batched eval prompt")
    parser.add_argument("--eval-new-tokens", type=int, default=128, help="batched eval: per row")
    parser.add_argument(
        "--dry-run", action="store_true", help="tiny shapes and a few steps on any device"
    )
    args = parser.parse_args()
    if args.dry_run:
        args.sizes, args.rounds, args.train_steps, args.eval_n = "tiny", 1, 1, 2

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    sizes = (args.sizes or ("1.5b,7b" if device == "cuda" else "tiny")).split(",")
    env = {"device": device, "torch": torch.__version__}
    if device == "cuda":
        env["gpu"] = torch.cuda.get_device_name(0)
    else:
        args.rounds = min(args.rounds, 3)
    results = [run(size.strip(), device, args) for size in sizes]
    print(json.dumps({"bench": "gpu", **env, "results": results}, indent=2))


if __name__ == "__main__":
    main()
