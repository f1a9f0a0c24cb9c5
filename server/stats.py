"""Recent latency figures and counters, for ``codegen.status`` and benchmarks."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

RECENT = 200


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Stats:
    counters: Counter[str] = field(default_factory=Counter)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT))

    def record(self, source: str, total_ms: float, engine_ms: float = 0.0) -> None:
        """One answered request: where the answer came from and how long it took."""
        self.counters[f"answers.{source}"] += 1
        self.recent.append({"source": source, "total_ms": total_ms, "engine_ms": engine_ms})

    def count(self, name: str) -> None:
        self.counters[name] += 1

    def summary(self) -> dict[str, Any]:
        model = [r for r in self.recent if r["source"] == "model"]
        totals = [r["total_ms"] for r in model]
        overhead = [r["total_ms"] - r["engine_ms"] for r in model]
        memory = [r["total_ms"] for r in self.recent if r["source"] in ("cache", "typed")]
        return {
            "counters": dict(self.counters),
            "model_ms_p50": round(percentile(totals, 0.5), 2),
            "model_ms_p90": round(percentile(totals, 0.9), 2),
            "overhead_ms_p50": round(percentile(overhead, 0.5), 2),
            "memory_ms_p50": round(percentile(memory, 0.5), 3),
            "recent": list(self.recent)[-100:],
        }
