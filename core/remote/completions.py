"""``/v1/completions`` bodies and answers, as pure functions.

One body for every OpenAI-compatible server, plus the extras a known kind of
server understands: llama.cpp gets ``repeat_penalty: 1.0``, ``top_k: 0`` and
``min_p: 0`` (its defaults are 1.1, 40 and 0.05, which would make its greedy
and sampled output differ from the in-process engine's), ``cache_prompt`` and
the per-request ``lora`` scales. vLLM gets the FIM sentinels as
``stop_token_ids`` and ``skip_special_tokens: false``, so its text and its stops are
the in-process engine's (:meth:`RemoteEngine._stop_plan`). No request carries more
stop strings than its kind of server takes. Answers are folded chunk by chunk into a
:class:`Completion`, streamed or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine import GenerationConfig, GenerationStats
from .errors import MalformedResponse
from .probe import LLAMACPP, STOP_SUPPORT, VLLM


@dataclass(frozen=True)
class Route:
    """Where a request goes: the ``model`` field and, on llama.cpp, the LoRA scales."""

    model: str
    lora: tuple[dict[str, float], ...] | None = None


def llamacpp_lora(ids: Sequence[int], active: int | None) -> tuple[dict[str, float], ...]:
    """Scale 1 for ``active`` and an explicit 0 for every other loaded LoRA.

    Every id is listed: an empty list does not reset scales a previous request set.
    """
    return tuple({"id": i, "scale": 1.0 if i == active else 0.0} for i in ids)


def completion_body(
    prompt: str,
    config: GenerationConfig,
    route: Route,
    kind: str,
    *,
    stop: Sequence[str],
    stop_token_ids: Sequence[int] = (),
    n: int = 1,
    stream: bool = True,
    logprobs: bool = False,
) -> dict[str, Any]:
    """The JSON body of one ``/v1/completions`` request.

    ``stop`` is cut to as many strings as ``kind`` takes (the first ones win: order them
    by importance); the caller applies every stop again on the text it gets.
    """
    body: dict[str, Any] = {
        "model": route.model,
        "prompt": prompt,
        "max_tokens": max(1, config.max_new_tokens),
        "temperature": max(0.0, config.temperature),
        "top_p": config.top_p if config.temperature > 0 else 1.0,
        "n": n,
        "stream": stream,
    }
    limit = STOP_SUPPORT.get(kind, STOP_SUPPORT["openai"]).max_stop_strings
    stops = [s for s in dict.fromkeys(stop) if s][:limit]
    if stops:
        body["stop"] = stops
    if config.temperature > 0:
        # The in-process engine samples with seed 0 when none is given; so does this.
        body["seed"] = config.seed if config.seed is not None else 0
    if stream:
        body["stream_options"] = {"include_usage": True}
    if logprobs:
        body["logprobs"] = 1
    if kind == LLAMACPP:
        body.update(repeat_penalty=1.0, top_k=0, min_p=0.0, cache_prompt=config.use_cache_reuse)
        if route.lora is not None:
            body["lora"] = list(route.lora)
    elif kind == VLLM:
        # Special tokens stay in the text, as the in-process decode keeps them.
        body["skip_special_tokens"] = False
        if stop_token_ids:
            body["stop_token_ids"] = list(dict.fromkeys(stop_token_ids))
        if config.temperature > 0:
            body["top_k"] = -1
    return body


@dataclass
class Completion:
    """One choice of an answer, accumulated over its chunks."""

    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    stop_reason: Any = None
    token_logprobs: list[tuple[str, float]] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class Usage:
    """What the server reports about the whole request."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    chunks: int = 0

    def fold(self, event: dict[str, Any]) -> None:
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = _int(usage.get("prompt_tokens"), self.prompt_tokens)
            self.completion_tokens = _int(usage.get("completion_tokens"), self.completion_tokens)
            details = usage.get("prompt_tokens_details")
            if isinstance(details, dict):  # vLLM (with --enable-prompt-tokens-details), OpenAI
                self.cached_tokens = _int(details.get("cached_tokens"), self.cached_tokens)
        if "tokens_cached" in event:  # llama.cpp's native field
            self.cached_tokens = _int(event.get("tokens_cached"), self.cached_tokens)
        timings = event.get("timings")
        if isinstance(timings, dict):  # llama.cpp: cache_n reused, prompt_n evaluated
            cache_n = _int(timings.get("cache_n"), None)
            prompt_n = _int(timings.get("prompt_n"), None)
            if cache_n is not None:
                self.cached_tokens = cache_n
            if self.prompt_tokens is None and prompt_n is not None:
                self.prompt_tokens = prompt_n + (cache_n or 0)
            if self.cached_tokens is None and prompt_n is not None and self.prompt_tokens:
                self.cached_tokens = max(0, self.prompt_tokens - prompt_n)
            if self.completion_tokens is None:
                self.completion_tokens = _int(timings.get("predicted_n"), None)

    def stats(self, estimate_prompt: int, ttft_ms: float, total_ms: float) -> GenerationStats:
        return GenerationStats(
            prompt_tokens=self.prompt_tokens if self.prompt_tokens is not None else estimate_prompt,
            reused_tokens=self.cached_tokens or 0,
            new_tokens=self.completion_tokens
            if self.completion_tokens is not None
            else self.chunks,
            time_to_first_token_ms=ttft_ms,
            total_ms=total_ms,
        )


def _int(value: Any, default: int | None) -> int | None:
    return (
        int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
    )


def fold_choices(event: dict[str, Any], choices: dict[int, Completion], where: str) -> bool:
    """Add an event's choices to ``choices`` (by index); True when it carried text."""
    raw = event.get("choices")
    if raw is None:
        return False
    if not isinstance(raw, list):
        raise MalformedResponse(f"the model server at {where} sent a malformed stream (choices)")
    carried = False
    for choice in raw:
        if not isinstance(choice, dict):
            raise MalformedResponse(f"the model server at {where} sent a malformed choice")
        index = choice.get("index", 0)
        text = choice.get("text")
        if text is not None and not isinstance(text, str):
            raise MalformedResponse(f"the model server at {where} sent non-text output")
        entry = choices.setdefault(int(index) if isinstance(index, int) else 0, Completion())
        if text:
            check_utf8(text, where)
            entry.parts.append(text)
            carried = True
        if choice.get("finish_reason"):
            entry.finish_reason = str(choice["finish_reason"])
            entry.stop_reason = choice.get("stop_reason")
        entry.token_logprobs.extend(token_logprobs(choice.get("logprobs")))
        entry.token_ids.extend(token_ids(choice.get("logprobs")))
    return carried


def check_utf8(text: str, where: str) -> None:
    """Raise when ``text`` holds lone surrogates: bytes that were not valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedResponse(
            f"the model server at {where} sent invalid UTF-8 in its output"
        ) from None


def token_logprobs(raw: Any) -> list[tuple[str, float]]:
    """``(token, logprob)`` pairs from either logprobs shape (legacy lists or ``content``)."""
    if not isinstance(raw, dict):
        return []
    tokens, values = raw.get("tokens"), raw.get("token_logprobs")
    if isinstance(tokens, list) and isinstance(values, list):
        return [(str(t), float(v)) for t, v in zip(tokens, values, strict=False) if v is not None]
    content = raw.get("content")
    if isinstance(content, list):
        return [
            (str(c.get("token", "")), float(c["logprob"]))
            for c in content
            if isinstance(c, dict) and isinstance(c.get("logprob"), (int, float))
        ]
    return []


def token_ids(raw: Any) -> list[int]:
    """The generated token ids, where the logprobs carry them (llama.cpp's ``content``)."""
    content = raw.get("content") if isinstance(raw, dict) else None
    if not isinstance(content, list):
        return []
    return [int(c["id"]) for c in content if isinstance(c, dict) and isinstance(c.get("id"), int)]


def finish_of(choice: Completion, sentinels: Sequence[str]) -> str:
    """Our finish reason for the server's: ``length``, ``stop`` (a caller's stop string) or
    ``eos`` (end of text, a FIM sentinel, or a stop token id: vLLM's ``stop_reason`` is
    then that id)."""
    if choice.finish_reason == "length":
        return "length"
    if isinstance(choice.stop_reason, str) and choice.stop_reason not in sentinels:
        return "stop"
    return "eos"


def stopped_on_token(choice: Completion) -> bool:
    """Whether the server ended on a token (EOS or a stop token id), which its
    ``completion_tokens`` counts but the text leaves out: vLLM, ``finish_reason`` stop
    without a stop string."""
    return choice.finish_reason == "stop" and not isinstance(choice.stop_reason, str)


def cut_at_sentinel(text: str, sentinels: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the first FIM sentinel in it (which ends a middle like EOS)."""
    cut = min((i for i in (text.find(s) for s in sentinels if s) if i != -1), default=-1)
    return (text, False) if cut == -1 else (text[:cut], True)
