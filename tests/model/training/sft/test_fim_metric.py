"""sft's FIM exact match on a tiny real PEFT model: batched through the core engine, with
the trained adapter active, and the same verdicts as one greedy generate() per case."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.core.engine import GenerationConfig
from codegen.core.fim import TINY, middle_matches
from codegen.training.sft.fim_metric import SLACK_TOKENS, FimCase, fim_exact_match, metric_engine

PARTS = [
    ("def f(x):\n    return ", "\n"),
    ("import os\n", "\nimport sys\n"),
    ("class A:\n    ", "\n    pass\n"),
    ("x = 1\ny = ", "\nprint(x)\n"),
    ("for i in range(3):\n    ", "\n"),
    ("def g():\n    '''", "'''\n"),
    ("try:\n    pass\nexcept ", ":\n    raise\n"),
    ("if x:\n    ", "\nelse:\n    y = 2\n"),
]


@pytest.fixture(scope="module")
def peft_model(tiny_model_dir: Path, lora_adapters: list[Path]):
    """The tiny model with large random weights (varied text, frequent EOS) and an adapter."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for param in base.parameters():
            if param.dim() == 2:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    model = PeftModel.from_pretrained(base, lora_adapters[0])
    model.train()  # as the Trainer hands it over
    yield model, AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cases(peft_model) -> list[FimCase]:
    """Expected middles: what the adapter model writes in 40 tokens. A row that ended at
    EOS can match; a row cut by the length limit goes on past its middle and cannot."""
    model, tokenizer = peft_model
    engine = metric_engine(model, tokenizer, TINY, max_len=4096)
    prompts = [TINY.build_prompt(p, s) for p, s in PARTS]
    cfg = GenerationConfig(max_new_tokens=40, use_cache_reuse=False)
    return [FimCase(p, engine.generate(p, cfg).text) for p in prompts]


def test_metric_matches_one_greedy_generate_per_case(peft_model, cases) -> None:
    model, tokenizer = peft_model
    engine = metric_engine(model, tokenizer, TINY, max_len=4096)
    hits = 0
    for case in cases:
        budget = len(tokenizer.encode(case.middle, add_special_tokens=False)) + SLACK_TOKENS
        cfg = GenerationConfig(max_new_tokens=budget, use_cache_reuse=False)
        hits += middle_matches(engine.generate(case.prompt, cfg).text, case.middle)
    assert 0 < hits < len(cases)
    assert fim_exact_match(model, tokenizer, cases, TINY) == hits / len(cases)
    assert model.training  # handed back in training mode
    assert fim_exact_match(model, tokenizer, [], TINY) == 0.0


def test_the_trained_adapter_is_the_one_measured(peft_model, cases) -> None:
    model, tokenizer = peft_model
    with_adapter = fim_exact_match(model, tokenizer, cases, TINY)
    with model.disable_adapter():
        bare = fim_exact_match(model, tokenizer, cases, TINY)
    assert with_adapter > bare
