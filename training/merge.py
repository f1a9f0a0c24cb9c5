"""``codegen-train merge``: fold a LoRA adapter into its base, saved as a plain model.

The base is always loaded unquantized (float32 on CPU, bfloat16 on CUDA):
merging into 4-bit weights would round the adapter's update away. An adapter
trained with QLoRA is merged into the 16/32-bit original of its base.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from codegen.core.errors import ConfigError, ModelLoadError


def _check_base_not_quantized(loaded: Any, spec: str) -> None:
    qconfig = getattr(loaded.model.config, "quantization_config", None)
    if qconfig:
        raise ModelLoadError(
            f"--base {spec} is saved quantized; merge into its original 16/32-bit weights "
            "(the model it was quantized from)"
        )


def _untie_if_trained_apart(model: Any) -> None:
    """An adapter trained with ``--train-embeddings`` holds separate copies of the
    embeddings and the output head: the merged model must not tie them back together."""
    inputs, outputs = model.get_input_embeddings(), model.get_output_embeddings()
    if inputs is None or outputs is None or outputs.weight is inputs.weight:
        return
    if getattr(model.config, "tie_word_embeddings", False):
        model.config.tie_word_embeddings = False


def merge_adapter(base: str, adapter: str, out: str, device: str = "auto") -> dict[str, Any]:
    """Merge ``adapter`` into ``base`` and save model, tokenizer and ``codegen.json`` to ``out``."""
    from codegen.core.metadata import write_metadata
    from codegen.core.model import attach_adapter, load_model

    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"--out {out} exists and is not empty; choose a new directory")
    loaded = load_model(base, quantize="none", device=device)
    _check_base_not_quantized(loaded, base)
    attach_adapter(loaded, adapter)
    merged = loaded.model.merge_and_unload()
    merged.config.use_cache = True
    _untie_if_trained_apart(merged)
    target.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(target))
    loaded.tokenizer.save_pretrained(str(target))
    meta = {
        "kind": "merged",
        "fim_format": loaded.fim.name,
        "merged_from": {"base_model": base, "adapter": str(Path(adapter).resolve())},
    }
    write_metadata(target, **meta)
    print(f"codegen-train merge: wrote {target} ({merged.dtype})", file=sys.stderr)
    return meta
