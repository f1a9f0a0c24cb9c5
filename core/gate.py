"""The show/no-show gate: should a suggestion the model wrote reach the user at all?

``codegen-train gate`` fits a logistic regression on the acceptance log (did the user
take the suggestion and keep it) and writes its weights as JSON. The server reads that
file with :meth:`Gate.load` and asks :meth:`Gate.allows` before it shows a suggestion.
Nothing here imports numpy or scikit-learn: a decision is a few dozen float operations
in pure Python (microseconds), cheap beside the model call it follows.

The features are :data:`~codegen.core.usage_log.GATE_FEATURES`, all known before the
suggestion is shown. :func:`encode` turns them into the vector the model was trained on,
in this order: the numeric features (:data:`NUMERIC_FEATURES`; the two heavy-tailed
ones, ``length_chars`` and ``since_keystroke_ms``, as ``log1p``), then a one-hot of
``context_kind``, then a one-hot of ``language``, each over the vocabulary stored in
the model file (a value outside it is all zeros). A missing or non-numeric value takes
the model file's default (the training data's median), or :data:`DEFAULTS`; values
are clipped to +-:data:`CLIP`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .usage_log import CONTEXT_KINDS

GATE_FORMAT = "codegen.gate/1"
NUMERIC_FEATURES = (
    "mean_logprob",
    "min_logprob",
    "first_margin",
    "length_chars",
    "lines",
    "multiline",
    "since_keystroke_ms",
    "recent_accept_rate",
)
CATEGORICAL_FEATURES = ("context_kind", "language")
LOG_SCALED = frozenset({"length_chars", "since_keystroke_ms"})
"""Heavy-tailed counts the model sees as ``log1p(value)``."""
DEFAULTS: dict[str, float] = {
    "mean_logprob": -1.0,
    "min_logprob": -3.0,
    "first_margin": 1.0,
    "length_chars": 20.0,
    "lines": 1.0,
    "multiline": 0.0,
    "since_keystroke_ms": 300.0,
    "recent_accept_rate": 0.5,
}
"""Fill values for a missing feature when the model file has none (raw units)."""
DEFAULT_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "context_kind": CONTEXT_KINDS,
    "language": ("python", "javascript", "typescript", "go", "rust"),
}


def as_number(value: Any, default: float) -> float:
    """``value`` as a finite float (bools count as 0/1), else ``default``."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else default
    return default


CLIP = 1e9
"""Numeric features are clipped to +-CLIP, so no input can overflow a decision."""


def _numeric(features: Mapping[str, Any], name: str, default: float) -> float:
    value = min(max(as_number(features.get(name), default), -CLIP), CLIP)
    return math.log1p(max(value, 0.0)) if name in LOG_SCALED else value


def feature_names(vocabularies: Mapping[str, Sequence[str]] = DEFAULT_VOCABULARIES) -> list[str]:
    """The name of each position of :func:`encode`'s vector (``language=python``, ...)."""
    names = list(NUMERIC_FEATURES)
    for cat in CATEGORICAL_FEATURES:
        names.extend(f"{cat}={value}" for value in vocabularies.get(cat, ()))
    return names


def encode(
    features: Mapping[str, Any],
    vocabularies: Mapping[str, Sequence[str]] = DEFAULT_VOCABULARIES,
    defaults: Mapping[str, float] = DEFAULTS,
) -> list[float]:
    """The model's input vector for one suggestion's ``features`` (see the module doc)."""
    vector = [_numeric(features, n, defaults.get(n, DEFAULTS[n])) for n in NUMERIC_FEATURES]
    for cat in CATEGORICAL_FEATURES:
        value = features.get(cat)
        vector.extend(1.0 if value == option else 0.0 for option in vocabularies.get(cat, ()))
    return vector


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _floats(data: Mapping[str, Any], key: str, n: int | None) -> list[float]:
    values = data.get(key)
    if not isinstance(values, list) or (n is not None and len(values) != n):
        want = f"{n} numbers" if n is not None else "a list of numbers"
        raise ValueError(f"{key!r} should be {want}")
    out = [as_number(v, math.nan) for v in values]
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{key!r} holds a value that is not a finite number")
    return out


@dataclass(frozen=True)
class Gate:
    """A logistic regression over standardised :func:`encode` vectors, and its threshold."""

    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    vocabularies: Mapping[str, tuple[str, ...]]
    defaults: Mapping[str, float]
    threshold: float
    info: Mapping[str, Any]
    """What the trainer recorded (data, held-out figures); not used to decide."""
    _numeric_terms: tuple[tuple[str, float, float, bool], ...] = field(
        init=False, repr=False, compare=False
    )
    _category_weights: tuple[tuple[str, dict[str, float]], ...] = field(
        init=False, repr=False, compare=False
    )
    _bias: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fold the standardisation into the weights: z = b' + sum(w'_i x_i), and keep a
        # weight per category value so a decision never builds the one-hot vector.
        n = len(NUMERIC_FEATURES)
        weights = [c / s for c, s in zip(self.coef, self.scale, strict=True)]
        shifts = zip(self.coef, self.mean, self.scale, strict=True)
        bias = self.intercept - sum(c * m / s for c, m, s in shifts)
        fills = [self.defaults.get(k, DEFAULTS[k]) for k in NUMERIC_FEATURES]
        logged = [k in LOG_SCALED for k in NUMERIC_FEATURES]
        terms = tuple(zip(NUMERIC_FEATURES, weights[:n], fills, logged, strict=True))
        object.__setattr__(self, "_numeric_terms", terms)
        object.__setattr__(self, "_bias", bias)
        lookups: list[tuple[str, dict[str, float]]] = []
        at = n
        for cat in CATEGORICAL_FEATURES:
            vocab = self.vocabularies.get(cat, ())
            lookups.append((cat, dict(zip(vocab, weights[at : at + len(vocab)], strict=True))))
            at += len(vocab)
        object.__setattr__(self, "_category_weights", tuple(lookups))

    @classmethod
    def load(cls, path: str | Path) -> Gate:
        """Read a ``codegen-train gate`` model file; :class:`ConfigError` if it is missing
        or not a valid gate file."""
        path = Path(path).expanduser()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"no gate model at {path}; train one with codegen-train gate"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ConfigError(f"cannot read the gate model {path}: {err}") from None
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError, KeyError) as err:
            raise ConfigError(f"{path} is not a valid gate model: {err}") from None

    @classmethod
    def from_dict(cls, data: Any) -> Gate:
        if not isinstance(data, dict):
            raise ValueError("the file is not a JSON object")
        if data.get("format") != GATE_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, this version reads {GATE_FORMAT}")
        raw_vocab = data.get("vocabularies")
        if not isinstance(raw_vocab, dict):
            raise ValueError("'vocabularies' should be an object")
        vocabularies = {}
        for cat in CATEGORICAL_FEATURES:
            values = raw_vocab.get(cat, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"vocabulary {cat!r} should be a list of strings")
            vocabularies[cat] = tuple(values)
        names = feature_names(vocabularies)
        if data.get("features") != names:
            raise ValueError("its 'features' do not match its vocabularies and this version")
        n = len(names)
        coef, mean, scale = (_floats(data, k, n) for k in ("coef", "mean", "scale"))
        if any(s <= 0 for s in scale):
            raise ValueError("'scale' values must be positive")
        intercept = as_number(data.get("intercept"), math.nan)
        threshold = as_number(data.get("threshold"), math.nan)
        if not math.isfinite(intercept):
            raise ValueError("'intercept' should be a number")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("'threshold' should be a number between 0 and 1")
        raw_defaults = data.get("defaults", {})
        if not isinstance(raw_defaults, dict):
            raise ValueError("'defaults' should be an object")
        defaults = {k: as_number(raw_defaults.get(k), DEFAULTS[k]) for k in NUMERIC_FEATURES}
        info = data.get("info", {})
        return cls(
            tuple(coef), intercept, tuple(mean), tuple(scale), vocabularies, defaults,
            threshold, info if isinstance(info, dict) else {},
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": GATE_FORMAT,
            "features": feature_names(self.vocabularies),
            "vocabularies": {k: list(v) for k, v in self.vocabularies.items()},
            "defaults": dict(self.defaults),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "threshold": self.threshold,
            "info": dict(self.info),
        }

    def encode(self, features: Mapping[str, Any]) -> list[float]:
        """:func:`encode` with this model's vocabularies and defaults."""
        return encode(features, self.vocabularies, self.defaults)

    def probability(self, features: Mapping[str, Any]) -> float:
        """The model's probability that the user takes the suggestion and keeps it.

        Equal to the logistic of the standardised :meth:`encode` vector, computed
        without building it (this runs before every suggestion is shown)."""
        get = features.get
        z = self._bias
        for name, weight, fill, logged in self._numeric_terms:
            value: Any = get(name)
            kind = type(value)
            if (kind is not float and kind is not int) or not -CLIP <= value <= CLIP:
                value = min(max(as_number(value, fill), -CLIP), CLIP)  # NaN, bool, None, ...
            if logged:
                value = math.log1p(value) if value > 0 else 0.0
            z += weight * value
        for cat, weights in self._category_weights:
            value = get(cat)
            if type(value) is str:
                z += weights.get(value, 0.0)
        return _sigmoid(z)

    def allows(self, features: Mapping[str, Any]) -> bool:
        """Show the suggestion: its probability is at least the threshold."""
        return self.probability(features) >= self.threshold
