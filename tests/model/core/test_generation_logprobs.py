"""generate() reports the log-probability of every token it chose and the first token's
margin (the show/no-show gate's confidence features), equal to a separate scoring pass."""

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
def test_logprobs_match_a_scoring_pass(engine, temperature):
    import torch

    prompt = "def add(a, b):\n    return"
    config = GenerationConfig(max_new_tokens=8, temperature=temperature, seed=5)
    result = engine.generate(prompt, config)
    assert result.stats.new_tokens == len(result.logprobs) > 0
    assert all(lp <= 0 for lp in result.logprobs)
    assert result.first_margin is not None and result.first_margin >= 0
    # The same numbers from one forward pass over prompt + generated tokens.
    ids = engine.encode(prompt)
    new = engine.encode(prompt + result.text)[len(ids) :]
    assert len(new) == len(result.logprobs)  # byte-level BPE: the text re-encodes the same
    with torch.inference_mode():
        logits = engine.model(torch.tensor([ids + new])).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    expected = [float(lp[len(ids) - 1 + i, t]) for i, t in enumerate(new)]
    assert result.logprobs == pytest.approx(expected, abs=1e-3)
    top2 = torch.topk(logits[len(ids) - 1], 2).values
    assert result.first_margin == pytest.approx(float(top2[0] - top2[1]), abs=1e-3)
