"""``make demo``: build (or reuse) builtin:tiny and fill in the middle of a sample file.

Offline, on CPU. Prints the completion the model writes at the cursor, with the
per-call figures, then what to run next with a real model.
"""

from __future__ import annotations

import sys
import time

from ..cli_errors import run_cli

SAMPLE_PREFIX = '''import os


class Config:
    """Settings read from the environment."""

    def __init__(self, prefix: str = "APP_") -> None:
        self.prefix = prefix
        self.values = {}

    def load(self) -> None:
        for key, value in os.environ.items():
            if key.startswith(self.prefix):
                '''
SAMPLE_SUFFIX = """

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)
"""

NEXT_STEPS = """
Next steps
  codegen-lsp --stdio                      serve builtin:tiny to your editor (see editors/)
  codegen-lsp --model Qwen/Qwen2.5-Coder-1.5B --quantize 4bit --device cuda
                                           a real FIM code model, 4-bit on a GPU
  codegen-eval humaneval --model builtin:tiny --limit 20 --n 2 --out runs/he
  codegen-train data --source ~/src/myrepo --out runs/data
  codegen-train sft --base builtin:tiny --data runs/data --out runs/adapter
builtin:tiny is a ~2M-parameter toy trained for minutes on the standard library: it writes
Python-shaped text, not good code. Use a real model for real work.
"""


def main() -> int:
    from ..engine import GenerationConfig
    from ..load import load_engine
    from . import builtin_model_path

    started = time.perf_counter()
    path = builtin_model_path("tiny")
    engine = load_engine(str(path), device="cpu")
    prompt = engine.fim.build_prompt(SAMPLE_PREFIX, SAMPLE_SUFFIX)
    config = GenerationConfig(max_new_tokens=48, stop=["\n\n"])
    result = engine.generate(prompt, config)
    again = engine.generate(prompt + "", config)  # the same prompt: served from the KV cache

    print(f"model: builtin:tiny ({path}), FIM format {engine.fim.name}")
    print("--- sample file, completion between the markers " + "-" * 20)
    print(SAMPLE_PREFIX + "\x1b[32m⟦" + result.text + "⟧\x1b[0m" + SAMPLE_SUFFIX)
    print("-" * 70)
    s = result.stats
    print(
        f"completion: {len(result.text)} chars, {s.new_tokens} tokens, stop: {result.finish_reason}; "
        f"prompt {s.prompt_tokens} tokens; first token {s.time_to_first_token_ms:.0f} ms, "
        f"total {s.total_ms:.0f} ms"
    )
    print(
        f"same prompt again with KV reuse: {again.stats.reused_tokens} of "
        f"{again.stats.prompt_tokens} prompt tokens reused, first token "
        f"{again.stats.time_to_first_token_ms:.0f} ms"
    )
    print(f"demo took {time.perf_counter() - started:.1f} s")
    print(NEXT_STEPS)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, "codegen-demo"))
