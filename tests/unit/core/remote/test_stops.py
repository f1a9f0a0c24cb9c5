"""Stops through a fake server that behaves like vLLM: at most four stop strings per
request, FIM sentinels as stop token ids, special tokens left out of the text unless asked.

The in-process engine ends a middle on EOS or a single-token FIM sentinel (``eos``) and
cuts at the caller's stop strings (``stop``); the remote engine must do the same whatever
the server takes.
"""

from __future__ import annotations

import pytest

from codegen.core.engine import GenerationConfig
from codegen.core.remote import connect
from codegen.core.remote.errors import RemoteEngineError
from codegen.core.remote.http import HttpClient

from .conftest import FAST
from .fake_server import QWEN_IDS, QWEN_SENTINELS, FakeModelServer

EVAL_STOPS = ["\ndef", "\nclass", "\nif", "\nprint", "\n#", "\n```", "\nassert", '\n"""',
              "\nelif", "\nwhile", "\n@"]  # fmt: skip
"""As many stop strings as ``codegen-eval humaneval`` sends: more than vLLM takes."""


def test_the_fake_refuses_more_than_four_stop_strings_like_vllm(vllm):
    client = HttpClient(vllm.url, FAST)
    body = {"model": "base", "prompt": "p", "max_tokens": 4, "stop": ["a", "b", "c", "d", "e"]}
    with pytest.raises(RemoteEngineError, match="HTTP 400.*at most 4"):
        client.post("/completions", body)


def test_vllm_gets_at_most_four_stops_and_every_stop_still_applies(vllm):
    vllm.reply = "    return x\n\nwhile True:\n    pass\n"
    engine = connect(vllm.url, settings=FAST)
    result = engine.generate("p", GenerationConfig(max_new_tokens=64, stop=EVAL_STOPS))
    body = vllm.completions()[-1]
    assert body["stop"] == EVAL_STOPS[:4]  # the caller's first ones
    assert body["stop_token_ids"] == list(QWEN_IDS.values())
    # "\nwhile" is the caller's tenth: cut here, on the stream, which then closes.
    assert (result.text, result.finish_reason) == ("    return x\n", "stop")


def test_a_server_side_stop_among_the_first_four_is_a_stop(vllm):
    vllm.reply = "    return x\nclass A:\n"
    engine = connect(vllm.url, settings=FAST)
    result = engine.generate("p", GenerationConfig(stop=EVAL_STOPS))
    assert (result.text, result.finish_reason) == ("    return x", "stop")


def test_a_sentinel_the_model_emits_ends_the_middle_like_in_process(vllm):
    """vLLM drops special tokens from the text, so without stop token ids it would run on
    past the sentinel and glue what follows onto the middle."""
    vllm.reply = "x + 1<|fim_suffix|>\nprint(x)\n"
    engine = connect(vllm.url, settings=FAST)
    result = engine.generate("p", GenerationConfig(max_new_tokens=20))
    assert (result.text, result.finish_reason) == ("x + 1", "eos")
    # The server counts the sentinel it stopped on; the in-process engine does not.
    assert result.stats.new_tokens == len("x + 1") // 2


def test_without_a_tokenizer_the_sentinels_are_stop_strings_first_and_cut_here(vllm):
    vllm.tokenizer = False  # no /tokenize: no token ids to stop on
    vllm.reply = "x + 1<|file_sep|>junk\n"
    engine = connect(vllm.url, settings=FAST, fim_format="qwen")
    result = engine.generate("p", GenerationConfig(stop=["\n\n"]))
    body = vllm.completions()[-1]
    assert "stop_token_ids" not in body and body["skip_special_tokens"] is False
    assert body["stop"] == list(QWEN_SENTINELS[:4])  # the sentinels first, four at most
    # The fifth sentinel and the caller's stop are applied on the text.
    assert (result.text, result.finish_reason) == ("x + 1", "eos")


def test_an_unknown_server_gets_four_stop_strings_and_no_vllm_extras():
    with FakeModelServer("openai", reply="a = 1<|file_sep|>b = 2\n") as server:
        engine = connect(server.url, settings=FAST)
        assert engine.info()["server"] == "openai" and engine.stop_token_ids == {}
        result = engine.generate("p", GenerationConfig(stop=["\n\n", "\ndef"]))
        body = server.completions()[-1]
    assert len(body["stop"]) == 4 and body["stop"] == list(QWEN_SENTINELS[:4])
    assert "stop_token_ids" not in body and "skip_special_tokens" not in body
    # This server leaves the sentinel in the text; it is cut here.
    assert (result.text, result.finish_reason) == ("a = 1", "eos")


def test_llamacpp_has_no_stop_limit_and_no_token_ids(llamacpp):
    engine = connect(llamacpp.url, settings=FAST)
    llamacpp.reply = "a = 1\nclass B:\n"
    result = engine.generate("p", GenerationConfig(stop=EVAL_STOPS))
    body = llamacpp.completions()[-1]
    assert body["stop"] == list(QWEN_SENTINELS)  # all five; the caller's apply here
    assert "stop_token_ids" not in body and "skip_special_tokens" not in body
    assert (result.text, result.finish_reason) == ("a = 1", "stop")


def test_samples_in_one_request_obey_the_same_limit(vllm):
    vllm.reply = "    y = 2\n@decorator\n"
    engine = connect(vllm.url, settings=FAST)
    config = GenerationConfig(temperature=0.8, stop=EVAL_STOPS)
    results = engine.generate_batch(["p"] * 3, [config] * 3)
    body = vllm.completions()[-1]
    assert body["n"] == 3 and body["stream"] is False and len(body["stop"]) == 4
    assert [(r.text, r.finish_reason) for r in results] == [("    y = 2", "stop")] * 3
