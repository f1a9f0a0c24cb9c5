"""``codegen-train export --format gguf`` checked in a real engine: the llama.cpp server
(xllamacpp) serving the exported base and LoRA must tokenize like the Hugging Face
tokenizer and decode greedily, token for token, like transformers in process."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

PROMPTS = [
    "def distance(self, other):\n    return ",
    "import os\nimport sys\n\n\nclass Point:\n    def __init__(self, x, y):\n",
]
TOKENIZER_TEXTS = [
    "def main(argv: list[str]) -> int:\n    return 0\n",
    "  x\t=\t'caf\u00e9' # \u00fcber \U0001f680 \u4e2d\u6587  \n\n\n",
    "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y<|fim_middle|>",
    "I've been 'told he's there, 'RE you sure? 3333333 3.3 ------=======",
]
N_PREDICT = 16


@functools.lru_cache(maxsize=4)
def _hf_model(hf_dir: Path, adapter_dir: Path | None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_dir)
    return model.eval(), AutoTokenizer.from_pretrained(hf_dir)


def transformers_greedy(hf_dir: Path, adapter_dir: Path | None, prompt: str) -> list[int]:
    """The in-process greedy continuation of ``prompt`` (token ids, EOS included)."""
    import torch

    model, tokenizer = _hf_model(hf_dir, adapter_dir)
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=N_PREDICT,
            pad_token_id=tokenizer.pad_token_id,
        )
    return out[0, ids.shape[1] :].tolist()


def server_greedy(server, prompt: str, lora_scale: float) -> list[int]:
    """The server's greedy continuation; the LoRA's scale is set on every request."""
    answer = server.post(
        "/completion",
        {
            "prompt": prompt,
            "n_predict": N_PREDICT,
            "temperature": 0.0,
            "repeat_penalty": 1.0,  # llama.cpp defaults to 1.1: not greedy
            "return_tokens": True,
            # Always explicit: "lora": [] keeps whatever scale the slot had.
            "lora": [{"id": server.lora_id, "scale": lora_scale}],
        },
    )
    tokens = answer["tokens"]
    if answer.get("stop_type") == "eos":
        tokens = [*tokens, _eos_id(server)]
    return tokens


def _eos_id(server) -> int:
    _, tokenizer = _hf_model(server.hf_dir, None)
    return tokenizer.eos_token_id


def test_exported_files_are_gguf(tiny_gguf) -> None:
    for path in (tiny_gguf.model_gguf, tiny_gguf.lora_gguf):
        assert path.read_bytes()[:4] == b"GGUF", path
    assert tiny_gguf.lora_gguf.name == "adapter.lora.gguf"


@pytest.mark.parametrize("text", TOKENIZER_TEXTS)
def test_gguf_tokenizes_like_the_hf_tokenizer(llama_server, text: str) -> None:
    _, tokenizer = _hf_model(llama_server.hf_dir, None)
    want = tokenizer.encode(text, add_special_tokens=False)
    got = llama_server.post(
        "/tokenize", {"content": text, "add_special": False, "parse_special": True}
    )["tokens"]
    assert got == want
    assert llama_server.post("/detokenize", {"tokens": got})["content"] == text


def test_server_lists_the_lora_at_scale_zero(llama_server) -> None:
    adapters = llama_server.get("/lora-adapters")
    assert [(a["id"], Path(a["path"]).name, a["scale"]) for a in adapters] == [
        (0, llama_server.lora_name, 0.0)
    ]


@pytest.mark.parametrize("with_lora", [False, True], ids=["base", "lora"])
@pytest.mark.parametrize("prompt", PROMPTS, ids=["method", "class"])
def test_greedy_equals_transformers_token_for_token(
    llama_server, prompt: str, with_lora: bool
) -> None:
    adapter = llama_server.adapter_dir if with_lora else None
    want = transformers_greedy(llama_server.hf_dir, adapter, prompt)
    assert server_greedy(llama_server, prompt, 1.0 if with_lora else 0.0) == want


def test_the_lora_changes_the_output(llama_server) -> None:
    """Guards the parity test above: base and adapter must disagree on some prompt."""
    base = [transformers_greedy(llama_server.hf_dir, None, p) for p in PROMPTS]
    tuned = [transformers_greedy(llama_server.hf_dir, llama_server.adapter_dir, p) for p in PROMPTS]
    assert base != tuned


def test_switching_lora_per_request_reuses_no_stale_cache(llama_server) -> None:
    """Same prompt, scale 0 -> 1 -> 0: each answer is the right model's, though the
    server caches the prompt between requests."""
    prompt = PROMPTS[0]
    want = {
        0.0: transformers_greedy(llama_server.hf_dir, None, prompt),
        1.0: transformers_greedy(llama_server.hf_dir, llama_server.adapter_dir, prompt),
    }
    for scale in (0.0, 1.0, 0.0, 1.0):
        assert server_greedy(llama_server, prompt, scale) == want[scale], scale


def _tiny_qwen2(out: Path) -> Path:
    """A random Qwen2 (attention biases, grouped KV heads) with builtin:tiny's tokenizer."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from codegen.core.builtin.tiny import make_random_model

    llama = make_random_model(out.parent / "qwen2-tokenizer", seed=1)
    tokenizer = AutoTokenizer.from_pretrained(llama)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=168,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(1)
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("proj.bias"):
                param.normal_(0, 0.5)  # zero biases would not show a lost bias
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_qwen2_export_decodes_like_transformers(
    tmp_path_factory, export_to_gguf, start_llama_server
) -> None:
    hf_dir = _tiny_qwen2(tmp_path_factory.mktemp("qwen2") / "hf")
    server = start_llama_server(export_to_gguf(hf_dir))
    # transformers 5 gives a qwen2 model Qwen2's split: the GGUF must record qwen2, not gpt-2.
    _, tokenizer = _hf_model(server.hf_dir, None)
    for text in TOKENIZER_TEXTS:
        got = server.post("/tokenize", {"content": text, "parse_special": True})["tokens"]
        assert got == tokenizer.encode(text, add_special_tokens=False), text
    for scale, adapter in ((0.0, None), (1.0, server.adapter_dir)):
        want = transformers_greedy(server.hf_dir, adapter, PROMPTS[0])
        assert server_greedy(server, PROMPTS[0], scale) == want, scale
