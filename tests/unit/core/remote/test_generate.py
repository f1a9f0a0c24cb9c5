"""Generation through a fake server: the request, streaming, stop, cancel, retries, failures."""

from __future__ import annotations

import threading
import time

import pytest

from codegen.core.engine import CancelToken, GenerationConfig
from codegen.core.remote import connect
from codegen.core.remote.errors import (
    MalformedResponse,
    ServerFailed,
    ServerTimeout,
    UnknownServedModel,
)
from codegen.core.remote.http import ClientSettings

from .conftest import FAST
from .fake_server import QWEN_IDS, FakeModelServer


def test_a_streamed_completion_with_the_servers_figures(vllm):
    vllm.reply = "x = compute(1)\nreturn x\n"
    engine = connect(vllm.url, settings=FAST)
    result = engine.generate("<|fim_prefix|>def f():\n", GenerationConfig(max_new_tokens=20))
    assert result.text == "x = compute(1)\nreturn x\n"
    assert result.finish_reason == "eos"
    body = vllm.completions()[-1]
    assert body["stream"] is True and body["max_tokens"] == 20 and body["model"] == "base"
    assert body["temperature"] == 0.0 and "seed" not in body
    # The sentinels go as token ids (vLLM leaves them out of the text), special tokens
    # stay in the text as in process, and there is no stop string to send.
    assert body["stop_token_ids"] == list(QWEN_IDS.values())
    assert body["skip_special_tokens"] is False and "stop" not in body
    assert "repeat_penalty" not in body  # llama.cpp extras go to llama.cpp only
    stats = result.stats
    assert stats.reused_tokens == vllm.cached_tokens  # usage.prompt_tokens_details.cached_tokens
    assert stats.prompt_tokens == len("<|fim_prefix|>def f():\n") // 4
    assert stats.new_tokens == len(result.text) // 2
    assert 0 < stats.time_to_first_token_ms <= stats.total_ms


def test_llamacpp_gets_neutral_samplers_and_reports_reuse_through_timings(llamacpp):
    engine = connect(llamacpp.url, settings=FAST)
    assert engine.info()["server"] == "llama.cpp"
    result = engine.generate("p", GenerationConfig(temperature=0.7, seed=11, top_p=0.9))
    body = llamacpp.completions()[-1]
    assert body["repeat_penalty"] == 1.0 and body["top_k"] == 0 and body["min_p"] == 0.0
    assert body["seed"] == 11 and body["top_p"] == 0.9 and body["cache_prompt"] is True
    assert result.stats.reused_tokens == llamacpp.cached_tokens  # timings.cache_n


def test_server_side_stop_string_is_a_stop(vllm):
    vllm.reply = "a = 1\n\nb = 2\n"
    engine = connect(vllm.url, settings=FAST)
    result = engine.generate("p", GenerationConfig(stop=["\n\n"]))
    assert (result.text, result.finish_reason) == ("a = 1", "stop")


def test_a_client_side_stop_closes_the_stream_early(vllm):
    vllm.reply = "line one\n" * 40
    vllm.chunk_delay_s = 0.005
    engine = connect(vllm.url, settings=FAST)

    def stop_after_first_line(text: str) -> int | None:
        i = text.find("\n")
        return i if i != -1 else None

    result = engine.generate(
        "p", GenerationConfig(stop_fn=stop_after_first_line, max_new_tokens=400)
    )
    assert (result.text, result.finish_reason) == ("line one", "stop")
    _wait_for(lambda: vllm.aborted_streams == 1)
    assert vllm.chunks_sent < len(vllm.reply) // vllm.chunk_chars


def test_cancelling_closes_the_connection_and_the_server_stops(vllm):
    vllm.reply = "tok" * 400
    vllm.chunk_delay_s = 0.005  # 400 chunks: two seconds if nobody stops it
    engine = connect(vllm.url, settings=FAST)
    cancel = CancelToken()
    threading.Timer(0.15, cancel.cancel).start()
    started = time.perf_counter()
    result = engine.generate("p", GenerationConfig(max_new_tokens=1000), cancel)
    assert result.finish_reason == "cancelled" and result.text == ""
    assert time.perf_counter() - started < 1.0
    _wait_for(lambda: vllm.aborted_streams == 1)
    assert vllm.chunks_sent < 200


def test_5xx_is_retried_with_backoff(vllm):
    engine = connect(vllm.url, settings=ClientSettings(retries=2, backoff_s=0.05))
    vllm.fail_times = 2
    before = len(vllm.completions())
    started = time.perf_counter()
    assert engine.generate("p", GenerationConfig()).text == vllm.reply
    assert time.perf_counter() - started >= 0.05 + 0.10  # 0.05 s, then doubled
    assert len(vllm.completions()) - before == 3


def test_5xx_after_the_retries_is_one_line(vllm):
    engine = connect(vllm.url, settings=FAST)
    vllm.fail_times = 10
    with pytest.raises(ServerFailed) as err:
        engine.generate("p", GenerationConfig())
    assert str(err.value) == (
        f"the model server at {vllm.url} failed (HTTP 503: engine overloaded) (after 3 attempts)"
    )


def test_4xx_is_not_retried(vllm):
    engine = connect(vllm.url, settings=FAST)
    engine.model = "gone"  # e.g. the server restarted without this model
    before = len(vllm.completions())
    with pytest.raises(UnknownServedModel, match="does not serve that model"):
        engine.generate("p", GenerationConfig())
    assert len(vllm.completions()) - before == 1


def test_a_slow_server_times_out_in_one_line(vllm):
    engine = connect(vllm.url, settings=ClientSettings(timeout_s=0.2, retries=0))
    vllm.delay_s = 1.0
    with pytest.raises(ServerTimeout) as err:
        engine.generate("p", GenerationConfig())
    assert "did not answer within 0.2s" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("malformed", "malformed stream"),
        ("bad_utf8", "invalid UTF-8 in its output"),
        ("truncated", "ended before the completion did"),
    ],
)
def test_a_broken_stream_is_one_line(vllm, mode, expected):
    engine = connect(vllm.url, settings=FAST)
    vllm.mode = mode
    with pytest.raises(MalformedResponse) as err:
        engine.generate("p", GenerationConfig())
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_per_token_logprobs_when_asked(vllm):
    engine = connect(vllm.url, settings=FAST, logprobs=True)
    result = engine.generate("p", GenerationConfig())
    assert vllm.completions()[-1]["logprobs"] == 1
    assert "".join(t for t, _ in result.token_logprobs) == vllm.reply
    assert all(lp == -0.5 for _, lp in result.token_logprobs)


def test_secrets_in_the_prompt_never_reach_the_server(vllm):
    engine = connect(vllm.url, settings=FAST)
    prompt = 'AWS = "AKIAABCDEFGHIJKLMNOP"\npassword = "hunter2hunter2"\nprint(1)\n'
    engine.generate(prompt, GenerationConfig())
    sent = vllm.completions()[-1]["prompt"]
    assert "AKIAABCDEFGHIJKLMNOP" not in sent and "hunter2" not in sent
    assert "<REDACTED_AWS_ACCESS_KEY>" in sent and "<REDACTED_PASSWORD>" in sent
    assert sent.endswith("print(1)\n")
    assert engine.redacted == 2


def test_concurrency_is_limited_per_client():
    with FakeModelServer("vllm") as server:
        engine = connect(server.url, settings=ClientSettings(max_concurrency=2))
        server.delay_s = 0.1
        results = engine.generate_batch([f"p{i}" for i in range(5)], [GenerationConfig()] * 5)
    assert [r.text for r in results] == [server.reply] * 5
    assert server.max_in_flight == 2  # never more than the limit, and not one by one


def _wait_for(check, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
