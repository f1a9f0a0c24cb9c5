"""The real model runtime on a tiny random Llama: loading, 4-bit, adapters, KV reuse,
cancellation, stop rules, scoring, and the one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codegen.core.engine import CancelToken, GenerationConfig
from codegen.core.errors import AdapterError, ModelLoadError
from codegen.core.transformers_engine import load_engine

PROMPT = "import os\nimport sys\n\n\ndef main(argv):\n    for arg in argv:\n        "


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path):
    return load_engine(str(tiny_model_dir), device="cpu")


def test_loads_with_fim_format_from_metadata(engine) -> None:
    assert engine.fim.name == "tiny"
    assert engine.info()["device"] == "cpu"


def test_4bit_load_quantizes_linear_layers_on_cpu(
    tiny_model_dir: Path, bnb_cpu_packed_path
) -> None:
    """With bitsandbytes' AVX512-BF16 packed CPU path forced on and off (tests/model/conftest.py)."""
    import bitsandbytes as bnb

    eng = load_engine(str(tiny_model_dir), quantize="4bit", device="cpu")
    layer = eng.model.model.layers[0].self_attn.q_proj
    assert isinstance(layer, bnb.nn.Linear4bit)
    assert layer.weight.quant_type == "nf4"
    result = eng.generate(PROMPT, GenerationConfig(max_new_tokens=4))
    assert result.stats.prompt_tokens > 0


def test_greedy_output_is_identical_with_and_without_cache_reuse(tiny_model_dir: Path) -> None:
    with_reuse = load_engine(str(tiny_model_dir), device="cpu")
    prompts = [PROMPT, PROMPT + "p", PROMPT + "pr", PROMPT[:-12] + "x = 1\n", "other text"]
    cfg = GenerationConfig(max_new_tokens=12)
    fresh = GenerationConfig(max_new_tokens=12, use_cache_reuse=False)
    reused = []
    for prompt in prompts:
        a = with_reuse.generate(prompt, cfg)
        b = with_reuse.generate(prompt, fresh)  # also drops the cache: next call starts cold
        a2 = with_reuse.generate(prompt, cfg)  # cold again, then...
        a3 = with_reuse.generate(prompt, cfg)  # ...fully reused prompt
        assert a.text == b.text == a2.text == a3.text
        assert a3.stats.reused_tokens == a3.stats.prompt_tokens - 1
        reused.append(a3.stats.reused_tokens)
    step = load_engine(str(tiny_model_dir), device="cpu")
    step.generate(PROMPT, cfg)
    typed = step.generate(PROMPT + "p", cfg)
    assert typed.stats.reused_tokens >= typed.stats.prompt_tokens - 3
    assert typed.text == with_reuse.generate(PROMPT + "p", fresh).text


def test_cancellation_stops_within_a_few_steps(engine) -> None:
    token = CancelToken()
    calls = []

    def cancel_on_third_step(text: str) -> None:
        calls.append(text)
        if len(calls) == 3:
            token.cancel()
        return None

    # The engine must not stop on EOS for this to be meaningful.
    cfg = GenerationConfig(max_new_tokens=500, stop_fn=cancel_on_third_step)
    saved = engine._stop_ids
    engine._stop_ids = set()
    try:
        result = engine.generate(PROMPT, cfg, token)
    finally:
        engine._stop_ids = saved
    assert result.finish_reason == "cancelled"
    assert result.stats.new_tokens <= 4
    assert result.text == ""


def test_stop_rules_and_max_tokens(engine) -> None:
    saved = engine._stop_ids
    engine._stop_ids = set()
    try:
        free = engine.generate(PROMPT, GenerationConfig(max_new_tokens=16))
        assert free.finish_reason == "length" and free.stats.new_tokens == 16
        assert len(free.text) >= 6
        stop = free.text[3:6]
        cut = engine.generate(PROMPT, GenerationConfig(max_new_tokens=16, stop=[stop]))
        assert cut.finish_reason == "stop"
        assert cut.text == free.text[: free.text.find(stop)]
        short = engine.generate(
            PROMPT, GenerationConfig(max_new_tokens=16, stop_fn=lambda t: 2 if len(t) > 2 else None)
        )
        assert short.finish_reason == "stop" and short.text == free.text[:2]
    finally:
        engine._stop_ids = saved


def test_sampling_is_reproducible_with_a_seed(engine) -> None:
    cfg = GenerationConfig(max_new_tokens=10, temperature=0.8, top_p=0.9, seed=5)
    assert engine.generate(PROMPT, cfg).text == engine.generate(PROMPT, cfg).text


def test_score_gives_every_token_after_the_first(engine) -> None:
    text = "def f(x):\n    return x + 1  # ✓\n"
    scores = engine.score(text)
    assert len(scores) == engine.count_tokens(text) - 1
    for s in scores:
        assert text[s.start : s.end] == s.text
        assert s.logprob <= s.top_logprob + 1e-5 and s.logprob <= 0


def test_adapters_attach_switch_and_detach_without_reloading(tiny_model_dir, lora_adapters):
    eng = load_engine(str(tiny_model_dir), device="cpu")
    base_weights = eng.model.model.layers[0].self_attn.q_proj.weight
    text = "def main(argv):\n    return argv\n"
    base = [s.logprob for s in eng.score(text)]
    first = eng.load_adapter(str(lora_adapters[0]))
    a0 = [s.logprob for s in eng.score(text)]
    second = eng.load_adapter(str(lora_adapters[1]))
    a1 = [s.logprob for s in eng.score(text)]
    assert a0 != base and a1 != base and a0 != a1
    eng.set_adapter(first)
    assert [s.logprob for s in eng.score(text)] == pytest.approx(a0, abs=1e-5)
    eng.set_adapter(None)
    assert [s.logprob for s in eng.score(text)] == pytest.approx(base, abs=1e-5)
    eng.set_adapter(second)
    assert [s.logprob for s in eng.score(text)] == pytest.approx(a1, abs=1e-5)
    # The base weights object was never replaced: nothing was reloaded.
    assert eng.model.get_base_model().model.layers[0].self_attn.q_proj.base_layer.weight is (
        base_weights
    )
    with pytest.raises(AdapterError, match="no adapter named"):
        eng.set_adapter("nope")


def test_adapter_for_another_base_is_a_clear_error(other_model_dir, lora_adapters, tmp_path):
    eng = load_engine(str(other_model_dir), device="cpu")
    with pytest.raises(AdapterError, match="trained for base"):
        eng.load_adapter(str(lora_adapters[0]))
    # Without our metadata, peft's shape mismatch is still reported as one line.
    bare = tmp_path / "bare"
    shutil.copytree(lora_adapters[0], bare)
    (bare / "codegen.json").unlink()
    with pytest.raises(AdapterError, match="another base model"):
        eng.load_adapter(str(bare))
    with pytest.raises(AdapterError, match="no such adapter"):
        eng.load_adapter(str(tmp_path / "missing"))


def test_not_a_causal_lm(tiny_model_dir, tmp_path) -> None:
    from transformers import T5Config

    path = tmp_path / "t5"
    shutil.copytree(tiny_model_dir, path)
    T5Config(vocab_size=512, d_model=32, num_layers=1, num_heads=2).save_pretrained(path)
    with pytest.raises(ModelLoadError, match="not a causal language model"):
        load_engine(str(path), device="cpu")


def test_missing_path_and_uncached_hub_id(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelLoadError, match="no such model directory"):
        load_engine(str(tmp_path / "nope" / "model"), device="cpu")
    with pytest.raises(ModelLoadError, match="huggingface-cli download"):
        load_engine("someorg/not-a-cached-model", device="cpu")


def test_corrupt_weights_are_a_clear_error(tiny_model_dir, tmp_path) -> None:
    path = tmp_path / "corrupt"
    shutil.copytree(tiny_model_dir, path)
    (path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError):
        load_engine(str(path), device="cpu")
    meta = json.loads((tiny_model_dir / "codegen.json").read_text())
    assert meta["fim_format"] == "tiny"
