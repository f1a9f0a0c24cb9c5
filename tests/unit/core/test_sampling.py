"""Batched sampling: one pass over the batch picks for every row what that row alone would
pick, from its own uniform draws; the nucleus and the inverse transform are exact."""

from __future__ import annotations

import pytest

from codegen.core.engine import GenerationConfig
from codegen.core.sampling import Sampler, SamplingRows, pick_tokens, row_draws

torch = pytest.importorskip("torch")


def _pick(probs: list[float], top_p: float, uniform: float) -> int:
    logits = torch.tensor([probs]).log()
    rows = SamplingRows([GenerationConfig(temperature=1.0, top_p=top_p)], "cpu")
    return int(pick_tokens(logits, rows, torch.tensor([uniform]))[0])


def test_each_row_of_a_batch_picks_what_it_picks_alone() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn((6, 500), generator=generator) * 3
    configs = [
        GenerationConfig(temperature=0.0),
        GenerationConfig(temperature=0.8, top_p=0.95),
        GenerationConfig(temperature=1.3),
        GenerationConfig(temperature=0.5, top_p=0.5),
        GenerationConfig(temperature=0.0, top_p=0.5),
        GenerationConfig(temperature=1.0, top_p=0.99),
    ]
    uniforms = torch.rand(6, generator=generator)
    batch = pick_tokens(logits, SamplingRows(configs, "cpu"), uniforms).tolist()
    alone = [
        int(pick_tokens(logits[b : b + 1], SamplingRows([c], "cpu"), uniforms[b : b + 1])[0])
        for b, c in enumerate(configs)
    ]
    assert batch == alone
    assert batch[0] == int(logits[0].argmax()) and batch[4] == int(logits[4].argmax())
    order = [5, 3, 1, 0, 4, 2]  # the rows in another order: the same tokens
    shuffled = pick_tokens(
        logits[order], SamplingRows([configs[b] for b in order], "cpu"), uniforms[order]
    )
    assert shuffled.tolist() == [batch[b] for b in order]


def test_the_uniform_falls_in_the_cumulative_distribution_of_the_nucleus() -> None:
    probs = [0.05, 0.5, 0.15, 0.3]
    # top_p 0.8 keeps 0.5 and 0.3 (mass before 0.15 is 0.8): token 1 below 0.5 / 0.8 of the
    # kept mass, token 3 above; nothing outside the nucleus, even for a draw next to 1.
    assert [_pick(probs, 0.8, u) for u in (0.0, 0.3, 0.62, 0.63, 0.9, 1 - 1e-7)] == [
        1,
        1,
        1,
        3,
        3,
        3,
    ]
    # Without top-p every token is reachable, in vocabulary order of cumulative mass.
    assert [_pick(probs, 1.0, u) for u in (0.01, 0.3, 0.6, 0.9)] == [0, 1, 2, 3]
    # Evenly spaced draws come out in proportion to the probabilities.
    counts = [0, 0, 0, 0]
    for i in range(1000):
        counts[_pick(probs, 1.0, (i + 0.5) / 1000)] += 1
    assert counts == [50, 500, 150, 300]


def test_tokens_tied_at_the_edge_of_the_nucleus_are_kept_together() -> None:
    # The sort rule keeps 0.4 and one of the two 0.3s; which one would depend on the sort.
    probs = [0.3, 0.4, 0.3]
    assert {_pick([*probs], 0.5, u) for u in (0.1, 0.5, 0.9)} == {0, 1, 2}


def test_a_row_draws_from_its_own_seed_and_the_sampler_reads_one_draw_per_step() -> None:
    config = GenerationConfig(max_new_tokens=5, temperature=0.7, seed=11)
    draws = row_draws(config, "cpu")
    assert draws.shape == (5,) and torch.equal(draws, row_draws(config, "cpu"))
    assert not torch.equal(
        draws, row_draws(GenerationConfig(max_new_tokens=5, temperature=0.7, seed=12), "cpu")
    )
    assert row_draws(GenerationConfig(temperature=0.0), "cpu") is None
    logits = torch.randn((1, 50), generator=torch.Generator().manual_seed(2))
    rows = SamplingRows([config], "cpu")
    expected = [int(pick_tokens(logits, rows, draws[i : i + 1])[0]) for i in range(5)]
    sampler = Sampler([config], [draws], [0], "cpu")
    assert [int(sampler(logits)[0]) for _ in range(5)] == expected
    # A row that joins a new batch after two tokens goes on from its third draw, beside a
    # greedy row that draws nothing.
    later = Sampler([GenerationConfig(), config], [None, draws], [0, 2], "cpu")
    picks = [later(torch.cat([logits, logits]))[1] for _ in range(3)]
    assert [int(t) for t in picks] == expected[2:]
