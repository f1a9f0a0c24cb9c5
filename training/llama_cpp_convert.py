"""Run llama.cpp's own converters (``convert_hf_to_gguf.py``, ``convert_lora_to_gguf.py``)
in this process, for ``codegen-train export --format gguf``.

This module is the child process's entry point, never imported by the rest of
codegen: ``python -m codegen.training.llama_cpp_convert LLAMA_CPP_DIR JOBS_JSON``,
where ``JOBS_JSON`` is a list of ``{"script": "convert_hf_to_gguf.py", "argv": [...]}``.
Running every job in one interpreter pays the torch/transformers import once.

llama.cpp's files are used as they are. The one thing added is how an unknown
byte-level BPE is named: the converter identifies pre-tokenizers by hashing a
sample tokenization against a list of published models, so a tokenizer trained
here (builtin:tiny, or any ``codegen-train pretrain`` output) is refused even
though it splits text exactly like GPT-2. When, and only when, the hash is
unknown, the split is read from the tokenizer's own definition: GPT-2's
(``ByteLevel`` with its regex, no prefix space, no normalizer) is recorded as
llama.cpp's ``gpt-2``, Qwen2's regex followed by ``ByteLevel`` as ``qwen2``
(transformers 5 gives that split to any vocabulary of a ``qwen2`` model). Any
other unknown tokenizer is still refused, with llama.cpp's own message.
"""

from __future__ import annotations

import json
import logging
import runpy
import sys
from pathlib import Path
from typing import Any

GPT2_PRE_TOKENIZER = "gpt-2"
MARKER = "codegen-convert:"
"""Lines the parent process shows as progress (everything else is llama.cpp's log)."""


def _backend_json(tokenizer: Any) -> dict[str, Any]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return {}
    return json.loads(backend.to_str())


QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""Qwen2's split regex (what transformers' ``Qwen2Tokenizer`` installs on any vocabulary)."""


def _byte_level(pre: dict[str, Any], use_regex: bool) -> bool:
    return (
        pre.get("type") == "ByteLevel"
        and pre.get("use_regex", True) is use_regex
        and pre.get("add_prefix_space") is False
    )


def known_split_name(tokenizer: Any) -> str | None:
    """llama.cpp's name for a byte-level BPE tokenizer's split, read from its definition:
    ``gpt-2`` (ByteLevel with GPT-2's regex), ``qwen2`` (Qwen2's regex, then ByteLevel),
    or None for anything else."""
    spec = _backend_json(tokenizer)
    if (spec.get("model") or {}).get("type") != "BPE":
        return None
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    normalizer = (spec.get("normalizer") or {}).get("type")
    if len(steps) == 1 and _byte_level(steps[0], True) and normalizer is None:
        return GPT2_PRE_TOKENIZER
    if (
        len(steps) == 2
        and steps[0].get("type") == "Split"
        and (steps[0].get("pattern") or {}).get("Regex") == QWEN2_SPLIT
        and steps[0].get("behavior") == "Isolated"
        and _byte_level(steps[1], False)
        and normalizer in (None, "NFC")  # llama.cpp's qwen2 does not normalize
    ):
        return "qwen2"
    return None


def splits_like_gpt2(tokenizer: Any) -> bool:
    """Whether a Hugging Face fast tokenizer pre-tokenizes exactly like GPT-2."""
    return known_split_name(tokenizer) == GPT2_PRE_TOKENIZER


def _name_unknown_split(text_model: type) -> None:
    original = text_model.get_vocab_base_pre

    def get_vocab_base_pre(self: Any, tokenizer: Any) -> str:
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            name = known_split_name(tokenizer)
            if name is None:
                raise
            print(
                f"{MARKER} pre-tokenizer hash unknown to llama.cpp; the tokenizer splits "
                f"like {name}, recorded as {name!r}",
                file=sys.stderr,
                flush=True,
            )
            return name

    text_model.get_vocab_base_pre = get_vocab_base_pre


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m codegen.training.llama_cpp_convert LLAMA_CPP_DIR JOBS_JSON")
        return 2
    root = Path(argv[0])
    jobs = json.loads(argv[1])
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(root / "gguf-py"))
    from conversion import base  # llama.cpp's conversion package

    _name_unknown_split(base.TextModel)
    logging.basicConfig(level=logging.INFO)
    for job in jobs:
        script = root / job["script"]
        print(f"{MARKER} {job['label']}", file=sys.stderr, flush=True)
        sys.argv = [str(script), *job["argv"]]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as stop:
            if stop.code not in (None, 0):
                return int(stop.code) if isinstance(stop.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
