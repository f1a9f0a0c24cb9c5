"""The gate's trade-off on held-out suggestions, and the threshold for a loss target.

A gate withholds a suggestion whose score is below its threshold. At each threshold
two fractions matter: of the suggestions the user would *not* have taken and kept (the
negatives), how many are withheld (the noise the user is spared), and of those they
would have taken and kept (the positives), how many are lost. Raising the threshold
raises both; :func:`pick_threshold` takes the point that withholds the most negatives
while losing at most the target share of positives.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Point:
    threshold: float
    """Withhold when the score is below this."""
    withheld_rejected: float
    """Share of the negatives withheld."""
    lost_accepted: float
    """Share of the positives withheld."""
    shown: float
    """Share of all suggestions still shown."""

    def as_dict(self, digits: int = 4) -> dict[str, float | None]:
        """Rounded; an infinite threshold (withhold nothing or all) is None (JSON null)."""
        return {k: round(v, digits) if math.isfinite(v) else None for k, v in asdict(self).items()}


def trade_off(scores: Sequence[float], labels: Sequence[bool]) -> list[Point]:
    """The exact curve: one point per distinct score (thresholds midway between
    neighbouring scores), from withholding nothing to withholding everything."""
    pairs = sorted(zip(scores, labels, strict=True))
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        raise ValueError("a trade-off needs both positive and negative suggestions")
    points = [Point(-math.inf, 0.0, 0.0, 1.0)]
    pos = neg = 0
    for i, (score, label) in enumerate(pairs):
        pos += label
        neg += not label
        if i + 1 < len(pairs) and pairs[i + 1][0] == score:
            continue
        cut = (score + pairs[i + 1][0]) / 2 if i + 1 < len(pairs) else math.inf
        points.append(Point(cut, neg / n_neg, pos / n_pos, 1 - (i + 1) / len(pairs)))
    return points


def at_thresholds(
    scores: Sequence[float], labels: Sequence[bool], thresholds: Sequence[float]
) -> list[Point]:
    """The curve at given thresholds (withhold ``score < threshold``)."""
    pos = sorted(s for s, y in zip(scores, labels, strict=True) if y)
    neg = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    total = len(pos) + len(neg)
    out = []
    for t in thresholds:
        lost, withheld = bisect.bisect_left(pos, t), bisect.bisect_left(neg, t)
        out.append(Point(t, withheld / len(neg), lost / len(pos), 1 - (lost + withheld) / total))
    return out


def pick_threshold(points: Sequence[Point], target_loss: float) -> Point:
    """The point withholding the most negatives with ``lost_accepted <= target_loss``
    (among equals, the one losing fewest positives)."""
    feasible = [p for p in points if p.lost_accepted <= target_loss + 1e-12]
    return max(feasible, key=lambda p: (p.withheld_rejected, -p.lost_accepted))
