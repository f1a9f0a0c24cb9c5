"""bitsandbytes' packed 4-bit CPU path, forced on or off (see ``codegen.core.quantize``).

bitsandbytes decides per ``Linear4bit``, when the layer is built, whether it takes the
AVX512-BF16 packed path (``bitsandbytes.nn.modules.has_avx512bf16``). Forcing that
flag makes the real repacking (and its assertion) run on any CPU. Where the CPU lacks
AVX512-BF16 the fused kernel itself cannot run, so a reference in plain torch stands
in for it (``bitsandbytes.functional.gemv_4bit`` on repacked weights); on a CPU that
has it, the real kernel runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class PackedPath:
    on: bool
    real_kernel: bool
    repacked: list[tuple[int, int]] = field(default_factory=list)
    """(out_features, in_features) of every weight bitsandbytes repacked."""


def reference_packed_gemv(original):
    """``gemv_4bit`` for repacked weights in plain torch (any CPU); others go to ``original``."""
    import torch

    def gemv_4bit(A, B, out=None, transposed_A=False, transposed_B=False, state=None):
        if not getattr(state, "packing_format_for_cpu", False):
            return original(A, B, out, transposed_A, transposed_B, state)
        # Undo bitsandbytes' layout: [N, K/2] bytes of (32 low | 32 high) nibbles per
        # (32-row block, column pair) -> [N, K] 4-bit codes; absmax is [K/blocksize, N].
        n, k = state.shape
        nibbles = B.reshape(-1, 32)
        codes = torch.cat([nibbles & 0xF, nibbles >> 4], dim=-1)
        codes = codes.reshape(n // 32, k // 2, 32, 2).transpose(1, 2).reshape(n, k)
        scale = state.absmax.float().T.reshape(n, k // state.blocksize, 1)
        weight = (state.code[codes.long()].reshape(n, -1, state.blocksize) * scale).reshape(n, k)
        result = torch.nn.functional.linear(A, weight.to(A.dtype))
        if out is not None:
            out.copy_(result)
            return out
        return result

    return gemv_4bit


@pytest.fixture(params=["packed-path-off", "packed-path-on"])
def bnb_cpu_packed_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Force bitsandbytes' AVX512-BF16 packed CPU path on or off for layers built in the test.

    Parametrize with ``indirect=True`` and ``["packed-path-on"]`` for one mode only.
    """
    import bitsandbytes.functional as F
    import bitsandbytes.nn.modules as modules

    on = request.param == "packed-path-on"
    real = on and bool(F.has_avx512bf16())
    state = PackedPath(on=on, real_kernel=real)
    monkeypatch.setattr(modules, "has_avx512bf16", lambda: on)
    convert = modules._convert_weight_packed_for_cpu

    def spy(qweight, quant_state, *args, **kwargs):
        result = convert(qweight, quant_state, *args, **kwargs)  # asserts on bad shapes
        state.repacked.append(tuple(int(n) for n in quant_state.shape))
        return result

    monkeypatch.setattr(modules, "_convert_weight_packed_for_cpu", spy)
    if on and not real:
        monkeypatch.setattr(F, "gemv_4bit", reference_packed_gemv(F.gemv_4bit))
    return state
