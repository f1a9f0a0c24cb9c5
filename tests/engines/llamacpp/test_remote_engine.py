"""The remote engine against a real llama.cpp server (xllamacpp on loopback).

The server serves the tiny model's GGUF export and its LoRA (loaded at scale 0);
the in-process engine on the same HF weights is the reference: greedy output
through the server must equal it token for token, with and without the adapter
chosen per request, through the engine, the language server and codegen-eval.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request

import pytest

from codegen.core.engine import CancelToken, GenerationConfig
from codegen.core.remote import RemoteEngine, connect
from codegen.core.remote.errors import FeatureNotServed

pytestmark = pytest.mark.timeout(600)

PROMPT = "def distance(self, other):\n    return "


@pytest.fixture(scope="module")
def in_process(llama_server):
    from codegen.core.load import load_engine

    return load_engine(
        str(llama_server.hf_dir), adapter=str(llama_server.adapter_dir), device="cpu"
    )


@pytest.fixture(scope="module")
def remote(llama_server, in_process) -> RemoteEngine:
    return connect(llama_server.url, fim_format=in_process.fim.name)


def _tokens_predicted(server) -> float:
    with urllib.request.urlopen(server.base + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    match = re.search(r"^llamacpp:tokens_predicted_total\s+(\S+)", text, re.M)
    assert match, text[:500]
    return float(match.group(1))


def test_a_real_answer_with_the_servers_figures(remote, llama_server):
    info = remote.info()
    assert info["server"] == "llama.cpp" and info["served_model"].endswith("model.gguf")
    assert remote.served_adapters() == [llama_server.lora_name]
    config = GenerationConfig(max_new_tokens=12)
    first = remote.generate(PROMPT, config)
    again = remote.generate(PROMPT, config)
    assert first.text and first.text == again.text
    assert first.stats.prompt_tokens > 0 and first.stats.new_tokens > 0
    assert again.stats.reused_tokens > 0  # llama.cpp's prompt cache, as its timings report


def test_greedy_tokens_equal_in_process_with_and_without_the_adapter(remote, llama_server):
    from .test_export_gguf import transformers_greedy

    config = GenerationConfig(max_new_tokens=16)
    remote.logprobs = True  # the server then sends the token ids
    outputs = {}
    try:
        for adapter in (None, llama_server.lora_name):
            remote.set_adapter(remote.load_adapter(adapter) if adapter else None)
            result = remote.generate(PROMPT, config)
            local_dir = llama_server.adapter_dir if adapter else None
            local = transformers_greedy(llama_server.hf_dir, local_dir, PROMPT)
            # The server counts every token it made; it sends the ids of all but a tail
            # that ends inside a UTF-8 character (it never sends half a character).
            assert result.stats.new_tokens == len(local) == 16, (result, local)
            assert len(result.token_ids) >= 8, result
            assert result.token_ids == local[: len(result.token_ids)], adapter
            outputs[adapter] = result.token_ids
    finally:
        remote.logprobs = False
        remote.set_adapter(None)
    assert outputs[None] != outputs[llama_server.lora_name], "the adapter must change the output"


def test_stop_strings_and_client_side_stops_on_the_stream(remote):
    full = remote.generate(PROMPT, GenerationConfig(max_new_tokens=24)).text
    assert len(full) > 4
    marker = full[2:4]
    stopped = remote.generate(PROMPT, GenerationConfig(max_new_tokens=24, stop=[marker]))
    assert stopped.finish_reason == "stop" and stopped.text == full[: full.find(marker)]
    cut = remote.generate(
        PROMPT, GenerationConfig(max_new_tokens=24, stop_fn=lambda t: 3 if len(t) >= 3 else None)
    )
    assert cut.finish_reason == "stop" and cut.text == full[:3]


def test_cancelling_stops_the_servers_work(remote, llama_server):
    """A random model reaches its EOS sooner or later, and a fast server may finish a short
    answer before the cancel arrives, which would test nothing. So the prompt is the one
    whose uncancelled answer on this server runs longest, and the cancel comes within a
    tenth of that answer's time."""
    config = GenerationConfig(max_new_tokens=1500)
    runs = []
    for prompt in (PROMPT * 3, "if x:\n    y", "aaaa", "for i in range(10):\n"):
        started = time.perf_counter()
        full = remote.generate(prompt, config)
        runs.append((full.stats.new_tokens, time.perf_counter() - started, prompt))
    full_tokens, full_seconds, prompt = max(runs)
    assert full_tokens >= 100, f"no candidate prompt runs long on this model: {runs}"
    before = _tokens_predicted(llama_server)
    cancel = CancelToken()
    threading.Timer(min(0.05, full_seconds / 10), cancel.cancel).start()
    started = time.perf_counter()
    result = remote.generate(prompt, config, cancel)
    elapsed = time.perf_counter() - started
    time.sleep(0.5)  # let the server notice and account for the tokens it made
    produced = _tokens_predicted(llama_server) - before
    assert result.finish_reason == "cancelled", (result.finish_reason, runs)
    assert elapsed < 5.0
    assert produced < full_tokens, f"the server kept generating: {produced} tokens"


def test_hints_say_they_need_another_engine(remote):
    with pytest.raises(FeatureNotServed, match="in-process model"):
        remote.score("x = 1\n")


async def test_the_language_server_answers_like_in_process(llama_server, in_process):
    from lsprotocol import types

    from ...lsp.conftest import inline, open_doc, running_server

    text = "import math\n\n\ndef distance(self, other):\n    return \n"
    answers = []
    before = _tokens_predicted(llama_server)
    for model in (llama_server.url, str(llama_server.hf_dir)):
        args = ("--model", model, "--fim-format", in_process.fim.name, "--device", "cpu")
        async with running_server(*args) as (client, _):
            status = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="codegen.status")
            )
            assert status["state"] == "ready", status
            open_doc(client, "file:///tmp/engine_distance.py", text)
            result = await inline(client, "file:///tmp/engine_distance.py", 4, 11)
            assert result is not None
            answers.append([item.insert_text for item in result.items])
        if model == llama_server.url:
            assert _tokens_predicted(llama_server) > before  # the suggestion came from it
    # The fixture's model has random weights: its suggestion may well be dropped as low
    # quality; either way both engines must lead the pipeline to the same answer.
    assert answers[0] == answers[1]


def test_codegen_eval_humaneval_through_the_server(llama_server, in_process, tmp_path, capsys):
    from codegen.eval.cli import main as eval_main

    runs = {}
    for name, model in (("remote", llama_server.url), ("local", str(llama_server.hf_dir))):
        out = tmp_path / name
        code = eval_main(
            ["humaneval", "--model", model, "--limit", "3", "--max-new-tokens", "24",
             "--out", str(out), "--k", "1", "--workers", "1", "--device", "cpu"]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        runs[name] = [(r["task_id"], r["completion"]) for r in rows]
    assert len(runs["remote"]) == 3 and runs["remote"] == runs["local"]
