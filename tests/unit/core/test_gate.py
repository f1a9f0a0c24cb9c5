"""The gate runtime: encode's vector, the model file, and decisions in pure Python."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from codegen.core.errors import ConfigError
from codegen.core.gate import (
    CATEGORICAL_FEATURES,
    DEFAULTS,
    GATE_FORMAT,
    NUMERIC_FEATURES,
    Gate,
    encode,
    feature_names,
)
from codegen.core.usage_log import GATE_FEATURES

VOCAB = {"context_kind": ("end_of_line", "mid_line"), "language": ("python", "go", "rust")}
FEATURES = {
    "mean_logprob": -0.5,
    "min_logprob": -2.0,
    "first_margin": 1.5,
    "length_chars": 30,
    "lines": 2,
    "multiline": True,
    "context_kind": "mid_line",
    "language": "go",
    "since_keystroke_ms": 99,
    "recent_accept_rate": 0.25,
}


def model_dict(**changes) -> dict:
    names = feature_names(VOCAB)
    n = len(names)
    data = {
        "format": GATE_FORMAT,
        "features": names,
        "vocabularies": {k: list(v) for k, v in VOCAB.items()},
        "defaults": {**DEFAULTS, "mean_logprob": -1.25},
        "mean": [0.1 * i for i in range(n)],
        "scale": [1.0 + 0.5 * i for i in range(n)],
        "coef": [(-1) ** i * 0.3 * (i + 1) for i in range(n)],
        "intercept": -0.4,
        "threshold": 0.35,
        "info": {"note": "hand-made"},
    }
    data.update(changes)
    return data


def test_the_gate_sees_exactly_the_logged_features():
    assert set(NUMERIC_FEATURES) | set(CATEGORICAL_FEATURES) == set(GATE_FEATURES)


def test_encode_order_log_scaling_and_one_hot():
    vector = encode(FEATURES, VOCAB)
    assert feature_names(VOCAB)[8:] == [
        "context_kind=end_of_line", "context_kind=mid_line",
        "language=python", "language=go", "language=rust",
    ]  # fmt: skip
    assert vector == pytest.approx(
        [-0.5, -2.0, 1.5, math.log1p(30), 2, 1.0, math.log1p(99), 0.25, 0, 1, 0, 1, 0]
    )


def test_missing_and_bad_values_take_the_defaults():
    vector = encode(
        {"mean_logprob": None, "first_margin": "high", "lines": math.nan, "language": "cobol"},
        VOCAB,
        {**DEFAULTS, "mean_logprob": -1.25},
    )
    assert vector[0] == -1.25  # the model's fill value
    assert vector[2] == DEFAULTS["first_margin"]
    assert vector[3] == pytest.approx(math.log1p(DEFAULTS["length_chars"]))
    assert vector[4] == DEFAULTS["lines"]
    assert vector[8:] == [0, 0, 0, 0, 0]  # unknown language, no context kind: all zeros


def test_probability_is_the_logistic_of_the_standardised_vector():
    data = model_dict()
    gate = Gate.from_dict(data)
    odd = {
        "mean_logprob": math.nan, "min_logprob": -math.inf, "first_margin": "2", "lines": True,
        "length_chars": -5, "since_keystroke_ms": 1e12, "language": ["go"], "context_kind": None,
    }  # fmt: skip
    for features in (FEATURES, {}, {**FEATURES, "language": "rust", "context_kind": "x"}, odd):
        x = gate.encode(features)
        z = data["intercept"] + sum(
            c * (v - m) / s
            for c, v, m, s in zip(data["coef"], x, data["mean"], data["scale"], strict=True)
        )
        assert gate.probability(features) == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-12)
        assert gate.allows(features) == (gate.probability(features) >= 0.35)


def test_threshold_decides_and_extremes_do_not_overflow():
    never = Gate.from_dict(model_dict(threshold=1.0))
    always = Gate.from_dict(model_dict(threshold=0.0))
    assert not never.allows(FEATURES) and always.allows(FEATURES)
    huge = {**FEATURES, "mean_logprob": 1e308, "min_logprob": -1e308}
    assert 0.0 <= never.probability(huge) <= 1.0


def test_round_trip_through_a_file(tmp_path):
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(model_dict()))
    gate = Gate.load(path)
    assert gate.to_dict() == model_dict()
    assert Gate.from_dict(gate.to_dict()).probability(FEATURES) == gate.probability(FEATURES)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read the gate model"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps(model_dict(format="codegen.gate/0")), "this version reads codegen.gate/1"),
        (json.dumps(model_dict(coef=[1.0, 2.0])), "'coef' should be 13 numbers"),
        (json.dumps(model_dict(scale=[0.0] * 13)), "'scale' values must be positive"),
        (json.dumps(model_dict(threshold=1.5)), "'threshold' should be a number between 0 and 1"),
        (json.dumps(model_dict(features=["mean_logprob"])), "do not match its vocabularies"),
        (json.dumps(model_dict(vocabularies={"language": [1]})), "list of strings"),
    ],
)
def test_corrupt_files_are_config_errors(tmp_path, content, message):
    path = tmp_path / "gate.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="gate model") as err:
        Gate.load(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="no gate model at .*codegen-train gate"):
        Gate.load(tmp_path / "nope.json")


def test_decision_path_imports_neither_numpy_nor_sklearn():
    code = (
        "import sys; from codegen.core.gate import Gate; "
        "print(sorted(m for m in ('numpy', 'sklearn', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
