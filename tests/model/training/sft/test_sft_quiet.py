"""A command line that loads a 4-bit model prints no third-party warnings (core/quiet.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOISE = ("Warning", "kernels-community")  # also matches FutureWarning, UserWarning, ...


def test_qlora_command_line_prints_no_third_party_warnings(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path
) -> None:
    # Before core/quiet.py: two FutureWarnings from transformers (PEFT's QLoRA preparation
    # calls its deprecated gradient-checkpointing names) and, on AVX512-BF16 CPUs,
    # bitsandbytes' "Failed to load CPU gemm_4bit_forward from kernels-community".
    args = ["sft", "--base", str(tiny_model_dir), "--data", str(sft_data_dir)]
    args += ["--out", str(tmp_path / "out"), "--quantize", "4bit", "--device", "cpu"]
    args += ["--max-steps", "1", "--seq-len", "160", "--batch-size", "2", "--lora-r", "4"]
    args += ["--warmup", "0", "--lr", "5e-3", "--eval-examples", "4", "--fim-eval-examples", "2"]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "codegen.training.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out" / "adapter_config.json").exists()
    lines = proc.stderr.replace("\r", "\n").splitlines()
    assert any(line.startswith("sft") for line in lines)  # progress bars stay
    assert [line for line in lines if any(word in line for word in NOISE)] == []
