"""codegen's remote engine on a real vLLM server: the same answers as in process (base and
per-request adapters), stop rules, streaming cancellation and prompt-logprob scoring."""

from __future__ import annotations

import threading
import time

import pytest

from .harness import (
    ADAPTERS,
    SERVED_MODEL,
    VllmModel,
    VllmServer,
    assert_server_stopped,
    work_counters,
)

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(900)]  # the first test also waits for vLLM

PROMPTS = [
    "def distance(self, other):\n    return",
    "import os\nimport sys\n\n\ndef main(argv):\n",
    "class Point:\n    def __init__(self, x, y):\n        self.",
]


@pytest.fixture(scope="module")
def in_process(vllm_model: VllmModel):
    """The in-process engine on the same weights, with both adapters attached."""
    from codegen.core.load import load_engine

    engine = load_engine(str(vllm_model.base), device="cpu")
    for name, path in vllm_model.adapters.items():
        engine.load_adapter(str(path), name)
    engine.set_adapter(None)
    return engine


@pytest.fixture(scope="module")
def remote(vllm_server: VllmServer):
    """The remote engine on vLLM. The model's own FIM format (``tiny``, from its
    codegen.json) is named as a user would with ``--fim-format``: a server shows its
    tokenizer, not that file."""
    from codegen.core.load import load_engine

    return load_engine(vllm_server.url, fim_format="tiny")


def test_connect_finds_the_served_model_its_adapters_and_fim_sentinels(
    vllm_server: VllmServer, in_process
) -> None:
    from codegen.core.load import load_engine

    engine = load_engine(vllm_server.url)
    info = engine.info()
    assert info["served_model"] == SERVED_MODEL  # the first of GET /v1/models
    assert info["server"] == "vllm"
    assert set(ADAPTERS) <= set(engine.served_adapters())
    # Detected from the server's /tokenize: a format whose sentinels are this tokenizer's.
    got, want = engine.fim, in_process.fim
    assert (got.prefix_token, got.suffix_token, got.middle_token) == (
        want.prefix_token, want.suffix_token, want.middle_token,
    )  # fmt: skip


@pytest.mark.parametrize("adapter", [None, *ADAPTERS])
def test_greedy_answers_equal_the_in_process_engine(remote, in_process, adapter) -> None:
    from codegen.core.engine import GenerationConfig

    config = GenerationConfig(max_new_tokens=24)
    remote.set_adapter(adapter)
    in_process.set_adapter(adapter)
    try:
        for prompt in PROMPTS:
            want = in_process.generate(prompt, config)
            got = remote.generate(prompt, config)
            # A random byte-level model may stop mid-character at max_new_tokens: vLLM holds
            # those trailing bytes back, the in-process decode shows them as U+FFFD.
            assert got.text == want.text.rstrip("\ufffd") or got.text == want.text, (
                adapter, prompt,
            )  # fmt: skip
            assert got.finish_reason == want.finish_reason
            assert got.stats.new_tokens == want.stats.new_tokens
            assert got.stats.prompt_tokens == want.stats.prompt_tokens  # from the server's usage
    finally:
        remote.set_adapter(None)
        in_process.set_adapter(None)


def test_adapters_change_the_answer(remote) -> None:
    from codegen.core.engine import GenerationConfig

    config = GenerationConfig(max_new_tokens=24)
    texts = []
    for adapter in (None, *ADAPTERS):
        remote.set_adapter(adapter)
        texts.append(tuple(remote.generate(p, config).text for p in PROMPTS))
    remote.set_adapter(None)
    assert len(set(texts)) == 3


def test_stop_rules_cut_the_answer(remote) -> None:
    from codegen.core.engine import GenerationConfig

    full = remote.generate(PROMPTS[0], GenerationConfig(max_new_tokens=32)).text
    assert len(full) > 6, full
    stop = full[4:6]
    cut = full.find(stop)
    got = remote.generate(PROMPTS[0], GenerationConfig(max_new_tokens=32, stop=[stop]))
    assert got.text == full[:cut]
    assert got.finish_reason == "stop"
    by_fn = remote.generate(
        PROMPTS[0],
        GenerationConfig(max_new_tokens=32, stop_fn=lambda t: 3 if len(t) >= 3 else None),
    )
    assert by_fn.text == full[:3] and by_fn.finish_reason == "stop"


LONG_RUN_CANDIDATES = ["if x:\n    y", "aaaa", "for i in range(10):\n", "import os\n", "x" * 10]
"""Prompts on which the random model's greedy answer tends to run long before its EOS."""


def test_cancelling_closes_the_stream_and_the_server_stops(remote, vllm_server: VllmServer) -> None:
    """Cancelling mid-answer ends ``generate`` with ``cancelled`` and the server stops work.

    A random model reaches its EOS sooner or later, and a fast server may finish a short
    answer before the cancel arrives, which would test nothing. So the prompt is the one
    whose uncancelled answer on this very server runs longest, and the cancel comes within
    a tenth of that answer's time.
    """
    from codegen.core.engine import CancelToken, GenerationConfig

    config = GenerationConfig(max_new_tokens=1800, stop=["\x00never"])
    runs = []
    for prompt in LONG_RUN_CANDIDATES:
        start = time.monotonic()
        full = remote.generate(prompt, config)
        runs.append((full.stats.new_tokens, time.monotonic() - start, prompt))
    full_tokens, full_seconds, prompt = max(runs)
    assert full_tokens >= 200, f"no candidate prompt runs long on this model: {runs}"

    cancel = CancelToken()
    result = {}
    before = work_counters(vllm_server)

    def run() -> None:
        result["r"] = remote.generate(prompt, config, cancel)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while vllm_server.metric("vllm:num_requests_running") == 0:  # cancel while decoding
        assert time.monotonic() < deadline, "the request never started"
        time.sleep(0.01)
    time.sleep(min(0.3, full_seconds / 10))
    cancel.cancel()
    worker.join(timeout=30)
    assert not worker.is_alive(), "generate did not return after cancel"
    got = result["r"]
    assert got.finish_reason == "cancelled", (got.finish_reason, got.stats.new_tokens, runs)
    assert got.stats.new_tokens < full_tokens
    # The uncancelled answer ends at EOS after full_tokens: the server must stop short of
    # it. How far short depends on how busy the machine is when the abort lands.
    assert_server_stopped(vllm_server, before, full_tokens, share=1.0)


def test_token_scores_from_prompt_logprobs_equal_in_process(remote, in_process) -> None:
    text = PROMPTS[2] + "x = self.x\n"
    want = in_process.score(text)
    got = remote.score(text)
    assert [(s.start, s.end, s.text) for s in got] == [(s.start, s.end, s.text) for s in want]
    for g, w in zip(got, want, strict=True):
        assert g.logprob == pytest.approx(w.logprob, abs=1e-3)
        assert g.top_logprob == pytest.approx(w.top_logprob, abs=1e-3)
        if "\ufffd" not in w.top_text:  # a lone byte of a multi-byte character has no text
            assert g.top_text == w.top_text
