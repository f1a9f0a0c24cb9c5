"""Small local models: a byte-level BPE tokenizer with FIM sentinels and a
Llama-architecture model, random or pretrained.

Used by ``builtin:tiny`` (see :mod:`codegen.core.builtin.pretrain`) and by tests, which
build a random one in a few seconds instead of downloading anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fim import TINY
from ..metadata import write_metadata

SPECIAL_TOKENS = [
    TINY.eot_token,  # <|endoftext|>: EOS and end of a FIM middle
    TINY.prefix_token,
    TINY.suffix_token,
    TINY.middle_token,
    "<|fim_pad|>",  # padding is never EOS, so a model trained here learns to stop
    TINY.file_sep_token or "<|file_sep|>",
]
PAD_TOKEN = "<|fim_pad|>"

_SEED_TEXT = '''
import os
import sys
from typing import Any


class Point:
    """A point in the plane."""

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def distance(self, other: "Point") -> float:
        return ((self.x - other.x) ** 2 + (self.y - other.y) ** 2) ** 0.5


def main(argv: list[str]) -> int:
    for arg in argv:
        if arg.startswith("--"):
            print(arg, file=sys.stderr)
    return 0
'''


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> Any:
    """Train a byte-level BPE tokenizer with the FIM sentinels as single tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=TINY.eot_token,
        pad_token=PAD_TOKEN,
        additional_special_tokens=SPECIAL_TOKENS[1:],
        model_max_length=4096,
        clean_up_tokenization_spaces=False,
    )


def tiny_config(
    vocab_size: int,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    max_positions: int = 4096,
    tokenizer: Any | None = None,
) -> Any:
    from transformers import LlamaConfig

    eos = tokenizer.eos_token_id if tokenizer is not None else 0
    pad = tokenizer.pad_token_id if tokenizer is not None else None
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 8 // 3 // 8 * 8 or 8,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=pad,
    )


def make_random_model(
    out_dir: str | Path,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    vocab_size: int = 512,
    seed: int = 0,
    texts: Iterable[str] | None = None,
) -> Path:
    """Write a random tiny Llama model and its tokenizer to ``out_dir``; return the path.

    Takes a few seconds on CPU. The tokenizer is trained on ``texts`` (default: a
    short Python snippet), so it is a real byte-level BPE that round-trips any text.
    """
    import torch
    from transformers import LlamaForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts if texts is not None else [_SEED_TEXT] * 4, vocab_size)
    torch.manual_seed(seed)
    config = tiny_config(len(tokenizer), hidden, layers, heads, tokenizer=tokenizer)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_metadata(out, fim_format=TINY.name, kind="random-tiny")
    return out
