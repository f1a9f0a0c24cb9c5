"""generate() reports the log-probability of every token it chose and the first token's
margin (the show/no-show gate's confidence features), equal to a forward pass over the
prompt for the first token."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.core.engine import GenerationConfig
from codegen.core.transformers_engine import load_engine


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path):
    import torch

    eng = load_engine(str(tiny_model_dir), device="cpu")
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for param in eng.model.parameters():
            if param.dim() == 2:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    return eng


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_logprobs_and_first_margin(engine, temperature):
    import torch

    prompt = "def add(a, b):\n    return"
    config = GenerationConfig(max_new_tokens=8, temperature=temperature, seed=5)
    result = engine.generate(prompt, replace_reuse(config))
    assert result.stats.new_tokens == len(result.logprobs) > 0
    assert all(lp <= 0 for lp in result.logprobs)
    with torch.inference_mode():
        logits = engine.model(torch.tensor([engine.encode(prompt)])).logits[0, -1].float()
    lp = torch.log_softmax(logits, dim=-1)
    top2 = torch.topk(logits, 2).values
    assert result.first_margin == pytest.approx(float(top2[0] - top2[1]), abs=1e-3)
    if temperature == 0:  # greedy: the first token is the favourite
        assert result.logprobs[0] == pytest.approx(float(lp.max()), abs=1e-3)
    else:  # sampled: one of the vocabulary's log-probabilities
        assert min(abs(float(v) - result.logprobs[0]) for v in lp) < 1e-3


def replace_reuse(config: GenerationConfig) -> GenerationConfig:
    from dataclasses import replace

    return replace(config, use_cache_reuse=False)
