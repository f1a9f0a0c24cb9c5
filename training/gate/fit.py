"""Fit the gate: a logistic regression on standardised :func:`codegen.core.gate.encode`
vectors, with the regularisation strength picked by cross-validation on the training
part (log-loss, stratified folds shuffled with ``seed``)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codegen.core.gate import (
    DEFAULT_VOCABULARIES,
    DEFAULTS,
    NUMERIC_FEATURES,
    Gate,
    as_number,
    encode,
)
from codegen.core.usage_log import Suggestion

MAX_LANGUAGES = 32
"""The language one-hot keeps the most frequent languages of the training part."""
IMBALANCED = 0.2
"""Below this share of the rarer label, classes are weighted to balance."""
CS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
"""Inverse regularisation strengths tried by cross-validation."""


@dataclass
class Fitted:
    gate: Gate
    """The model; its threshold is a placeholder until the trade-off picks one."""
    c: float
    class_weight: str | None
    folds: int


def vocabularies(train: Sequence[Suggestion]) -> dict[str, tuple[str, ...]]:
    """Context kinds: the fixed list; languages: those of the training part, commonest first."""
    counts = Counter(s.features.get("language") for s in train)
    languages = sorted(
        (k for k in counts if isinstance(k, str) and k), key=lambda k: (-counts[k], k)
    )
    return {
        "context_kind": DEFAULT_VOCABULARIES["context_kind"],
        "language": tuple(languages[:MAX_LANGUAGES]),
    }


def fill_values(train: Sequence[Suggestion]) -> dict[str, float]:
    """Per numeric feature, the median of the values present (raw units), else the default."""
    fills = {}
    for name in NUMERIC_FEATURES:
        present = [v for s in train if (v := as_number(s.features.get(name), float("nan"))) == v]
        fills[name] = float(statistics.median(present)) if present else DEFAULTS[name]
    return fills


def fit_gate(train: Sequence[Suggestion], seed: int = 0) -> Fitted:
    """The logistic regression for ``train``, its C picked by ``seed``-shuffled CV."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    # A few thousand rows of ~20 features: BLAS threads only fight over the cores.
    with threadpool_limits(1):
        return _fit(train, seed)


def _fit(train: Sequence[Suggestion], seed: int) -> Fitted:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    vocab, fills = vocabularies(train), fill_values(train)
    x = np.array([encode(s.features, vocab, fills) for s in train], dtype=float)
    y = np.array([s.label for s in train], dtype=int)
    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    rarer = min(y.mean(), 1 - y.mean())
    class_weight = "balanced" if rarer < IMBALANCED else None
    folds = int(min(5, np.bincount(y).min()))

    def model(c: float) -> Any:
        return LogisticRegression(C=c, class_weight=class_weight, max_iter=2000)

    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    losses = np.zeros(len(CS))
    for fit_rows, test_rows in cv.split(xs, y):
        for i, c in enumerate(CS):
            clf = model(c).fit(xs[fit_rows], y[fit_rows])
            losses[i] += log_loss(y[test_rows], clf.predict_proba(xs[test_rows]), labels=[0, 1])
    best = CS[int(np.argmin(losses))]
    clf = model(best).fit(xs, y)
    gate = Gate(
        coef=tuple(float(v) for v in clf.coef_[0]),
        intercept=float(clf.intercept_[0]),
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scaler.scale_),
        vocabularies=vocab,
        defaults=fills,
        threshold=0.5,
        info={},
    )
    return Fitted(gate, best, class_weight, folds)
