"""The gate's examples: shown suggestions from the acceptance log, labelled, split by time.

The label is :attr:`codegen.core.usage_log.Suggestion.label`: the user took the
suggestion (whole or in part) and most of it was still there at the last retention
measurement. Everything else (dismissed, typed over, taken then deleted) is negative.

The held-out part is the *latest* suggestions, not a random sample nor a set of files:
the gate decides on tomorrow's suggestions from what it learnt today, and neighbouring
suggestions share a burst of typing, a file's state and a ``recent_accept_rate``, so a
random split would put near-twins on both sides and overstate the held-out figures. A
split by file would still mix weeks in which the model or adapter changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codegen.core.errors import CodegenError
from codegen.core.usage_log import ReadStats, Suggestion, collect, read_records

MIN_SUGGESTIONS = 50
"""Fewer labelled suggestions than this cannot say anything about a threshold."""
MIN_PER_CLASS = 5
"""Each of the training and held-out parts needs this many of each label."""


class GateDataError(CodegenError):
    """The acceptance log cannot train a gate (missing, too small, one-sided)."""


@dataclass
class GateData:
    train: list[Suggestion]
    held_out: list[Suggestion]
    logs: list[str]
    stats: ReadStats = field(default_factory=ReadStats)
    without_features: int = 0
    """Shown suggestions left out because their records carry no ``features``."""


def load_suggestions(logs: Sequence[Path]) -> tuple[list[Suggestion], ReadStats, int]:
    """Shown suggestions that carry gate features, in time order; the read stats; how
    many shown suggestions had no features (logs from before the gate)."""
    stats = ReadStats()
    try:
        records = read_records(logs, stats)
    except FileNotFoundError as err:
        raise GateDataError(
            f"{err}; pass the file the server writes (acceptanceLog.path)"
        ) from None
    except OSError as err:
        raise GateDataError(f"cannot read the acceptance log: {err}") from None
    shown = [s for s in collect(records) if s.shown]
    usable = sorted((s for s in shown if s.features), key=lambda s: s.ts)
    return usable, stats, len(shown) - len(usable)


def split_by_time(suggestions: Sequence[Suggestion], held_out: float) -> tuple[list, list]:
    """``(train, held_out)``: the last ``held_out`` share of ``suggestions`` (time order)."""
    n_held = max(1, math.ceil(len(suggestions) * held_out))
    cut = len(suggestions) - n_held
    return list(suggestions[:cut]), list(suggestions[cut:])


def _check(part: Sequence[Suggestion], name: str, hint: str) -> None:
    positives = sum(s.label for s in part)
    negatives = len(part) - positives
    if min(positives, negatives) < MIN_PER_CLASS:
        raise GateDataError(
            f"the {name} part has {positives} accepted-and-kept and {negatives} other "
            f"suggestions; a gate needs at least {MIN_PER_CLASS} of each ({hint})"
        )


def load_gate_data(logs: Sequence[Path], held_out: float) -> GateData:
    """The examples of ``logs``, split; :class:`GateDataError` when they cannot train."""
    suggestions, stats, without = load_suggestions(logs)
    if len(suggestions) < MIN_SUGGESTIONS:
        extra = f", {without} more without gate features" if without else ""
        raise GateDataError(
            f"the log has {len(suggestions)} shown suggestions with gate features{extra} "
            f"({stats.records} records, {stats.skipped} unreadable lines); a gate needs at "
            f"least {MIN_SUGGESTIONS}: keep acceptanceLog.enabled on and retry later"
        )
    if len({s.label for s in suggestions}) < 2:
        kind = "accepted and kept" if suggestions[0].label else "rejected or not kept"
        raise GateDataError(
            f"all {len(suggestions)} shown suggestions were {kind}; a gate needs both outcomes"
        )
    train, held = split_by_time(suggestions, held_out)
    _check(train, "training", "lower --held-out or collect more")
    _check(held, "held-out", "raise --held-out or collect more")
    return GateData(train, held, [str(p) for p in logs], stats, without)
