"""A short adaptive debounce for automatic triggers.

While the user types quickly, waiting a little longer than the gap between
their keystrokes means only the request after the last keystroke reaches the
model. The wait follows an average of recent gaps, within bounds; gaps longer
than a pause are not typing and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAUSE_MS = 1000.0
MIN_MS = 20.0
MAX_MS = 300.0
SMOOTHING = 0.3
MARGIN = 1.3


@dataclass
class AdaptiveDebounce:
    base_ms: float = 60.0
    adaptive: bool = True
    _average_gap: float | None = None
    _last: dict[str, float] = field(default_factory=dict)

    def observe(self, uri: str, now_ms: float) -> None:
        """Record a request for ``uri`` at ``now_ms`` (a monotonic clock)."""
        last = self._last.get(uri)
        self._last[uri] = now_ms
        if last is None:
            return
        gap = now_ms - last
        if gap <= 0 or gap > PAUSE_MS:
            return
        avg = self._average_gap
        self._average_gap = gap if avg is None else avg + SMOOTHING * (gap - avg)

    def delay_ms(self) -> float:
        """How long an automatic request waits before going to the model."""
        if not self.adaptive or self._average_gap is None:
            return self.base_ms
        return min(MAX_MS, max(MIN_MS, self.base_ms, self._average_gap * MARGIN))
