"""Owns the engine: loads it (in a background thread), reports its state.

``fake:<reply>`` as the model loads :class:`codegen.core.engine.FakeEngine`
(for protocol tests and benchmarks); anything else goes to
:func:`codegen.core.load.load_engine` (a model server for ``http(s)://`` URLs, the
in-process model otherwise), imported lazily so that importing the server never
imports torch. A remote engine is wrapped so that its failures reach the user once
(:mod:`.health`), and :meth:`EngineHost.may_send` says which documents its prompts
may contain (:mod:`.outbound`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from codegen.core.engine import Engine, FakeEngine

from ..options import ModelOptions
from .health import EngineHealth, ReportingEngine
from .outbound import OutboundPolicy

log = logging.getLogger(__name__)

FAKE_PREFIX = "fake:"
LOADING, READY, FAILED, IDLE = "loading", "ready", "failed", "idle"


@dataclass(frozen=True)
class FakeSettings:
    """How the fake engine behaves (hidden CLI flags used by tests and benchmarks)."""

    delay_ms: float = 0.0
    load_ms: float = 0.0
    tokens: int = 8


def decode_reply(spec: str) -> str | None:
    r"""The reply in ``fake:<reply>`` with ``\n`` and ``\t`` unescaped; None for ``fake:``."""
    body = spec[len(FAKE_PREFIX) :]
    if not body:
        return None
    return body.replace("\\n", "\n").replace("\\t", "\t")


def load(options: ModelOptions, fake: FakeSettings) -> Engine:
    """Load the engine ``options`` describe (blocking; may take minutes)."""
    if options.model.startswith(FAKE_PREFIX):
        if fake.load_ms:
            time.sleep(fake.load_ms / 1000)
        return FakeEngine(
            reply=decode_reply(options.model),
            delay_per_token_s=fake.delay_ms / 1000,
            tokens_per_reply=fake.tokens,
        )
    from codegen.core.load import load_engine

    return load_engine(
        options.model,
        adapter=options.adapter,
        quantize=options.quantize,
        device=options.device,
        fim_format=options.fim_format,
        served_model=options.served_model,
        api_key_env=options.api_key_env,
    )


class EngineHost:
    """The current engine and its loading state; safe to read from any thread."""

    def __init__(self, fake: FakeSettings | None = None) -> None:
        self.fake = fake or FakeSettings()
        self.state = IDLE
        self.engine: Engine | None = None
        self.error: str | None = None
        self.options: ModelOptions | None = None
        self.load_ms = 0.0
        self.health = EngineHealth()
        self.outbound = OutboundPolicy()
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.state == READY and self.engine is not None

    def load(self, options: ModelOptions) -> None:
        """Load ``options``' model, replacing the current one on success."""
        with self._lock:
            self.state, self.error, self.options = LOADING, None, options
            start = time.perf_counter()
            try:
                engine = load(options, self.fake)
            except Exception as err:
                self.state, self.error = FAILED, str(err)
                raise
            if getattr(engine, "leaves_machine", False):
                engine = ReportingEngine(engine, self.health)  # type: ignore[assignment]
            self.engine, self.state = engine, READY
            self.health.outage = None
            self.load_ms = (time.perf_counter() - start) * 1000

    @property
    def remote(self) -> bool:
        """Whether prompts leave the machine (the engine is a model server)."""
        return bool(getattr(self.engine, "leaves_machine", False))

    def may_send(self, uri: str) -> bool:
        """Whether ``uri``'s text may go into a prompt: always in process; with a remote
        engine, not for .env files or files git ignores."""
        return not self.remote or self.outbound.allowed(uri)

    def served_adapters(self) -> list[str]:
        """The adapters a remote engine's server offers (empty in process)."""
        served = getattr(self.engine, "served_adapters", None)
        return list(served()) if callable(served) else []

    def model_id(self) -> str:
        """Names the model and adapter in cache keys: a change invalidates old answers."""
        info = self.info()
        return f"{info.get('model')}|{info.get('adapter')}"

    def info(self) -> dict[str, Any]:
        engine = self.engine
        if engine is None:
            return {"model": self.options.model if self.options else None, "adapter": None}
        describe = getattr(engine, "info", None)
        if callable(describe):
            return dict(describe())
        return {
            "model": engine.name,
            "adapter": None,
            "device": "cpu",
            "fim_format": engine.fim.name,
        }
