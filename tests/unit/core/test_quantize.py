"""The pure decisions of the 4-bit guard (the guard on real layers: tests/model/core)."""

from __future__ import annotations

import pytest

from codegen.core.errors import ConfigError
from codegen.core.quantize import _summary, packable, quantization_config


@pytest.mark.parametrize(
    ("out_features", "in_features", "blocksize", "expected"),
    [
        (64, 64, 64, True),
        (4864, 896, 64, True),  # Qwen2.5-Coder-0.5B's MLP
        (168, 64, 64, False),  # output width not a multiple of 32
        (64, 168, 64, False),  # input width not a multiple of the block size
        (96, 128, 64, True),
        (64, 96, 64, False),
        (64, 64, 0, False),
    ],
)
def test_packable_needs_outputs_by_32_and_inputs_by_the_block_size(
    out_features: int, in_features: int, blocksize: int, expected: bool
) -> None:
    assert packable(out_features, in_features, blocksize) is expected


def test_summary_folds_layer_indices_into_one_entry_per_shape() -> None:
    layers = [
        ("model.layers.0.mlp.up_proj", 168, 64),
        ("model.layers.1.mlp.up_proj", 168, 64),
        ("model.layers.12.mlp.down_proj", 64, 168),
        ("model.layers.13.mlp.down_proj", 64, 96),
    ]
    assert _summary(layers) == (
        "model.layers.*.mlp.up_proj 168x64, model.layers.*.mlp.down_proj 64x168, "
        "model.layers.*.mlp.down_proj 64x96"
    )


def test_quantization_config_rejects_unknown_modes_in_one_line() -> None:
    assert quantization_config("none", "cpu") is None
    with pytest.raises(ConfigError, match="use one of 4bit, 8bit, none"):
        quantization_config("3bit", "cpu")


def test_sharded_4bit_stores_packed_weights_in_the_compute_dtype():
    """FSDP-QLoRA: FSDP flattens parameters of one dtype, so the 4-bit storage must be
    the compute dtype, not uint8; without sharding it stays bitsandbytes' default."""
    import torch

    from codegen.core.quantize import quantization_config

    assert (
        quantization_config("4bit", "cuda", sharded=True).bnb_4bit_quant_storage == torch.bfloat16
    )
    assert quantization_config("4bit", "cpu", sharded=True).bnb_4bit_quant_storage == torch.float32
    assert quantization_config("4bit", "cuda").bnb_4bit_quant_storage == torch.uint8
