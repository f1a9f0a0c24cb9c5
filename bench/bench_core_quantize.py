"""4-bit footprint of a model shaped like Qwen2.5-Coder-0.5B against its fp32 footprint.

Random weights built from the published config (no download), saved once, then
loaded twice in the same run: fp32 (baseline) and NF4 with double quantization.
Prints JSON; the acceptance bar is a ratio <= 0.4.

    python bench/bench_core_quantize.py [--small]
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time

QWEN25_CODER_05B = dict(
    vocab_size=151936,
    hidden_size=896,
    intermediate_size=4864,
    num_hidden_layers=24,
    num_attention_heads=14,
    num_key_value_heads=2,
    max_position_embeddings=32768,
    rope_theta=1000000.0,
    tie_word_embeddings=True,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a 4-layer variant (fast smoke run)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

    from codegen.core.quantize import quantization_config

    shape = dict(QWEN25_CODER_05B)
    if args.small:
        shape["num_hidden_layers"] = 4
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        Qwen2ForCausalLM(Qwen2Config(**shape)).save_pretrained(tmp)
        gc.collect()
        t0 = time.perf_counter()
        fp32 = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32)
        fp32_s = time.perf_counter() - t0
        fp32_bytes = fp32.get_memory_footprint()
        params = sum(p.numel() for p in fp32.parameters())
        del fp32
        gc.collect()
        t0 = time.perf_counter()
        q4 = AutoModelForCausalLM.from_pretrained(
            tmp,
            quantization_config=quantization_config("4bit", "cpu"),
            device_map={"": "cpu"},
            dtype=torch.float32,
        )
        q4_s = time.perf_counter() - t0
        q4_bytes = q4.get_memory_footprint()
    print(
        json.dumps(
            {
                "bench": "core_quantize",
                "shape": "Qwen2.5-Coder-0.5B" + (" (4 layers)" if args.small else ""),
                "parameters": params,
                "fp32_bytes": fp32_bytes,
                "nf4_bytes": q4_bytes,
                "ratio": round(q4_bytes / fp32_bytes, 3),
                "target_ratio_max": 0.4,
                "fp32_load_s": round(fp32_s, 1),
                "nf4_load_s": round(q4_s, 1),
                "note": "embeddings stay fp32 on CPU (bitsandbytes quantizes Linear layers only)",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
