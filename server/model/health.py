"""Engine failures become one message, and answers resume when the engine is back.

A remote engine can go away at any time. :class:`ReportingEngine` wraps it:
every failing call still raises (the request answers empty, as the guard
does for any failure), but the user hears about it once per outage through
:attr:`EngineHealth.notify` (a ``window/showMessage``), and once more when a
call succeeds again. A feature the server lacks (token scoring on llama.cpp)
is said once per session and is not an outage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from codegen.core.engine import CancelToken, Engine, GenerationConfig, GenerationResult
from codegen.core.errors import CodegenError

log = logging.getLogger(__name__)

Notify = Callable[[str, bool], None]
"""``notify(message, is_error)``."""


class EngineHealth:
    """Whether the engine is answering, and who to tell when that changes."""

    def __init__(self) -> None:
        self.notify: Notify | None = None
        self.outage: str | None = None
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def failed(self, err: CodegenError) -> None:
        from codegen.core.remote.errors import FeatureNotServed

        message = str(err)
        with self._lock:
            if isinstance(err, FeatureNotServed):
                first = message not in self._said
                self._said.add(message)
                text = message
            else:
                first = self.outage is None
                self.outage = message
                text = f"{message}; suggestions stay empty until it answers again"
        log.warning("engine call failed: %s", message)
        if first and self.notify is not None:
            self.notify(text, True)

    def succeeded(self) -> None:
        with self._lock:
            was, self.outage = self.outage, None
        if was is not None and self.notify is not None:
            self.notify("the model server answers again", False)


class ReportingEngine:
    """An engine whose failures and recoveries are reported to an :class:`EngineHealth`."""

    def __init__(self, engine: Engine, health: EngineHealth) -> None:
        self.inner = engine
        self.health = health
        self.fim = engine.fim
        self.name = engine.name

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            result = fn(*args)
        except CodegenError as err:
            self.health.failed(err)
            raise
        self.health.succeeded()
        return result

    def generate(
        self, prompt: str, config: GenerationConfig, cancel: CancelToken | None = None
    ) -> GenerationResult:
        return self._call(self.inner.generate, prompt, config, cancel)  # type: ignore[no-any-return]

    def generate_batch(
        self,
        prompts: Sequence[str],
        configs: Sequence[GenerationConfig],
        cancel: CancelToken | None = None,
    ) -> list[GenerationResult]:
        batch = self.inner.generate_batch  # type: ignore[attr-defined]
        return self._call(batch, prompts, configs, cancel)  # type: ignore[no-any-return]

    def score(self, text: str) -> Any:
        return self._call(self.inner.score, text)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
