"""``codegen-train merge``: the merged model computes what base + adapter computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from codegen.core.errors import ConfigError
from codegen.core.transformers_engine import load_engine
from codegen.training.merge import merge_adapter


def test_merged_model_equals_base_plus_adapter(
    tiny_model_dir: Path, lora_adapters: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "merged"
    merge_adapter(str(tiny_model_dir), str(lora_adapters[0]), str(out), device="cpu")

    with_adapter = load_engine(str(tiny_model_dir), adapter=str(lora_adapters[0]), device="cpu")
    merged = AutoModelForCausalLM.from_pretrained(out).eval()
    assert merged.dtype == torch.float32
    ids = torch.tensor([with_adapter.encode("def point(x, y):\n    return x")])
    with torch.no_grad():
        expected = with_adapter.model(input_ids=ids).logits
        got = merged(input_ids=ids).logits
        with with_adapter.model.disable_adapter():
            base = with_adapter.model(input_ids=ids).logits
    assert (expected - base).abs().max() > 1e-2  # the adapter matters, so the check can fail
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)

    meta = json.loads((out / "codegen.json").read_text())
    assert meta["fim_format"] == "tiny" and meta["kind"] == "merged"
    assert load_engine(str(out), device="cpu").info()["fim_format"] == "tiny"


def test_merge_refuses_a_non_empty_out(
    tiny_model_dir: Path, lora_adapters: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        merge_adapter(str(tiny_model_dir), str(lora_adapters[0]), str(out), device="cpu")
