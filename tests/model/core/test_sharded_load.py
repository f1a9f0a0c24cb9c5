"""A 4-bit base loaded for FSDP (FSDP-QLoRA): packed weights in the compute dtype, and
the model still runs (on CPU here; the FSDP launch itself needs several GPUs)."""

from __future__ import annotations


def test_sharded_4bit_base_stores_weights_in_the_compute_dtype_and_runs(
    tiny_model_dir, bnb_cpu_packed_path
):
    """Both ways bitsandbytes may take on a CPU (its AVX512-BF16 packed path forced on and
    off, see tests/model/conftest.py)."""
    import torch

    from codegen.core.model import load_model

    loaded = load_model(str(tiny_model_dir), quantize="4bit", device="cpu", sharded=True)
    packed = [p for n, p in loaded.model.named_parameters() if n.endswith("q_proj.weight")]
    assert packed and all(type(p).__name__ == "Params4bit" for p in packed)
    assert {p.dtype for p in packed} == {torch.float32}
    ids = loaded.tokenizer("def f():", return_tensors="pt").input_ids
    assert torch.isfinite(loaded.model(ids).logits).all()
