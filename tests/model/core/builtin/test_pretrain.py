"""`codegen-train pretrain` learns: held-out loss falls well below the untrained loss."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from codegen.core.builtin.pretrain import PretrainConfig, fim_transform, pretrain, split_chunks

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")

CORPUS = TESTS.parent / "core"


def test_pretrain_learns_and_writes_an_hf_model_dir(tmp_path: Path) -> None:
    config = PretrainConfig(
        corpus=str(CORPUS),
        max_minutes=0.4,
        vocab_size=512,
        hidden=64,
        layers=2,
        seq_len=64,
        batch_size=8,
        heldout_fraction=0.2,
        warmup_steps=5,
    )
    metrics = pretrain(tmp_path / "m", config)
    assert metrics["heldout_loss"] < metrics["untrained_heldout_loss"] - 1.0
    for name in ("config.json", "model.safetensors", "tokenizer.json", "codegen.json"):
        assert (tmp_path / "m" / name).is_file()
    assert json.loads((tmp_path / "m" / "codegen.json").read_text())["fim_format"] == "tiny"

    from codegen.core.transformers_engine import load_engine

    engine = load_engine(str(tmp_path / "m"), device="cpu")
    assert engine.fim.name == "tiny"


def test_fim_transform_keeps_every_character() -> None:
    import random

    text = "def f(x):\n    return x + 1\n\n\nprint(f(2))\n"
    for seed in range(20):
        example = fim_transform(text, random.Random(seed))
        body = example[len("<|fim_prefix|>") :]
        prefix, rest = body.split("<|fim_suffix|>")
        suffix, middle = rest.split("<|fim_middle|>")
        assert middle.endswith("<|endoftext|>")
        assert prefix + middle[: -len("<|endoftext|>")] + suffix == text
    assert "".join(split_chunks(text * 100, 50)) == text * 100


def test_pretrain_cli_rejects_a_missing_corpus(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "codegen.training.cli",
            "pretrain",
            "--corpus",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "corpus not found" in proc.stderr and "Traceback" not in proc.stderr
