"""``codegen-train export``: the refusals and checks that need no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.core.errors import AdapterError, ConfigError
from codegen.training.cli import main
from codegen.training.export import (
    LLAMA_CPP_ENV,
    find_llama_cpp,
    lora_gguf_name,
    staged_output,
    unsupported_lora_features,
)
from codegen.training.llama_cpp_convert import QWEN2_SPLIT, known_split_name, splits_like_gpt2

PLAIN_LORA = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "bias": "none"}


def _adapter(tmp_path: Path, **config) -> Path:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({**PLAIN_LORA, **config}))
    return adapter


def test_an_existing_output_path_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("peft", "merged", "gguf"):
        code = main(
            ["export", "--base", "nope", "--adapter", "x", "--format", fmt, "--out", str(out)]
        )
        assert code == 2
        assert f"--out {out} already exists" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_a_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_output(target) as stage:
        (stage / "half-written").write_text("x")
        raise RuntimeError("converter crashed")
    assert list(tmp_path.iterdir()) == []
    with staged_output(target) as stage:
        (stage / "done").write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and (target / "done").is_file()


def test_peft_and_merged_need_an_adapter(tmp_path: Path, capsys) -> None:
    for fmt in ("peft", "merged"):
        assert main(["export", "--base", "b", "--format", fmt, "--out", str(tmp_path / fmt)]) == 2
        assert f"--format {fmt} needs --adapter DIR" in capsys.readouterr().err


def test_missing_llama_cpp_scripts_say_where_to_get_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(LLAMA_CPP_ENV, str(tmp_path))
    with pytest.raises(ConfigError) as err:
        find_llama_cpp(None)
    message = str(err.value)
    assert str(tmp_path) in message and "convert_hf_to_gguf.py" in message
    assert "github.com/ggml-org/llama.cpp" in message and "make setup" in message
    assert "\n" not in message


def test_the_flag_wins_over_the_environment(tmp_path: Path, monkeypatch) -> None:
    checkout = tmp_path / "llama.cpp"
    for name in ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py"):
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text("")
    (checkout / "gguf-py").mkdir()
    (checkout / "conversion").mkdir()
    monkeypatch.setenv(LLAMA_CPP_ENV, str(tmp_path / "elsewhere"))
    assert find_llama_cpp(str(checkout)) == checkout.resolve()
    with pytest.raises(ConfigError):
        find_llama_cpp(None)


@pytest.mark.parametrize(
    ("config", "engine", "expected"),
    [
        ({"use_dora": True}, "vllm", "DoRA"),
        ({"modules_to_save": ["embed_tokens", "lm_head"]}, "vllm", "modules_to_save"),
        ({"bias": "all"}, "llama.cpp", "biases"),
        ({"rank_pattern": {"q_proj": 8}}, "vllm", "per-module ranks"),
        ({"use_rslora": True}, "llama.cpp", "rsLoRA"),
        ({"peft_type": "IA3"}, "vllm", "only LoRA"),
    ],
)
def test_adapter_features_an_engine_cannot_serve(config, engine, expected) -> None:
    problems = unsupported_lora_features({**PLAIN_LORA, **config}, engine)
    assert any(expected in p for p in problems), problems


def test_plain_lora_is_fine_for_both_engines_and_rslora_for_vllm() -> None:
    assert unsupported_lora_features(PLAIN_LORA, "vllm") == []
    assert unsupported_lora_features(PLAIN_LORA, "llama.cpp") == []
    assert unsupported_lora_features({**PLAIN_LORA, "use_rslora": True}, "vllm") == []


def test_an_unservable_adapter_is_refused_with_the_way_out(tmp_path: Path, capsys) -> None:
    adapter = _adapter(tmp_path, modules_to_save=["lm_head"])
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    code = main(
        ["export", "--base", str(base), "--adapter", str(adapter), "--format", "peft",
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "vllm cannot serve modules_to_save" in err and "--format merged" in err
    assert not (tmp_path / "out").exists()


def test_not_an_adapter_is_one_clear_line(tmp_path: Path) -> None:
    from codegen.training.export import read_adapter_config

    with pytest.raises(AdapterError, match="no such adapter directory"):
        read_adapter_config(tmp_path / "missing")
    with pytest.raises(AdapterError, match="no adapter_config.json"):
        read_adapter_config(tmp_path)


def test_lora_gguf_is_named_after_the_adapter_directory(tmp_path: Path) -> None:
    assert lora_gguf_name(tmp_path / "team-a") == "team-a.lora.gguf"
    assert lora_gguf_name(tmp_path / "my adapter!") == "my-adapter.lora.gguf"


class _Backend:
    def __init__(self, spec: dict) -> None:
        self._spec = spec

    def to_str(self) -> str:
        return json.dumps(self._spec)


class _Tokenizer:
    def __init__(self, pre: dict, normalizer: dict | None = None) -> None:
        self.backend_tokenizer = _Backend(
            {"normalizer": normalizer, "pre_tokenizer": pre, "model": {"type": "BPE"}}
        )


def test_only_gpt2s_own_split_is_named_gpt2() -> None:
    gpt2 = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    assert splits_like_gpt2(_Tokenizer(gpt2))
    assert splits_like_gpt2(_Tokenizer({"type": "Sequence", "pretokenizers": [gpt2]}))
    assert not splits_like_gpt2(_Tokenizer({**gpt2, "add_prefix_space": True}))
    assert not splits_like_gpt2(_Tokenizer({**gpt2, "use_regex": False}))
    assert not splits_like_gpt2(_Tokenizer(gpt2, normalizer={"type": "NFC"}))
    digits = {"type": "Digits", "individual_digits": True}
    assert not splits_like_gpt2(_Tokenizer({"type": "Sequence", "pretokenizers": [digits, gpt2]}))


def test_the_builtin_tokenizer_splits_like_gpt2() -> None:
    from codegen.core.builtin.tiny import train_tokenizer

    assert splits_like_gpt2(train_tokenizer(["def f(x):\n    return x\n"] * 2, vocab_size=300))


def test_qwen2s_split_is_named_qwen2_and_nothing_close_to_it() -> None:
    split = {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated"}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}
    qwen2 = {"type": "Sequence", "pretokenizers": [split, byte_level]}
    assert known_split_name(_Tokenizer(qwen2, normalizer={"type": "NFC"})) == "qwen2"
    other = {**split, "pattern": {"Regex": QWEN2_SPLIT + "|x"}}
    assert known_split_name(_Tokenizer({**qwen2, "pretokenizers": [other, byte_level]})) is None
    assert known_split_name(_Tokenizer(qwen2, normalizer={"type": "NFKC"})) is None
