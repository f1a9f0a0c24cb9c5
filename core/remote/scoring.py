"""Token scoring (debugging hints) through a remote engine.

Hints need log p(token | everything before it) for every token of a file. The
OpenAI completions API gives that as ``echo: true`` with ``logprobs``: the
prompt comes back with each token's log-probability, its best alternative and
its character offset (vLLM computes these from its prompt log-probabilities).
llama.cpp's ``n_probs`` covers generated tokens only, never the prompt, so a
llama.cpp server cannot score a file; neither can a server that refuses
``echo``. Both get one clear message instead.
"""

from __future__ import annotations

from typing import Any

from ..engine import TokenScore
from .completions import Route
from .errors import AuthFailed, FeatureNotServed, RemoteEngineError, UnknownServedModel
from .http import HttpClient
from .privacy import redact_outbound
from .probe import LLAMACPP


def hints_unavailable(kind: str, where: str) -> FeatureNotServed:
    return FeatureNotServed(
        "debugging hints need prompt log-probabilities: use an in-process model, or a server "
        f"that returns them (vLLM: echo with logprobs); the {kind} server at {where} does not"
    )


def score_remote(client: HttpClient, kind: str, route: Route, text: str) -> list[TokenScore]:
    """Every token of ``text`` after the first, scored by the server's model."""
    if kind == LLAMACPP:
        raise hints_unavailable(kind, client.where)
    if not text:
        return []
    redacted = redact_outbound(text)
    body = {"model": route.model, "prompt": redacted.text, "max_tokens": 1, "temperature": 0.0,
            "echo": True, "logprobs": 1}  # fmt: skip
    try:
        answer = client.post("/completions", body)
    except (AuthFailed, UnknownServedModel):
        raise
    except RemoteEngineError as err:
        if err.status is None or not 400 <= err.status < 500:
            raise
        raise hints_unavailable(kind, client.where) from None
    logprobs = _first_logprobs(answer)
    tokens, values = logprobs.get("tokens"), logprobs.get("token_logprobs")
    offsets, tops = logprobs.get("text_offset"), logprobs.get("top_logprobs")
    if not all(isinstance(x, list) for x in (tokens, values, offsets)):
        raise hints_unavailable(kind, client.where)
    assert isinstance(tokens, list) and isinstance(values, list) and isinstance(offsets, list)
    size = len(redacted.text)
    scores: list[TokenScore] = []
    for i, token in enumerate(tokens):
        start = int(offsets[i])
        if start >= size:
            break  # the generated token after the echo
        end = min(int(offsets[i + 1]) if i + 1 < len(offsets) else size, size)
        value = values[i] if i < len(values) else None
        span = redacted.to_original(start, max(start, end))
        if value is None or span is None:
            continue
        top_text, top_lp = _best(tops[i] if isinstance(tops, list) and i < len(tops) else None)
        if top_text is None:
            top_text, top_lp = str(token), float(value)
        scores.append(
            TokenScore(text[span[0] : span[1]], span[0], span[1], float(value), top_text, top_lp)
        )
    return scores


def _first_logprobs(answer: Any) -> dict[str, Any]:
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        logprobs = choices[0].get("logprobs")
        if isinstance(logprobs, dict):
            return logprobs
    return {}


def _best(top: Any) -> tuple[str | None, float]:
    if isinstance(top, dict) and top:
        token, value = max(top.items(), key=lambda kv: kv[1])
        return str(token), float(value)
    return None, 0.0
