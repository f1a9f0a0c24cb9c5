"""``codegen-train sft``'s budget: fixed steps reproduce, and the clock is only a safety net."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from codegen.training.sft.schedule import RunClock
from codegen.training.sft.train import train_sft


def test_the_same_steps_on_the_same_data_print_the_same_figures(
    tiny_model_dir: Path,
    sft_data_dir: Path,
    tmp_path: Path,
    fast_sft_config,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs = []
    for name in ("first", "second"):
        # A generous safety net beside --max-steps must not change what is trained.
        meta = train_sft(
            fast_sft_config(tiny_model_dir, sft_data_dir, tmp_path / name, max_minutes=30)
        )
        printed = [
            line for line in capsys.readouterr().err.splitlines() if "FIM exact match" in line
        ]
        runs.append((meta["metrics"], printed))
    (first, first_lines), (second, second_lines) = runs
    assert first["evaluations"] == second["evaluations"]  # FIM exact match and eval loss
    assert first["stopped_by"] == "max_steps" and not first["safety_net_hit"]
    assert [line.replace("second", "first") for line in second_lines] == first_lines
    a = load_file(str(tmp_path / "first" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "second" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(a[k].equal(b[k]) for k in a)


def test_the_safety_net_ends_a_step_planned_run_and_says_so(
    tiny_model_dir: Path,
    sft_data_dir: Path,
    tmp_path: Path,
    fast_sft_config,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clock that advances one second each time it is read (once per step), so the
    # net ends the run after the same few steps however busy the machine is.
    reads = iter(range(1, 10_000))
    monkeypatch.setattr(RunClock, "elapsed", lambda self: float(next(reads)))
    out = tmp_path / "cut"
    config = fast_sft_config(
        tiny_model_dir,
        sft_data_dir,
        out,
        max_steps=500,
        eval_every=500,
        max_minutes=6 / 60,
        warmup=0.0,
    )
    meta = train_sft(config)
    metrics = meta["metrics"]
    assert metrics["stopped_by"] == "max_minutes" and metrics["safety_net_hit"] is True
    assert 0 < metrics["steps"] < 500 and metrics["planned_steps"] == 500
    saved = json.loads((out / "codegen.json").read_text())["metrics"]
    assert saved["safety_net_hit"] is True
    err = capsys.readouterr().err
    assert "warning: the --max-minutes 0.1 safety net stopped training" in err
