"""4-bit loading against bitsandbytes' packed AVX512-BF16 CPU path, forced on and off.

The tiny model's widths (hidden 64, MLP 168) are what trips the path: gate_proj and
up_proj have 168 outputs (not a multiple of 32), down_proj 168 inputs (not a multiple
of the 64-wide quantization blocks); the attention projections (64x64) can be packed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from codegen.core.model import load_model
from codegen.core.quantize import cpu_has_packed_4bit_path, guard_packed_cpu_path

PROMPT = "def main(argv):\n    for arg in argv:\n        "
UNPACKABLE = ("gate_proj", "up_proj", "down_proj")
PACKABLE = ("q_proj", "k_proj", "v_proj", "o_proj")
ON = pytest.mark.parametrize("bnb_cpu_packed_path", ["packed-path-on"], indirect=True)


def _linear4bit(model):
    import bitsandbytes as bnb

    return {n: m for n, m in model.named_modules() if isinstance(m, bnb.nn.Linear4bit)}


def _logits(model, tokenizer):
    import torch

    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.fixture(scope="module")
def reference_logits(tiny_model_dir: Path):
    """Logits of the 4-bit model on the generic kernel (bitsandbytes' path off)."""
    import bitsandbytes.nn.modules as modules

    patch = pytest.MonkeyPatch()
    patch.setattr(modules, "has_avx512bf16", lambda: False)
    try:
        loaded = load_model(str(tiny_model_dir), quantize="4bit", device="cpu")
        return _logits(loaded.model, loaded.tokenizer)
    finally:
        patch.undo()


@ON
def test_forcing_the_path_reproduces_the_crash_without_the_guard(
    tiny_model_dir: Path, bnb_cpu_packed_path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from codegen.core.quantize import quantization_config

    model = AutoModelForCausalLM.from_pretrained(
        tiny_model_dir,
        quantization_config=quantization_config("4bit", "cpu"),
        device_map={"": "cpu"},
        dtype=torch.float32,
    )
    with pytest.raises((AssertionError, RuntimeError)), torch.no_grad():
        model(input_ids=torch.tensor([[1, 2, 3]]))


def test_guard_keeps_every_layer_4bit_and_off_the_path_it_cannot_take(
    tiny_model_dir: Path, bnb_cpu_packed_path, reference_logits, caplog
) -> None:
    import torch

    with caplog.at_level(logging.INFO, logger="codegen.core.quantize"):
        loaded = load_model(str(tiny_model_dir), quantize="4bit", device="cpu")
    layers = _linear4bit(loaded.model)
    linears = [
        n
        for n, m in loaded.model.named_modules()
        if isinstance(m, torch.nn.Linear) and n != "lm_head"
    ]
    assert sorted(layers) == sorted(linears) and len(layers) == 7 * 2  # all quantized, always
    assert all(m.weight.quant_type == "nf4" for m in layers.values())
    flags = {n: m.support_avx512bf16_for_cpu for n, m in layers.items()}
    notes = [r.getMessage() for r in caplog.records if "packed path" in r.getMessage()]
    if bnb_cpu_packed_path.on:
        assert flags == {n: n.endswith(PACKABLE) for n in layers}
        assert len(notes) == 1 and "6 layers" in notes[0]
        assert "model.layers.*.mlp.gate_proj 168x64" in notes[0]
        assert "model.layers.*.mlp.down_proj 64x168" in notes[0]
    else:
        assert not any(flags.values()) and notes == []

    logits = _logits(loaded.model, loaded.tokenizer)  # the forward pass that used to assert
    assert bnb_cpu_packed_path.repacked == ([(64, 64)] * 8 if bnb_cpu_packed_path.on else [])
    # Repacking rounds the scales to bf16 (about 1e-3 here); the real kernel computes in bf16.
    tolerance = 0.05 if bnb_cpu_packed_path.real_kernel else 1e-2
    assert torch.allclose(logits, reference_logits, atol=tolerance)
    assert (
        loaded.model.generate(
            loaded.tokenizer(PROMPT, return_tensors="pt").input_ids, max_new_tokens=3
        ).shape[1]
        > 3
    )


@ON
def test_training_guard_unpacks_and_keeps_the_input_gradient(
    tiny_model_dir: Path, bnb_cpu_packed_path
) -> None:
    import bitsandbytes.functional as F
    import torch

    loaded = load_model(str(tiny_model_dir), quantize="4bit", device="cpu")
    _logits(loaded.model, loaded.tokenizer)  # an evaluation pass repacks q/k/v/o
    layer = loaded.model.model.layers[0].self_attn.q_proj
    assert layer.weight.quant_state.packing_format_for_cpu
    switched = guard_packed_cpu_path(loaded.model, training=True)
    assert len(switched) == 8 and all(n.endswith(PACKABLE) for n in switched)
    assert not any(m.support_avx512bf16_for_cpu for m in _linear4bit(loaded.model).values())
    assert not layer.weight.quant_state.packing_format_for_cpu

    loaded.model.train()
    x = torch.randn(2, 64, requires_grad=True)
    layer(x).sum().backward()
    weight = F.dequantize_4bit(layer.weight.data, layer.weight.quant_state)
    assert x.grad is not None
    assert torch.allclose(x.grad, weight.sum(0).expand(2, -1), atol=1e-2)
    assert bnb_cpu_packed_path.repacked == [(64, 64)] * 8  # nothing repacked again


@pytest.mark.skipif(
    not cpu_has_packed_4bit_path(),
    reason="this CPU has no AVX512-BF16: bitsandbytes' packed 4-bit kernel cannot run here "
    "(the guard is tested with the path forced on and a reference kernel instead)",
)
def test_real_packed_kernel_on_this_cpu(tiny_model_dir: Path, reference_logits) -> None:
    import torch

    loaded = load_model(str(tiny_model_dir), quantize="4bit", device="cpu")
    logits = _logits(loaded.model, loaded.tokenizer)
    q_proj = loaded.model.model.layers[0].self_attn.q_proj
    assert q_proj.weight.quant_state.packing_format_for_cpu  # the real kernel ran
    assert torch.allclose(logits, reference_logits, atol=0.05)
