"""Pure parts of the engine: stop rules, prefix matching, the fake engine, model specs."""

from __future__ import annotations

import pytest

from codegen.core.engine import CancelToken, FakeEngine, GenerationConfig, apply_stop_rules
from codegen.core.errors import ConfigError, ModelLoadError
from codegen.core.model import resolve_model_path
from codegen.core.transformers_engine import common_prefix_length


def test_stop_strings_cut_at_the_earliest_match() -> None:
    cfg = GenerationConfig(stop=["\ndef", "\nclass"])
    assert apply_stop_rules("x = 1\nclass A:\ndef f", cfg) == ("x = 1", True)
    assert apply_stop_rules("x = 1", cfg) == ("x = 1", False)


def test_stop_callable_cuts_where_it_says() -> None:
    cfg = GenerationConfig(stop_fn=lambda text: text.find("\n\n") if "\n\n" in text else None)
    assert apply_stop_rules("a\nb\n\nc", cfg) == ("a\nb", True)


def test_common_prefix_length() -> None:
    assert common_prefix_length([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix_length([], [1]) == 0
    assert common_prefix_length([1, 2], [1, 2, 3]) == 2


def test_fake_engine_honours_cancellation() -> None:
    engine = FakeEngine(reply="abc", delay_per_token_s=0.001)
    token = CancelToken()
    token.cancel()
    result = engine.generate("p", GenerationConfig(), token)
    assert result.finish_reason == "cancelled" and result.text == ""


def test_model_spec_errors_are_one_line(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="no such model directory"):
        resolve_model_path(str(tmp_path / "missing" / "model"))
    with pytest.raises(ModelLoadError, match="no config.json"):
        resolve_model_path(str(tmp_path))
    with pytest.raises(ModelLoadError, match="unknown builtin"):
        resolve_model_path("builtin:huge")
    assert resolve_model_path("Qwen/Qwen2.5-Coder-1.5B") == "Qwen/Qwen2.5-Coder-1.5B"


def test_bad_device_and_quantize() -> None:
    from codegen.core.model import load_model

    with pytest.raises(ConfigError, match="unknown device"):
        load_model("x", device="tpu")
    with pytest.raises(ConfigError, match="unknown quantize"):
        load_model("x", quantize="3bit", device="cpu")
