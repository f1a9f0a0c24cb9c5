"""Remote engines: OpenAI-compatible ``/v1/completions`` servers (vLLM, llama.cpp, ...).

:func:`connect` checks the server (``GET /v1/models``), picks the served model,
the FIM format and the adapter, and returns a :class:`RemoteEngine`. Standard
library only: nothing here imports torch.
"""

from __future__ import annotations

import os
from dataclasses import replace

from .engine import RemoteEngine, RemoteResult
from .errors import RemoteEngineError
from .http import ClientSettings, HttpClient
from .probe import choose_model, detect_remote_fim, probe, sentinel_stop_ids

__all__ = [
    "ClientSettings",
    "RemoteEngine",
    "RemoteEngineError",
    "RemoteResult",
    "connect",
    "is_remote_spec",
]

API_KEY_ENV = "CODEGEN_API_KEY"


def is_remote_spec(spec: str) -> bool:
    """Whether ``--model`` names a server (``http://`` or ``https://``) rather than weights."""
    return spec.lower().startswith(("http://", "https://"))


def connect(
    url: str,
    *,
    served_model: str | None = None,
    adapter: str | None = None,
    fim_format: str | None = None,
    api_key_env: str = API_KEY_ENV,
    settings: ClientSettings | None = None,
    logprobs: bool = False,
) -> RemoteEngine:
    """A ready engine for the server at ``url``; one clear :class:`CodegenError` line if not.

    The API key is read from the environment variable ``api_key_env``
    (``CODEGEN_API_KEY`` by default) unless ``settings`` carries one.
    """
    base = settings or ClientSettings()
    key = base.api_key or os.environ.get(api_key_env) or None
    client = HttpClient(url, replace(base, api_key=key, api_key_env=api_key_env))
    info = probe(client)
    model = choose_model(info, served_model, client.where)
    fim = detect_remote_fim(client, info, model, fim_format)
    stop_ids = sentinel_stop_ids(client, info, model, fim)
    engine = RemoteEngine(client, info, model, fim, url, logprobs=logprobs, stop_token_ids=stop_ids)
    if adapter:
        engine.set_adapter(engine.load_adapter(adapter))
    return engine
