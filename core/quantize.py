"""bitsandbytes quantization for :func:`codegen.core.model.load_model`: the
``BitsAndBytesConfig``, and a guard around bitsandbytes' packed 4-bit CPU path.

The packed path (bitsandbytes 0.50): on a CPU with AVX512-BF16, ``Linear4bit``
decides when it is built (``support_avx512bf16_for_cpu = has_avx512bf16()``) to
repack its weight, in its first forward pass in eval mode without gradients, into
a layout for a fused bf16 kernel (``bitsandbytes.functional._convert_weight_packed_for_cpu``).
That repacking asserts that the output width is a multiple of 32 ("N must be
divisible by block_n") and fails unless the input width is a multiple of the
quantization block size (64): a model with other widths crashed in the middle of
its first forward pass. Other CPUs never take the path.

The guard (:func:`guard_packed_cpu_path`, run on every 4-bit model loaded on CPU)
switches each layer that cannot be repacked to bitsandbytes' generic CPU kernel
(dequantize, then matmul: what every other CPU runs) by clearing that per-layer
flag. Every layer stays 4-bit; layers that can be repacked keep the fast path;
one log line names the others. For training (QLoRA) the path is switched off on
every layer and weights already repacked are unpacked: it is an inference path, and
a weight repacked by an evaluation pass stays repacked, after which the layer
computes through an op without autograd: the gradient to its input is lost (torch
only warns, at the first backward pass).

Tests force the per-layer flag on and off (tests/model/conftest.py), so both paths
are covered on any CPU.

torch, transformers and bitsandbytes are imported inside the functions.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .errors import ConfigError

log = logging.getLogger(__name__)

QUANTIZE_CHOICES = ("4bit", "8bit", "none")

PACK_BLOCK_N = 32
"""bitsandbytes' packed CPU layout groups output rows by 32."""

_FLAG = "support_avx512bf16_for_cpu"
"""The per-layer switch ``bitsandbytes.nn.Linear4bit`` reads in ``forward``."""


def quantization_config(quantize: str, device: str, sharded: bool = False) -> Any:
    """The ``BitsAndBytesConfig`` for ``quantize`` (``None`` for ``none``): 4-bit is NF4
    with double quantization, computing in bf16 on CUDA and fp32 on CPU.

    ``sharded``: the weights will be sharded by FSDP (FSDP-QLoRA), which flattens
    parameters of one dtype, so the packed 4-bit weights are stored in the compute dtype
    (``bnb_4bit_quant_storage``) instead of ``uint8``."""
    if quantize not in QUANTIZE_CHOICES:
        raise ConfigError(
            f"unknown quantize {quantize!r}; use one of {', '.join(QUANTIZE_CHOICES)}"
        )
    if quantize == "none":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if device == "cuda" else torch.float32
    extra = {"bnb_4bit_quant_storage": compute} if sharded else {}
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute,
        **extra,
    )


def cpu_has_packed_4bit_path() -> bool:
    """True when bitsandbytes reports AVX512-BF16, i.e. new ``Linear4bit`` layers take
    the packed CPU path (False when bitsandbytes is missing or predates the path)."""
    try:
        from bitsandbytes.functional import has_avx512bf16
    except ImportError:
        return False
    return bool(has_avx512bf16())


def packable(out_features: int, in_features: int, blocksize: int = 64) -> bool:
    """Whether bitsandbytes can repack an ``out_features`` x ``in_features`` 4-bit weight
    quantized in blocks of ``blocksize`` into its packed CPU layout."""
    return blocksize > 0 and out_features % PACK_BLOCK_N == 0 and in_features % blocksize == 0


def _shape(module: Any) -> tuple[int, int, int]:
    state = getattr(module.weight, "quant_state", None)
    if state is not None and len(getattr(state, "shape", ())) == 2:
        out_features, in_features = (int(n) for n in state.shape)
        return out_features, in_features, int(state.blocksize)
    return int(module.out_features), int(module.in_features), 64


_INDEX = re.compile(r"(?<=\.)\d+(?=\.)")


def _summary(layers: list[tuple[str, int, int]]) -> str:
    """``model.layers.*.mlp.up_proj 168x64, ...``: one entry per name pattern and shape."""
    seen: dict[str, None] = {}
    for name, out_features, in_features in layers:
        seen[f"{_INDEX.sub('*', name)} {out_features}x{in_features}"] = None
    return ", ".join(seen)


def guard_packed_cpu_path(model: Any, training: bool = False) -> list[str]:
    """Keep bitsandbytes' packed CPU path away from 4-bit layers it would crash on.

    Switches every ``Linear4bit`` of ``model`` that would take the packed path but
    cannot be repacked (see :func:`packable`) to the generic CPU kernel. With
    ``training``, switches every layer that would take it, and unpacks the weights
    an earlier inference pass already repacked. Returns the names switched and logs
    them in one line. A model without such layers is left as it is.
    """
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:
        return []
    switched: list[tuple[str, int, int]] = []
    for name, module in model.named_modules():
        if not isinstance(module, Linear4bit):
            continue
        if training:
            _unpack(module)
        if not getattr(module, _FLAG, False):
            continue
        out_features, in_features, blocksize = _shape(module)
        if training or not packable(out_features, in_features, blocksize):
            setattr(module, _FLAG, False)
            switched.append((name, out_features, in_features))
    if switched and training:
        log.info(
            "4-bit: %d layers use bitsandbytes' generic CPU kernel for training "
            "(its AVX512-BF16 packed path is inference-only)",
            len(switched),
        )
    elif switched:
        log.info(
            "4-bit: %d layers use bitsandbytes' generic CPU kernel instead of its AVX512-BF16 "
            "packed path, which needs output widths divisible by %d and input widths "
            "divisible by the block size: %s",
            len(switched),
            PACK_BLOCK_N,
            _summary(switched),
        )
    return [name for name, _, _ in switched]


def _unpack(module: Any) -> None:
    """Undo bitsandbytes' CPU repacking of ``module``'s weight, as bitsandbytes itself
    does before saving it or moving it to a GPU."""
    weight = module.weight
    if not getattr(getattr(weight, "quant_state", None), "packing_format_for_cpu", False):
        return
    from bitsandbytes.functional import _convert_weight_packed_for_cpu_inverse

    weight.data, weight.quant_state = _convert_weight_packed_for_cpu_inverse(
        weight.data, weight.quant_state
    )
