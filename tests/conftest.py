"""Shared fixtures: tiny random models built locally in seconds (nothing is downloaded)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Never touch the network from tests, and keep torch to the two CI cores.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


BENCH_DATA_ENV = "CODEGEN_BENCH_DATA"
"""Where the public benchmark files live (default ``../shared/data`` beside the checkout)."""


def bench_data_dir() -> Path:
    """The benchmark data directory: ``$CODEGEN_BENCH_DATA`` or ``<repo>/../shared/data``."""
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return Path(os.environ.get(BENCH_DATA_ENV) or default)


def bench_file(relative: str) -> Path:
    """A benchmark file (e.g. ``evalplus/MbppPlus.jsonl.gz``), or skip the test saying why."""
    path = bench_data_dir() / relative
    if not path.is_file():
        pytest.skip(f"benchmark file {path} not found; set {BENCH_DATA_ENV} to the data directory")
    return path


@pytest.fixture(scope="session")
def bench_data():
    """:func:`bench_file` as a fixture: ``bench_data("evalplus/MbppPlus.jsonl.gz")`` is the
    file's path, or the test is skipped with the reason."""
    return bench_file


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Llama with a byte-level BPE tokenizer and FIM sentinels."""
    from codegen.core.builtin.tiny import make_random_model

    return make_random_model(tmp_path_factory.mktemp("tiny-model"), seed=0)


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another random tiny model with a different shape (for adapter-mismatch tests)."""
    from codegen.core.builtin.tiny import make_random_model

    return make_random_model(tmp_path_factory.mktemp("other-model"), hidden=96, layers=3, seed=1)


def make_lora_adapter(base_dir: Path, out_dir: Path, seed: int) -> Path:
    """A LoRA adapter on all linear layers with non-zero weights, so it changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from codegen.core.metadata import config_fingerprint, write_metadata

    base = AutoModelForCausalLM.from_pretrained(base_dir)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    model.save_pretrained(out_dir)
    write_metadata(
        out_dir, base_model=str(base_dir), base_fingerprint=config_fingerprint(base.config)
    )
    return out_dir


@pytest.fixture(scope="session")
def lora_adapters(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two different LoRA adapters for ``tiny_model_dir``."""
    root = tmp_path_factory.mktemp("adapters")
    return [make_lora_adapter(tiny_model_dir, root / f"a{i}", seed=i) for i in range(2)]


@pytest.fixture(scope="session")
def next_edit_adapter(tmp_path_factory: pytest.TempPathFactory):
    """The next-edit recipe (``tests/fixtures/next_edit_adapter.py``), built once per
    session and shared by the model and editor tiers: the rename repository, a random
    tiny base, ``codegen-train data --tasks next-edit`` and ``codegen-train sft``. A
    :class:`~next_edit_adapter.NextEditAdapter`: paths, held-out commits, server options."""
    import sys

    fixtures = Path(__file__).resolve().parent / "fixtures"
    if str(fixtures) not in sys.path:
        sys.path.insert(0, str(fixtures))
    from next_edit_adapter import build_next_edit_adapter

    return build_next_edit_adapter(tmp_path_factory.mktemp("next-edit"))
