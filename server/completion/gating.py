"""What the show/no-show gate sees of a suggestion, and the gate itself.

:func:`features` builds the values of :data:`codegen.core.usage_log.GATE_FEATURES`, all
known before the suggestion is shown; the acceptance log records them with every
suggestion, so ``codegen-train gate`` learns from exactly what the server will ask it
about. :class:`GateHolder` loads ``completion.gate`` (a ``gate.json``) once per file
version and answers whether a suggestion may be shown.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codegen.core.errors import CodegenError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scores:
    """The engine's confidence in a generated text (None where it gave no log-probs)."""

    mean_logprob: float | None = None
    min_logprob: float | None = None
    first_margin: float | None = None


def scores_of(logprobs: Sequence[float], first_margin: float | None) -> Scores:
    if not logprobs:
        return Scores(first_margin=first_margin)
    return Scores(sum(logprobs) / len(logprobs), min(logprobs), first_margin)


def context_kind(before: str, after: str, in_docstring: bool) -> str:
    """One of :data:`codegen.core.usage_log.CONTEXT_KINDS` for the cursor's line."""
    if in_docstring:
        return "docstring"
    if not before.strip():
        return "empty_line"
    if after.strip():
        return "mid_line"
    if before.rstrip().endswith((":", "{", "(", "[")):
        return "after_colon"
    return "end_of_line"


def features(
    text: str,
    scores: Scores,
    multiline: bool,
    kind: str,
    language: str,
    since_keystroke_ms: float | None,
    recent_accept_rate: float,
) -> dict[str, Any]:
    return {
        "mean_logprob": scores.mean_logprob,
        "min_logprob": scores.min_logprob,
        "first_margin": scores.first_margin,
        "length_chars": len(text),
        "lines": text.count("\n") + 1,
        "multiline": multiline,
        "context_kind": kind,
        "language": language,
        "since_keystroke_ms": since_keystroke_ms,
        "recent_accept_rate": round(recent_accept_rate, 4),
    }


class GateHolder:
    """The loaded gate of ``completion.gate``, reloaded when the file changes."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn
        self._key: tuple[str, float] | None = None
        self._gate: Any = None

    def get(self, path: str | None) -> Any:
        """The gate for ``path`` (None when unset or unusable; a bad file is reported
        once per version and suggestions are then shown ungated)."""
        if not path:
            return None
        try:
            key = (path, os.stat(os.path.expanduser(path)).st_mtime)
        except OSError as exc:
            key = (path, -1.0)
            if self._key != key:
                self._key, self._gate = key, None
                self._warn(f"completion.gate: cannot read {path}: {exc.strerror}; not gating")
            return None
        if key != self._key:
            self._key, self._gate = key, None
            from codegen.core.gate import Gate

            try:
                self._gate = Gate.load(os.path.expanduser(path))
            except CodegenError as exc:
                self._warn(f"completion.gate: {exc}; not gating")
        return self._gate
