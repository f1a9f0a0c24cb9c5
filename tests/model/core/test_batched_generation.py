"""Batched generation on a tiny real model: every row equals its single-prompt
``generate()``, obeys its own stop rules, samples from its own seed whatever else is in
the batch, uses the KV cache, and stops on cancellation; plus the fake engine's rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from codegen.core.engine import (
    CancelToken,
    FakeEngine,
    GenerationConfig,
    generate_each,
    sample_configs,
)
from codegen.core.errors import ConfigError
from codegen.core.transformers_engine import load_engine

PROMPTS = [
    "import os\nimport sys\n\n\ndef main(argv):\n    for arg in argv:\n        ",
    "x",
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n",
    "",  # an empty prompt starts from EOS, as in generate()
    "import os\nimport sys\n\n\ndef main(argv):\n    for arg in argv:\n        ",  # a repeat
    "def f(a, b):\n    return a + b\n\n\nprint(f(1, 2))\n",
]


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path):
    """The tiny model with larger random weights: its greedy text changes at every step
    and depends on the whole prompt (the stock init just repeats one token). One torch
    thread: a model this small gains nothing from more, and loses much on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    eng = load_engine(str(tiny_model_dir), device="cpu")
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in eng.model.parameters():
            if param.dim() == 2:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    yield eng
    torch.set_num_threads(threads)


def _single(engine, prompts, configs):
    return [
        engine.generate(p, replace(c, use_cache_reuse=False))
        for p, c in zip(prompts, configs, strict=True)
    ]


def _same(batched, single) -> None:
    for i, (b, s) in enumerate(zip(batched, single, strict=True)):
        assert (b.text, b.finish_reason, b.stats.new_tokens) == (
            s.text,
            s.finish_reason,
            s.stats.new_tokens,
        ), f"row {i}"
        assert b.stats.prompt_tokens == max(s.stats.prompt_tokens, 1)


def test_greedy_batched_equals_single_for_mixed_lengths(engine) -> None:
    configs = [GenerationConfig(max_new_tokens=24) for _ in PROMPTS]
    single = _single(engine, PROMPTS, configs)
    assert len({r.text for r in single}) >= 4  # the outputs really differ between prompts
    _same(engine.generate_batch(PROMPTS, configs), single)
    # Micro-batches of two rows, or a token budget that forces one row each: same rows.
    engine.batch_size = 2
    try:
        _same(engine.generate_batch(PROMPTS, configs), single)
    finally:
        engine.batch_size = None
    engine.max_batch_tokens = 1
    try:
        _same(engine.generate_batch(PROMPTS, configs), single)
    finally:
        engine.max_batch_tokens = 32768


def test_each_row_obeys_its_own_stops_eos_and_max_tokens(engine) -> None:
    free = engine.generate(PROMPTS[0], GenerationConfig(max_new_tokens=20, use_cache_reuse=False))
    assert free.finish_reason == "length" and len(free.text) >= 8
    stop = free.text[4:7]
    eos_token = engine.encode(PROMPTS[2] + "")[0]  # some token; made an EOS below
    configs = [
        GenerationConfig(max_new_tokens=20, stop=[stop]),
        GenerationConfig(max_new_tokens=1),
        GenerationConfig(max_new_tokens=20, stop_fn=lambda t: 3 if len(t) > 3 else None),
        GenerationConfig(max_new_tokens=0),
        GenerationConfig(max_new_tokens=7),
        GenerationConfig(max_new_tokens=40),
    ]
    saved = set(engine._stop_ids)
    engine._stop_ids = saved | {eos_token}
    try:
        single = _single(engine, PROMPTS, configs)
        batched = engine.generate_batch(PROMPTS, configs)
    finally:
        engine._stop_ids = saved
    _same(batched, single)
    assert batched[0].finish_reason == "stop"
    assert batched[0].text == free.text[: free.text.find(stop)]
    assert batched[1].stats.new_tokens == 1 and batched[1].finish_reason in ("length", "eos")
    assert batched[2].text == single[2].text and len(batched[2].text) <= 3
    assert batched[3].text == "" and batched[3].finish_reason == "length"
    assert {r.finish_reason for r in batched} >= {"stop", "length"}


def test_stop_fn_returning_the_full_length_stops_and_keeps_the_text(engine) -> None:
    cfg = GenerationConfig(max_new_tokens=30, stop_fn=lambda t: len(t) if len(t) >= 5 else None)
    [row] = engine.generate_batch([PROMPTS[0]], [cfg])
    assert row.finish_reason == "stop" and len(row.text) >= 5
    assert row.text == engine.generate(PROMPTS[0], replace(cfg, use_cache_reuse=False)).text


def test_a_sampled_row_depends_only_on_its_prompt_and_seed(engine) -> None:
    cfg = GenerationConfig(max_new_tokens=16, temperature=0.8, top_p=0.95, seed=7)
    alone = engine.generate_batch([PROMPTS[0]], [cfg])[0].text
    others = [GenerationConfig(max_new_tokens=n, temperature=1.0, seed=n) for n in (3, 30, 9)]
    mixed = engine.generate_batch(
        [PROMPTS[2], PROMPTS[1], PROMPTS[0], PROMPTS[5]], [others[0], others[1], cfg, others[2]]
    )
    assert mixed[2].text == alone
    assert engine.generate(PROMPTS[0], cfg).text == alone
    samples = engine.generate_batch([PROMPTS[0]] * 4, sample_configs(cfg, 4))
    assert samples[0].text == alone
    assert len({s.text for s in samples}) >= 3  # seeds 7..10 give different samples
    again = engine.generate_batch([PROMPTS[0]] * 4, sample_configs(cfg, 4))
    assert [s.text for s in again] == [s.text for s in samples]


def test_one_prefill_for_repeated_prompts_then_one_token_per_row_per_step(engine) -> None:
    shapes = []
    hook = engine.model.register_forward_pre_hook(
        lambda _m, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    saved = engine._stop_ids
    engine._stop_ids = set()
    try:
        engine.generate_batch(
            [PROMPTS[0]] * 3 + [PROMPTS[1]], [GenerationConfig(max_new_tokens=5)] * 4
        )
    finally:
        hook.remove()
        engine._stop_ids = saved
    width = len(engine.encode(PROMPTS[0]))
    assert shapes == [(2, width)] + [(4, 1)] * 4  # no recomputation of the prompt


def test_finished_rows_leave_the_batch(engine) -> None:
    shapes = []
    hook = engine.model.register_forward_pre_hook(
        lambda _m, args, kwargs: shapes.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    saved = engine._stop_ids
    engine._stop_ids = set()
    try:
        engine.generate_batch(PROMPTS[:3], [GenerationConfig(max_new_tokens=n) for n in (2, 4, 6)])
    finally:
        hook.remove()
        engine._stop_ids = saved
    assert shapes == [3, 3, 2, 2, 1, 1]


def test_waiting_rows_join_as_soon_as_a_slot_frees(engine) -> None:
    shapes = []
    hook = engine.model.register_forward_pre_hook(
        lambda _m, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    saved = engine._stop_ids
    engine._stop_ids = set()
    done = []
    prompts, sizes = [PROMPTS[0], PROMPTS[2], PROMPTS[1]], (8, 2, 3)
    configs = [GenerationConfig(max_new_tokens=n) for n in sizes]
    try:
        results = engine.generate_batch(
            prompts, configs, batch_size=2, on_result=lambda i, r: done.append(i)
        )
    finally:
        hook.remove()
        engine._stop_ids = saved
    # Two slots: the two longest prompts start; as soon as the 2-token row finishes, "x"
    # is prefilled, picks its first token and takes the slot over in place, so the next
    # step feeds both rows again; when "x" is done and nobody waits, its slot leaves.
    width = max(len(engine.encode(p)) for p in prompts[:2])
    joining = (1, len(engine.encode("x")))
    assert shapes == [(2, width), (2, 1), joining, (2, 1), (2, 1)] + [(1, 1)] * 4
    assert done == [1, 2, 0]
    assert [r.stats.new_tokens for r in results] == list(sizes)
    _same(results, _single(engine, prompts, configs))


def test_sampled_rows_taking_over_finished_slots_equal_their_single_generate(engine) -> None:
    configs = [
        GenerationConfig(max_new_tokens=n, temperature=t, top_p=p, seed=i)
        for i, (n, t, p) in enumerate(
            [
                (3, 0.9, 0.9),
                (9, 1.2, 1.0),
                (5, 0.0, 1.0),
                (12, 0.7, 0.5),
                (2, 1.0, 0.95),
                (7, 0.8, 1.0),
            ]
        )
    ]
    single = _single(engine, PROMPTS, configs)
    for size in (2, 3):
        _same(engine.generate_batch(PROMPTS, configs, batch_size=size), single)


def test_cancellation_stops_every_unfinished_row(engine) -> None:
    token = CancelToken()
    seen = []

    def cancel_on_third_call(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            token.cancel()
        return None

    saved = engine._stop_ids
    engine._stop_ids = set()
    try:
        results = engine.generate_batch(
            PROMPTS[:3],
            [
                GenerationConfig(max_new_tokens=1),
                GenerationConfig(max_new_tokens=500, stop_fn=cancel_on_third_call),
                GenerationConfig(max_new_tokens=500),
            ],
            token,
        )
    finally:
        engine._stop_ids = saved
    assert results[0].finish_reason == "length" and results[0].stats.new_tokens == 1
    assert [r.finish_reason for r in results[1:]] == ["cancelled", "cancelled"]
    assert all(r.text == "" and r.stats.new_tokens <= 4 for r in results[1:])
    late = engine.generate_batch(PROMPTS[:2], [GenerationConfig(max_new_tokens=4)] * 2, token)
    assert [r.finish_reason for r in late] == ["cancelled", "cancelled"]


def test_keystroke_cache_survives_a_batch(engine) -> None:
    cfg = GenerationConfig(max_new_tokens=4)
    engine.generate(PROMPTS[0], cfg)
    engine.generate_batch(PROMPTS[1:3], [cfg, cfg])
    typed = engine.generate(PROMPTS[0] + "p", cfg)
    assert typed.stats.reused_tokens >= typed.stats.prompt_tokens - 3


def test_one_config_per_prompt_is_required(engine) -> None:
    with pytest.raises(ConfigError, match="2 prompts but 1 configs"):
        engine.generate_batch(["a", "b"], [GenerationConfig()])
    assert engine.generate_batch([], []) == []


def test_fake_engine_generates_row_by_row() -> None:
    fake = FakeEngine(reply="    return 1\ndef g():\n")
    configs = [GenerationConfig(stop=["\ndef "]), GenerationConfig(max_new_tokens=2)]
    results = fake.generate_batch(["a", "b"], configs)
    assert [r.text for r in results] == ["    return 1", "    return 1\ndef g():\n"]
    assert [r.finish_reason for r in results] == ["stop", "length"]
    assert fake.calls == 2 and fake.batches == 1
    token = CancelToken()
    token.cancel()
    cancelled = generate_each(fake, ["a", "b"], configs, token)
    assert [r.finish_reason for r in cancelled] == ["cancelled", "cancelled"]
    with pytest.raises(ConfigError):
        fake.generate_batch(["a"], configs)
    assert [c.seed for c in sample_configs(GenerationConfig(seed=3), 3)] == [3, 4, 5]


def test_eval_generation_writes_the_same_rows_for_any_batch_size(engine, tmp_path) -> None:
    from codegen.eval.generate import GenerationPlan, generate_missing, get_profile
    from codegen.eval.problems import load_problems

    problems = list(load_problems().values())[:3]
    profile = get_profile("humaneval")
    runs = {}
    for size in (1, 4):
        for temperature in (0.0, 0.8):
            plan = GenerationPlan(n=3, temperature=temperature, max_new_tokens=12, batch_size=size)
            path = tmp_path / f"{size}-{temperature}.jsonl"
            runs[size, temperature] = generate_missing(engine, problems, plan, profile, path)
    assert runs[1, 0.0] == runs[4, 0.0] and runs[1, 0.8] == runs[4, 0.8]
    assert len({r["completion"] for r in runs[4, 0.8]}) > len(
        {r["completion"] for r in runs[4, 0.0]}
    )


def test_running_cache_is_written_in_place_and_grows_when_out_of_room() -> None:
    """Decoding writes each step's keys/values into the running batch's buffers (no copy of
    the cache per step); out of room it moves to a larger buffer; trimming, dropping rows
    and a replaced tensor keep the same contents as plain concatenation."""
    import torch

    from codegen.core.kv_buffers import growing_layer

    generator = torch.Generator().manual_seed(0)

    def kv(rows: int, length: int):
        return torch.randn((rows, 2, length, 4), generator=generator)

    short, long = kv(1, 2), kv(1, 3)
    layer = growing_layer().around([short, long], [-short, -long], width=3, room=2)
    expected = torch.cat([torch.cat([torch.zeros((1, 2, 1, 4)), short], dim=2), long])
    assert torch.equal(layer.keys, expected) and torch.equal(layer.values, -expected)
    assert layer.get_seq_length() == 3
    start = layer.keys.data_ptr()
    for _ in range(3):  # room for two steps, then it grows
        step = kv(2, 1)
        keys, values = layer.update(step, -step)
        expected = torch.cat([expected, step], dim=2)
        assert torch.equal(keys, expected) and torch.equal(values, -expected)
        if keys.shape[2] <= 5:
            assert keys.data_ptr() == start  # written in place
    layer.batch_select_indices(torch.tensor([1]))
    layer.drop_front(1)
    expected = expected[1:, :, 1:]
    assert torch.equal(layer.keys, expected) and torch.equal(layer.values, -expected)
    layer.keys, layer.values = layer.keys.clone(), layer.values.clone()  # someone replaced them
    step = kv(1, 1)
    keys, values = layer.update(step, -step)
    assert torch.equal(keys, torch.cat([expected, step], dim=2))
    assert torch.equal(values, -torch.cat([expected, step], dim=2))
