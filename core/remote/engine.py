"""The remote :class:`~codegen.core.engine.Engine`: an OpenAI-compatible ``/v1/completions`` server.

vLLM, SGLang, TGI, the llama.cpp server, Ollama and LM Studio all take a raw
prompt at ``/v1/completions``, so the prompts are exactly those the in-process
engine gets (our FIM format, our context), and every feature of the server
works unchanged. Every prompt is redacted by the secret scanner before it is
sent (:mod:`.privacy`). ``generate`` streams, so a cancelled request closes its
connection and the server stops; ``generate_batch`` runs rows concurrently (up
to the client's limit) and sends samples of one prompt as one request with
``n`` where the server supports it.

Stops follow the in-process engine, which ends a middle on EOS or a FIM sentinel
(``eos``) and cuts the text at a caller's stop string (``stop``). The server gets
what it can apply (:meth:`RemoteEngine._stop_plan`); every stop string and
sentinel is applied again here, on the stream, which closes as soon as one
appears.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..engine import (
    CancelToken,
    GenerationConfig,
    GenerationResult,
    GenerationStats,
    TokenScore,
    apply_stop_rules,
)
from ..fim import FimFormat
from .completions import (
    Completion,
    Route,
    Usage,
    completion_body,
    cut_at_sentinel,
    finish_of,
    fold_choices,
    llamacpp_lora,
    stopped_on_token,
)
from .errors import MalformedResponse, display_url
from .http import Cancelled, HttpClient
from .privacy import redact_outbound
from .probe import LLAMACPP, ServerInfo, match_adapter, probe
from .scoring import score_remote

CHARS_PER_TOKEN = 3.0
"""``count_tokens`` estimates (a round trip per call would slow every keystroke); cautious
for code, so prompts stay inside the budget. The server reports the real counts."""


@dataclass
class RemoteResult(GenerationResult):
    token_logprobs: list[tuple[str, float]] = field(default_factory=list)
    """``(token, logprob)`` of the generated tokens, when asked for and the server gives them."""
    token_ids: list[int] = field(default_factory=list)
    """The generated token ids, when the server sends them with the logprobs (llama.cpp)."""

    def __post_init__(self) -> None:
        if not self.logprobs and self.token_logprobs:
            self.logprobs = [lp for _, lp in self.token_logprobs]


class RemoteEngine:
    """Generation (and, where the server offers it, token scoring) on a model server."""

    leaves_machine = True
    """Prompts go over the network: the server keeps git-ignored files, .env files and
    secrets out of them (see the server manual)."""

    def __init__(
        self,
        client: HttpClient,
        info: ServerInfo,
        model: str,
        fim: FimFormat,
        url: str,
        logprobs: bool = False,
        stop_token_ids: dict[str, int] | None = None,
    ) -> None:
        self.client, self.server, self.model, self.fim = client, info, model, fim
        self.url = display_url(url)
        self.name = f"{self.url}#{model}"
        self.logprobs = logprobs
        self.adapter: str | None = None
        self._lora_id: int | None = None
        self.redacted = 0
        """Secrets replaced in the prompts sent so far."""
        self.stop_token_ids = dict(stop_token_ids or {})
        """``sentinel -> token id`` of the FIM sentinels the server stops on by id (vLLM)."""

    # -- adapters -----------------------------------------------------------------------
    def served_adapters(self) -> list[str]:
        """Names ``--adapter`` / ``codegen.selectAdapter`` accept on this server."""
        return self.server.adapter_names(self.model)

    def load_adapter(self, name: str, _alias: str | None = None) -> str:
        """Check that the server serves ``name`` (re-reading its list); returns its name."""
        if self.server.kind == LLAMACPP:
            self.server = probe(self.client)
        return match_adapter(self.server, name, self.model, self.client.where)[0]

    def set_adapter(self, name: str | None) -> None:
        """Send later requests through the served adapter ``name``, or the bare base."""
        if name is None:
            self.adapter, self._lora_id = None, None
            return
        self.adapter, self._lora_id = match_adapter(
            self.server, name, self.model, self.client.where
        )

    @property
    def adapters(self) -> dict[str, str]:
        return {name: name for name in self.served_adapters()}

    def route(self) -> Route:
        if self.server.kind == LLAMACPP:
            ids = [i for i, _ in self.server.lora_files]
            return Route(self.model, llamacpp_lora(ids, self._lora_id) if ids else None)
        return Route(self.adapter or self.model)

    def info(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "path": self.url,
            "device": f"remote ({self.server.kind})",
            "quantize": None,
            "fim_format": self.fim.name,
            "adapter": self.adapter,
            "adapters": self.adapters,
            "served_model": self.model,
            "server": self.server.kind,
            "remote": True,
        }

    # -- tokens -------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def score(self, text: str) -> list[TokenScore]:
        return score_remote(self.client, self.server.kind, self.route(), text)

    # -- generation ---------------------------------------------------------------------
    def _outbound(self, prompt: str) -> str:
        redacted = redact_outbound(prompt)
        self.redacted += redacted.count
        return redacted.text

    def _stop_plan(self, config: GenerationConfig) -> tuple[list[str], list[int]]:
        """``(stop strings, stop token ids)`` for the server, most important first.

        - llama.cpp does not say which stop string it met, so it gets only the FIM
          sentinels (a middle's end, like EOS); the caller's stops are applied here.
        - vLLM gets the single-token sentinels as ``stop_token_ids``: it leaves special
          tokens out of the text by default, so a sentinel stop string would never
          match, and a token id stops on the very token the in-process engine stops on.
        - Other servers and vLLM take at most four stop strings: the sentinels not
          covered by a token id go first (a server that hides special tokens can only
          stop on them itself), then the caller's. :func:`completion_body` drops the rest,
          which are applied here, on the stream.
        """
        ids = self.stop_token_ids
        sentinels = [s for s in self.fim.stop_strings if s not in ids]
        if self.server.kind == LLAMACPP:
            return sentinels, []
        return [*sentinels, *config.stop], list(ids.values())

    def _cut(self, text: str, config: GenerationConfig) -> tuple[str, str | None]:
        """``text`` cut at the first sentinel (``eos``) or stop rule (``stop``), and which;
        None when nothing stopped it."""
        text, ended = cut_at_sentinel(text, self.fim.stop_strings)
        text, stopped = apply_stop_rules(text, config)
        return text, "stop" if stopped else "eos" if ended else None

    def _new_tokens(self, usage: Usage, choice: Completion, finish: str) -> None:
        """The server counts the EOS or stop token that ended the text; in process
        (and here) it is not one of the new tokens."""
        if finish == "eos" and stopped_on_token(choice) and usage.completion_tokens:
            usage.completion_tokens -= 1

    def generate(
        self, prompt: str, config: GenerationConfig, cancel: CancelToken | None = None
    ) -> RemoteResult:
        """Stream one completion; a stop rule met client-side closes the stream early."""
        start = time.perf_counter()
        if cancel is not None and cancel.cancelled:
            return RemoteResult("", "cancelled", GenerationStats())
        stops, stop_ids = self._stop_plan(config)
        body = completion_body(
            self._outbound(prompt), config, self.route(), self.server.kind,
            stop=stops, stop_token_ids=stop_ids, logprobs=self.logprobs,
        )  # fmt: skip
        choices: dict[int, Completion] = {}
        usage, ttft, text, cut = Usage(), 0.0, "", None
        events = self.client.stream("/completions", body, cancel)
        try:
            for event in events:
                usage.fold(event)
                if not fold_choices(event, choices, self.client.where):
                    continue
                usage.chunks += 1
                ttft = ttft or (time.perf_counter() - start) * 1000
                text, cut = self._cut(choices[0].text, config)
                if cut is not None:
                    break  # closing the stream stops the server
        except Cancelled:
            stats = usage.stats(self.count_tokens(prompt), ttft, _ms(start))
            return RemoteResult("", "cancelled", stats)
        finally:
            events.close()
        choice = choices.get(0, Completion())
        if cut is None and choice.finish_reason is None:
            raise MalformedResponse(
                f"the model server at {self.client.where} sent a malformed stream (it ended "
                "before the completion did)"
            )
        finish = cut or finish_of(choice, self.fim.stop_strings)
        if cut is None:
            self._new_tokens(usage, choice, finish)
        stats = usage.stats(self.count_tokens(prompt), ttft, _ms(start))
        return RemoteResult(
            text, finish, stats, token_logprobs=choice.token_logprobs, token_ids=choice.token_ids
        )

    def generate_batch(
        self,
        prompts: Sequence[str],
        configs: Sequence[GenerationConfig],
        cancel: CancelToken | None = None,
    ) -> list[GenerationResult]:
        """One result per prompt, in order; row i obeys ``configs[i]``.

        Greedy rows with the same prompt and config are asked once; sampled rows that
        differ only by seed go as one request with ``n`` (not to llama.cpp, whose
        per-row seeds keep each row reproducible on its own); the rest run
        concurrently, up to the client's concurrency limit.
        """
        if len(prompts) != len(configs):
            raise ValueError("generate_batch needs one config per prompt")
        units = _group_rows(prompts, configs, allow_n=self.server.kind != LLAMACPP)
        results: list[GenerationResult | None] = [None] * len(prompts)
        workers = max(1, min(len(units), self.client.settings.max_concurrency))

        def run(rows: list[int]) -> None:
            first = rows[0]
            if len(rows) == 1:
                results[first] = self.generate(prompts[first], configs[first], cancel)
            elif configs[first].temperature <= 0:
                result = self.generate(prompts[first], configs[first], cancel)
                for row in rows:
                    results[row] = result
            else:
                batch = self._generate_n(prompts[first], configs[first], len(rows), cancel)
                for row, sample in zip(rows, batch, strict=True):
                    results[row] = sample

        with ThreadPoolExecutor(workers, thread_name_prefix="codegen-remote") as pool:
            for future in [pool.submit(run, rows) for rows in units]:
                future.result()
        return [r for r in results if r is not None]

    def _generate_n(
        self, prompt: str, config: GenerationConfig, n: int, cancel: CancelToken | None
    ) -> list[GenerationResult]:
        start = time.perf_counter()
        stops, stop_ids = self._stop_plan(config)  # never llama.cpp: see generate_batch
        body = completion_body(
            self._outbound(prompt), config, self.route(), self.server.kind, n=n, stream=False,
            stop=stops, stop_token_ids=stop_ids, logprobs=self.logprobs,
        )  # fmt: skip
        try:
            answer = self.client.post("/completions", body, cancel=cancel)
        except Cancelled:
            return [RemoteResult("", "cancelled", GenerationStats()) for _ in range(n)]
        if not isinstance(answer, dict):
            raise MalformedResponse(f"the model server at {self.client.where} sent no choices")
        choices: dict[int, Completion] = {}
        usage = Usage()
        usage.fold(answer)
        fold_choices(answer, choices, self.client.where)
        if len(choices) != n:
            raise MalformedResponse(
                f"the model server at {self.client.where} sent {len(choices)} choices for n={n}"
            )
        total = _ms(start)
        out: list[GenerationResult] = []
        for i in range(n):
            choice = choices[i]
            text, cut = self._cut(choice.text, config)
            stats = usage.stats(self.count_tokens(prompt), total, total)
            stats.new_tokens = (usage.completion_tokens or 0) // n
            finish = cut or finish_of(choice, self.fim.stop_strings)
            out.append(
                RemoteResult(
                    text,
                    finish,
                    stats,
                    token_logprobs=choice.token_logprobs,
                    token_ids=choice.token_ids,
                )
            )
        return out


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _group_rows(
    prompts: Sequence[str], configs: Sequence[GenerationConfig], allow_n: bool
) -> list[list[int]]:
    """Rows that one request can answer together, in first-row order."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    units: list[list[int]] = []
    for row, (prompt, config) in enumerate(zip(prompts, configs, strict=True)):
        greedy = config.temperature <= 0
        if not greedy and not allow_n:
            units.append([row])
            continue
        key = (prompt, config.max_new_tokens, config.temperature, config.top_p,
               tuple(config.stop), id(config.stop_fn), config.use_cache_reuse,
               None if greedy else "sampled")  # fmt: skip
        if key in groups:
            groups[key].append(row)
        else:
            groups[key] = [row]
            units.append(groups[key])
    return units
