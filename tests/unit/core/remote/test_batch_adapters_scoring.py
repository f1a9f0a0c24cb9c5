"""Batches (``n``, greedy sharing, per-row seeds), served adapters, and token scoring."""

from __future__ import annotations

import pytest

from codegen.core.engine import GenerationConfig
from codegen.core.errors import AdapterError
from codegen.core.remote import connect
from codegen.core.remote.errors import FeatureNotServed

from .conftest import FAST


def _sampled(seed: int) -> GenerationConfig:
    return GenerationConfig(temperature=0.8, seed=seed)


def test_samples_of_one_prompt_go_as_one_request_with_n(vllm):
    engine = connect(vllm.url, settings=FAST)
    before = len(vllm.completions())
    results = engine.generate_batch(
        ["p"] * 3 + ["q"], [_sampled(5), _sampled(6), _sampled(7), _sampled(5)]
    )
    bodies = vllm.completions()[before:]
    assert sorted((b["prompt"], b["n"]) for b in bodies) == [("p", 3), ("q", 1)]
    assert [r.text for r in results[:3]] == [vllm.reply + "0", vllm.reply + "1", vllm.reply + "2"]
    assert results[3].text == vllm.reply


def test_llamacpp_rows_keep_their_own_seeds(llamacpp):
    engine = connect(llamacpp.url, settings=FAST)
    before = len(llamacpp.completions())
    engine.generate_batch(["p"] * 3, [_sampled(10), _sampled(11), _sampled(12)])
    bodies = llamacpp.completions()[before:]
    assert sorted(b["seed"] for b in bodies) == [10, 11, 12]
    assert all(b["n"] == 1 for b in bodies)


def test_greedy_rows_with_the_same_prompt_are_asked_once(vllm):
    engine = connect(vllm.url, settings=FAST)
    before = len(vllm.completions())
    results = engine.generate_batch(["p", "p", "q"], [GenerationConfig()] * 3)
    assert len(vllm.completions()) - before == 2
    assert [r.text for r in results] == [vllm.reply] * 3


def test_batch_rows_obey_their_own_config(vllm):
    vllm.reply = "alpha\nbeta\n"
    engine = connect(vllm.url, settings=FAST)
    results = engine.generate_batch(["p", "p"], [GenerationConfig(), GenerationConfig(stop=["\n"])])
    assert [r.text for r in results] == ["alpha\nbeta\n", "alpha"]
    with pytest.raises(ValueError):
        engine.generate_batch(["p"], [])


def test_vllm_adapter_is_sent_as_the_model(vllm):
    engine = connect(vllm.url, adapter="team-b", settings=FAST)
    assert engine.served_adapters() == ["team-a", "team-b"]
    engine.generate("p", GenerationConfig())
    assert vllm.completions()[-1]["model"] == "team-b"
    engine.set_adapter(None)
    engine.generate("p", GenerationConfig())
    assert vllm.completions()[-1]["model"] == "base"


def test_llamacpp_adapter_by_file_name_scales_the_others_to_zero(llamacpp):
    engine = connect(llamacpp.url, adapter="team-b", settings=FAST)
    assert engine.served_adapters() == ["team-a.gguf", "team-b.gguf"]
    assert engine.info()["adapter"] == "team-b.gguf"
    engine.generate("p", GenerationConfig())
    assert llamacpp.completions()[-1]["lora"] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]
    engine.set_adapter(engine.load_adapter("/some/dir/team-a.gguf"))
    engine.generate("p", GenerationConfig())
    assert llamacpp.completions()[-1]["lora"] == [{"id": 0, "scale": 1.0}, {"id": 1, "scale": 0.0}]
    engine.set_adapter(None)  # the base: every loaded LoRA explicitly at 0
    engine.generate("p", GenerationConfig())
    assert llamacpp.completions()[-1]["lora"] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 0.0}]


@pytest.mark.parametrize("fixture", ["vllm", "llamacpp"])
def test_an_adapter_the_server_lacks_lists_the_served_ones(fixture, request):
    server = request.getfixturevalue(fixture)
    with pytest.raises(AdapterError) as err:
        connect(server.url, adapter="team-z", settings=FAST)
    assert (
        "'team-z'" in str(err.value) and "team-a" in str(err.value) and "team-b" in str(err.value)
    )


def test_scoring_through_echo_maps_back_to_the_original_text(vllm):
    engine = connect(vllm.url, settings=FAST)
    text = 'token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\nvalue = compute(x)\n'
    scores = engine.score(text)
    assert "ghp_" not in vllm.completions()[-1]["prompt"]
    for s in scores:
        assert text[s.start : s.end] == s.text
        assert "ghp_" not in s.text  # tokens of the placeholder are dropped, not misplaced
    words = [s.text for s in scores]
    assert "compute" in words and "value" in words
    by_text = {s.text: s for s in scores}
    assert by_text["compute"].logprob == -7.0 and by_text["compute"].top_text == "best"
    assert scores[0].start > 0  # the first token has no log-probability


def test_llamacpp_cannot_score_and_says_what_can(llamacpp):
    engine = connect(llamacpp.url, settings=FAST)
    with pytest.raises(FeatureNotServed) as err:
        engine.score("x = 1\n")
    assert "in-process model" in str(err.value) and "vLLM" in str(err.value)


def test_a_server_refusing_echo_gets_the_same_message(vllm):
    engine = connect(vllm.url, settings=FAST)
    vllm.echo = False
    with pytest.raises(FeatureNotServed, match="in-process model"):
        engine.score("x = 1\n")
