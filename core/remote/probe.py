"""What a model server offers, asked once at start.

``GET /v1/models`` is the health check and the model listing (the served model
defaults to its first entry). The kind of server decides the extras we may
send: llama.cpp answers ``GET /props`` and lists its LoRA files at
``GET /lora-adapters``; vLLM names itself in ``owned_by`` and lists its
``--lora-modules`` as models whose ``parent`` is the base. The FIM format comes
from the server's tokenizer (``POST /tokenize``: every sentinel of a format
must be one token) unless the user names one.

The kind also fixes how a request may stop (:class:`StopSupport`): vLLM takes at
most ``VLLM_MAX_STOP_STRINGS`` (default 4) stop strings and answers HTTP 400 to
more, and, like OpenAI's own API, four is all an unknown server is trusted with;
llama.cpp has no limit. vLLM also stops on token ids (``stop_token_ids``), which
is how it stops on a FIM sentinel: it leaves special tokens out of the text by
default, so a sentinel stop string never matches there.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from ..builtin.tiny import SPECIAL_TOKENS as TINY_SPECIAL_TOKENS
from ..errors import AdapterError, FimFormatError
from ..fim import (
    CODEGEMMA,
    CODELLAMA,
    DEEPSEEK,
    FIM_FORMATS,
    QWEN,
    STARCODER,
    TINY,
    FimFormat,
    get_fim_format,
)
from .errors import FeatureNotServed, MalformedResponse, RemoteEngineError, UnknownServedModel
from .http import HttpClient

log = logging.getLogger(__name__)

LLAMACPP, VLLM, OPENAI = "llama.cpp", "vllm", "openai"
DETECTION_ORDER = (CODEGEMMA, QWEN, STARCODER, DEEPSEEK, CODELLAMA)
"""CodeGemma shares Qwen's prefix/suffix/middle sentinels, so it is tried first."""
TINY_SENTINEL_IDS = {tok: i for i, tok in enumerate(TINY_SPECIAL_TOKENS)}
"""builtin:tiny's tokenizer (and the test models built on it) has Qwen's sentinel strings,
but as its first special tokens, ids 0-5; Qwen's are far up its vocabulary (151643...)."""


@dataclass(frozen=True)
class StopSupport:
    """How a kind of server stops a completion."""

    max_stop_strings: int | None
    """The most stop strings one request may carry (None: no limit)."""
    token_ids: bool
    """Whether it takes ``stop_token_ids`` (and ``skip_special_tokens``)."""


STOP_SUPPORT = {
    LLAMACPP: StopSupport(max_stop_strings=None, token_ids=False),
    VLLM: StopSupport(max_stop_strings=4, token_ids=True),
    # OpenAI's API takes "up to 4 sequences"; an unknown server gets no more.
    OPENAI: StopSupport(max_stop_strings=4, token_ids=False),
}


@dataclass
class ServedModel:
    id: str
    owned_by: str = ""
    parent: str | None = None
    """vLLM: the base model of a LoRA module."""


@dataclass
class ServerInfo:
    kind: str
    models: list[ServedModel]
    props: dict[str, Any] = field(default_factory=dict)
    lora_files: list[tuple[int, str]] = field(default_factory=list)
    """llama.cpp: ``(id, path)`` of every LoRA the server loaded."""

    @property
    def stops(self) -> StopSupport:
        return STOP_SUPPORT.get(self.kind, STOP_SUPPORT[OPENAI])

    @property
    def model_ids(self) -> list[str]:
        return [m.id for m in self.models]

    def adapter_names(self, base: str) -> list[str]:
        """The adapters a request may choose: LoRA file names (llama.cpp) or modules (vLLM)."""
        if self.kind == LLAMACPP:
            return [os.path.basename(path) for _, path in self.lora_files]
        return [
            m.id
            for m in self.models
            if m.parent is not None or (m.id != base and self.kind == VLLM)
        ]


def probe(client: HttpClient) -> ServerInfo:
    """Health check, model listing and server kind; raises one clear line on failure."""
    listing = client.get("/models")
    data = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(data, list):
        raise MalformedResponse(
            f"the model server at {client.where} answered /models without a model list; "
            "is this an OpenAI-compatible /v1 URL?"
        )
    models = [
        ServedModel(str(m.get("id")), str(m.get("owned_by") or ""), m.get("parent"))
        for m in data
        if isinstance(m, dict) and m.get("id")
    ]
    if not models:
        raise UnknownServedModel(f"the model server at {client.where} serves no model")
    owners = {m.owned_by.lower() for m in models}
    info = ServerInfo(OPENAI, models)
    if "vllm" in owners:
        info.kind = VLLM
        return info
    props = _optional(client, "/props")
    if isinstance(props, dict) and ("default_generation_settings" in props or "llamacpp" in owners):
        info.kind, info.props = LLAMACPP, props
        loras = _optional(client, "/lora-adapters")
        if isinstance(loras, list):
            info.lora_files = [
                (int(a["id"]), str(a.get("path", "")))
                for a in loras
                if isinstance(a, dict) and "id" in a
            ]
    return info


def _optional(client: HttpClient, path: str) -> Any:
    """``GET {root}{path}``, or None when the server has no such endpoint."""
    try:
        return client.get(path, root=True)
    except FeatureNotServed:
        return None
    except MalformedResponse:
        return None


def choose_model(info: ServerInfo, wanted: str | None, where: str) -> str:
    """The served model to name in requests: ``wanted`` (checked) or the first listed."""
    if wanted is None:
        return info.models[0].id
    if wanted in info.model_ids:
        return wanted
    served = ", ".join(info.model_ids)
    raise UnknownServedModel(
        f"the model server at {where} does not serve {wanted!r}; it serves: {served} "
        "(pass one of them as --served-model)"
    )


def match_adapter(info: ServerInfo, name: str, base: str, where: str) -> tuple[str, int | None]:
    """``(adapter name, llama.cpp LoRA id)`` for ``--adapter NAME`` on this server.

    llama.cpp: the loaded LoRA whose file name (or file name without extension) is
    ``NAME`` (a path's last part counts). vLLM: a ``--lora-modules`` name.
    """
    if info.kind == LLAMACPP:
        want = os.path.basename(name.rstrip("/"))
        for lora_id, path in info.lora_files:
            file = os.path.basename(path)
            if want in (file, os.path.splitext(file)[0]):
                return file, lora_id
    elif name in info.model_ids and name != base:
        return name, None
    served = ", ".join(info.adapter_names(base)) or "none"
    how = "--lora" if info.kind == LLAMACPP else "--lora-modules"
    raise AdapterError(
        f"the model server at {where} serves no adapter {name!r}; served adapters: {served} "
        f"(start the server with {how} to add one)"
    )


def detect_remote_fim(
    client: HttpClient, info: ServerInfo, model: str, override: str | None
) -> FimFormat:
    """``override``, or the format whose sentinels the server's tokenizer keeps whole.

    ``tiny`` and ``qwen`` share their sentinel strings; the ids tell them apart.
    """
    if override:
        return get_fim_format(override)
    try:
        for fmt in DETECTION_ORDER:
            ids = single_token_ids(client, info, model, fmt.sentinels)
            if len(ids) == len(set(fmt.sentinels)):
                if fmt is QWEN and all(ids[s] == TINY_SENTINEL_IDS.get(s) for s in ids):
                    return TINY
                return fmt
    except FeatureNotServed:
        raise FimFormatError(
            f"the model server at {client.where} does not expose its tokenizer, so the FIM "
            f"format is unknown; pass --fim-format ({'|'.join(sorted(FIM_FORMATS))})"
        ) from None
    raise FimFormatError(
        f"the tokenizer of {model!r} at {client.where} has no known fill-in-the-middle sentinels; "
        f"pass --fim-format ({'|'.join(sorted(FIM_FORMATS))}) if it is a FIM model"
    )


def single_token_ids(
    client: HttpClient, info: ServerInfo, model: str, texts: tuple[str, ...]
) -> dict[str, int]:
    """The id of each of ``texts`` the server's tokenizer keeps as one token, stopping at
    the first that is not (raises :class:`FeatureNotServed` without ``/tokenize``)."""
    ids: dict[str, int] = {}
    for text in dict.fromkeys(texts):
        tokens = tokenize(client, info, model, text)
        if len(tokens) != 1:
            break
        ids[text] = tokens[0]
    return ids


def sentinel_stop_ids(
    client: HttpClient, info: ServerInfo, model: str, fim: FimFormat
) -> dict[str, int]:
    """``sentinel -> token id`` for every FIM sentinel that is one token on the server,
    where the server stops on token ids; empty where it does not, or hides its tokenizer
    (then the sentinels stay stop strings)."""
    if not info.stops.token_ids:
        return {}
    ids: dict[str, int] = {}
    try:
        for sentinel in dict.fromkeys(fim.sentinels):
            tokens = tokenize(client, info, model, sentinel)
            if len(tokens) == 1:
                ids[sentinel] = tokens[0]
    except (FeatureNotServed, RemoteEngineError) as err:
        log.info("no stop token ids from %s: %s", client.where, err)
        return {}
    return ids


def tokenize(client: HttpClient, info: ServerInfo, model: str, text: str) -> list[int]:
    """Token ids of ``text`` by the server's tokenizer (special tokens parsed, none added)."""
    if info.kind == LLAMACPP:
        answer = client.post("/tokenize", {"content": text, "add_special": False}, root=True)
    else:
        body = {"model": model, "prompt": text, "add_special_tokens": False}
        answer = client.post("/tokenize", body, root=True)
    tokens = answer.get("tokens") if isinstance(answer, dict) else None
    if not isinstance(tokens, list):
        raise RemoteEngineError(f"the model server at {client.where} answered /tokenize oddly")
    return [t["id"] if isinstance(t, dict) else int(t) for t in tokens]
