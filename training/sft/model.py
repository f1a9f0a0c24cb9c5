"""The model side of ``codegen-train sft``: base loading, pad token, LoRA, checks.

- The base is loaded with :func:`codegen.core.model.load_model`, so ``builtin:tiny``,
  local directories and hub ids behave exactly as in the server; ``4bit`` is
  NF4 with double quantization (QLoRA).
- LoRA goes on every linear layer (``target_modules="all-linear"``); with
  ``train_embeddings`` the token embeddings and the output head are trained in
  full as well (PEFT ``modules_to_save``: copies saved in the adapter, the base
  untouched). Small models need that: frozen embeddings cap what a few-million-
  parameter model can learn from a repository (builtin:tiny, 3 minutes on the
  sample repository: held-out FIM exact match 0.02 with LoRA alone, 0.14 with
  the embeddings trained too — what full fine-tuning reaches).
- The pad token is never EOS (see :func:`choose_pad_token_id`).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from codegen.core.errors import CodegenError

log = logging.getLogger(__name__)

PAD_CANDIDATES = ("<|fim_pad|>", "<pad>", "<|pad|>", "[PAD]", "<|padding|>", "<unk>")


class EmptyAdapterError(CodegenError):
    """Training left the adapter at its initial no-op state."""


def choose_pad_token_id(tokenizer: Any) -> tuple[int, str]:
    """A pad token id that is not EOS, and how it was chosen.

    When the tokenizer's own pad token is missing or equals EOS, a known pad-like
    token from its vocabulary is used; failing that, token id 0 (or 1 if 0 is
    EOS). Padding only fills positions after every real token with label -100,
    so no embedding is added and the model never sees the choice; what matters
    is that EOS itself is never treated as padding, so the model learns to stop.
    """
    eos = tokenizer.eos_token_id
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id != eos:
        return int(tokenizer.pad_token_id), f"tokenizer pad token {tokenizer.pad_token!r}"
    vocab = tokenizer.get_vocab()
    for token in PAD_CANDIDATES:
        if token in vocab and vocab[token] != eos:
            return int(vocab[token]), f"{token!r} (the tokenizer's pad token was EOS or unset)"
    fallback = 0 if eos != 0 else 1
    return fallback, f"token id {fallback} (no pad-like token in the vocabulary)"


def embedding_module_names(model: Any) -> list[str]:
    """Names of the input embedding and output head modules of ``model``."""
    wanted = [m for m in (model.get_input_embeddings(), model.get_output_embeddings()) if m]
    names = []
    for name, module in model.named_modules():
        if any(module is m for m in wanted):
            names.append(name.rsplit(".", 1)[-1])
    return sorted(set(names))


def add_lora(
    model: Any,
    r: int,
    alpha: int,
    dropout: float,
    quantized: bool,
    train_embeddings: bool = False,
) -> Any:
    """Wrap ``model`` with a fresh LoRA adapter on all linear layers (and full copies of
    the embeddings and output head with ``train_embeddings``)."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from codegen.core.quantize import guard_packed_cpu_path

    if quantized:
        # bitsandbytes' packed CPU path is inference-only: a layer repacked by an
        # evaluation pass would drop its input gradient for the rest of the run.
        guard_packed_cpu_path(model, training=True)
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=True,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules="all-linear",
        modules_to_save=embedding_module_names(model) if train_embeddings else None,
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # Untying is the point: the copies of embeddings and head are trained apart (and
        # merge unties them in the merged config), so PEFT's caution does not apply.
        warnings.filterwarnings("ignore", message=".*tie_word_embeddings=True.*")
        return get_peft_model(model, config)


def lora_is_empty(model: Any) -> bool:
    """True when every ``lora_B`` weight is zero: the adapter does nothing yet."""
    import torch

    found = False
    for name, param in model.named_parameters():
        if "lora_B" in name:
            found = True
            if torch.count_nonzero(param.detach()) > 0:
                return False
    return found


def check_not_empty(model: Any) -> None:
    if lora_is_empty(model):
        raise EmptyAdapterError(
            "training did not change the adapter (every LoRA update is zero), so there is "
            "nothing to save; check --lr and --max-steps/--epochs and that the data has examples"
        )


def packing_leak(model: Any, boundary: str, vocab_size: int) -> float:
    """Max |logit difference| for an example inside a packed row versus alone.

    0 (to float precision) means the model's attention honours example boundaries
    in the given collator mode.
    """
    import torch

    from .collator import PackedCollator

    gen = torch.Generator().manual_seed(0)
    high = max(3, min(vocab_size, 1000))
    first = torch.randint(2, high, (9,), generator=gen).tolist()
    second = torch.randint(2, high, (6,), generator=gen).tolist()
    dtype = next(model.parameters()).dtype
    collate = PackedCollator(pad_token_id=0, boundary=boundary, mask_dtype=dtype)
    row = {"input_ids": first + second, "labels": first + second, "lengths": [9, 6]}
    alone = {"input_ids": second, "labels": second, "lengths": [6]}
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outs = []
            for batch in (collate([row]), collate([alone])):
                inputs = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
                inputs.pop("labels")
                outs.append(model(**inputs).logits.float())
    finally:
        model.train(was_training)
    return float((outs[0][0, 9:] - outs[1][0]).abs().max())


def choose_boundary_mode(model: Any, vocab_size: int) -> str:
    """``position_ids`` when the model's attention honours restarting positions, else
    ``mask`` (an explicit block-diagonal mask), verified by :func:`packing_leak`."""
    import torch

    # A real leak moves logits by ~0.1-1; half precision alone moves them by ~1e-2.
    full = next(model.parameters()).dtype == torch.float32
    tolerance = 1e-3 if full else 5e-2
    for mode in ("position_ids", "mask"):
        leak = packing_leak(model, mode, vocab_size)
        if leak <= tolerance:
            return mode
        log.warning("packing boundary mode %s leaks between examples (%.3g)", mode, leak)
    raise CodegenError(
        "this model's attention lets packed examples see each other; rerun with --no-packing"
    )
