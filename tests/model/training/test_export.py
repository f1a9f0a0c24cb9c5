"""``codegen-train export --format peft|merged`` loaded back in a real engine (PEFT and
transformers) must decode greedily exactly like the source base + adapter.

The GGUF export is checked in the llama.cpp server: tests/engines/llamacpp/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.training.cli import main

PROMPTS = ["def distance(self, other):\n    return ", "class Point:\n    def __init__("]


def greedy(model, tokenizer, prompt: str, n: int = 12) -> list[int]:
    import torch

    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=n,
            pad_token_id=tokenizer.pad_token_id,
        )
    return out[0, ids.shape[1] :].tolist()


def base_plus_adapter(base: Path, adapter: Path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), adapter)
    return model.eval(), AutoTokenizer.from_pretrained(base)


@pytest.fixture(scope="module")
def reference(tiny_model_dir: Path, lora_adapters: list[Path]) -> list[list[int]]:
    model, tokenizer = base_plus_adapter(tiny_model_dir, lora_adapters[0])
    tuned = [greedy(model, tokenizer, p) for p in PROMPTS]
    with model.disable_adapter():
        assert [greedy(model, tokenizer, p) for p in PROMPTS] != tuned, "adapter changes nothing"
    return tuned


def test_peft_export_loads_as_it_is_and_decodes_like_the_source(
    tiny_model_dir: Path, lora_adapters: list[Path], reference, tmp_path: Path
) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "peft"
    args = ["--base", str(tiny_model_dir), "--adapter", str(lora_adapters[0])]
    assert main(["export", *args, "--format", "peft", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
        "codegen.json",
    ]
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_model_dir.resolve())
    # Load it the way an engine does: the base named by the adapter's own config.
    base = AutoModelForCausalLM.from_pretrained(config["base_model_name_or_path"])
    model = PeftModel.from_pretrained(base, out).eval()
    tokenizer = AutoTokenizer.from_pretrained(config["base_model_name_or_path"])
    assert [greedy(model, tokenizer, p) for p in PROMPTS] == reference


def test_peft_export_turns_a_bin_adapter_into_safetensors(
    tiny_model_dir: Path, lora_adapters: list[Path], reference, tmp_path: Path
) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    legacy = tmp_path / "legacy"
    source = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), lora_adapters[0]
    )
    source.save_pretrained(legacy, safe_serialization=False)
    assert (legacy / "adapter_model.bin").is_file()
    out = tmp_path / "peft"
    args = ["--base", str(tiny_model_dir), "--adapter", str(legacy), "--out", str(out)]
    assert main(["export", *args, "--format", "peft"]) == 0
    model, tokenizer = base_plus_adapter(tiny_model_dir, out)
    assert (out / "adapter_model.safetensors").is_file()
    assert [greedy(model, tokenizer, p) for p in PROMPTS] == reference


def test_merged_export_is_a_plain_model_that_decodes_like_base_plus_adapter(
    tiny_model_dir: Path, lora_adapters: list[Path], reference, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    args = ["--base", str(tiny_model_dir), "--adapter", str(lora_adapters[0])]
    assert main(["export", *args, "--format", "merged", "--device", "cpu", "--out", str(out)]) == 0
    assert not (out / "adapter_config.json").exists()
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert [greedy(model, tokenizer, p) for p in PROMPTS] == reference
    assert json.loads((out / "codegen.json").read_text())["kind"] == "merged"


def test_an_adapter_for_another_base_is_refused(
    other_model_dir: Path, lora_adapters: list[Path], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "peft"
    args = ["--base", str(other_model_dir), "--adapter", str(lora_adapters[0]), "--out", str(out)]
    assert main(["export", *args, "--format", "peft"]) == 2
    assert "trained for base" in capsys.readouterr().err
    assert not out.exists()
