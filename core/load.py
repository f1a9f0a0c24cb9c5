"""One entry point for every caller: ``load_engine(spec, ...) -> Engine``.

The spec picks the backend: ``http://`` / ``https://`` URLs are OpenAI-compatible
servers (:mod:`codegen.core.remote`); anything else (a Hugging Face id, a model
directory, ``builtin:tiny``) loads in process with
:func:`codegen.core.transformers_engine.load_engine`. Backends are imported only
when chosen, so importing this module imports neither torch nor the network code.
"""

from __future__ import annotations

from dataclasses import replace

from .engine import Engine

DEFAULT_API_KEY_ENV = "CODEGEN_API_KEY"


def is_remote(spec: str) -> bool:
    """Whether ``spec`` names a model server rather than weights to load."""
    return spec.strip().lower().startswith(("http://", "https://"))


def load_engine(
    spec: str = "builtin:tiny",
    *,
    adapter: str | None = None,
    quantize: str = "none",
    device: str = "auto",
    fim_format: str | None = None,
    served_model: str | None = None,
    api_key_env: str = DEFAULT_API_KEY_ENV,
    timeout_s: float | None = None,
    max_concurrency: int | None = None,
) -> Engine:
    """The engine for ``spec``.

    In process, ``adapter`` is a PEFT directory; on a server it names a served LoRA
    (vLLM ``--lora-modules`` name, llama.cpp LoRA file name). ``served_model``,
    ``api_key_env``, ``timeout_s`` and ``max_concurrency`` apply to servers only;
    ``quantize`` and ``device`` to in-process models only.
    """
    spec = spec.strip()
    if is_remote(spec):
        from .remote import ClientSettings, connect

        settings = ClientSettings(api_key_env=api_key_env)
        if timeout_s is not None:
            settings = replace(settings, timeout_s=timeout_s)
        if max_concurrency is not None:
            settings = replace(settings, max_concurrency=max_concurrency)
        return connect(
            spec,
            served_model=served_model,
            adapter=adapter,
            fim_format=fim_format,
            api_key_env=api_key_env,
            settings=settings,
        )
    from .transformers_engine import load_engine as load_in_process

    return load_in_process(
        spec, adapter=adapter, quantize=quantize, device=device, fim_format=fim_format
    )
