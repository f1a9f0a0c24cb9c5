"""``codegen-train sft`` end to end on a tiny random model: output, refusal, resume, CLI errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from codegen.core.transformers_engine import load_engine
from codegen.training.cli import main as train_main
from codegen.training.sft.model import EmptyAdapterError
from codegen.training.sft.train import train_sft

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")


def _adapter_weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(str(out / "adapter_model.safetensors"))


def test_sft_writes_an_adapter_the_engine_loads(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, fast_sft_config
) -> None:
    out = tmp_path / "adapter"
    meta = train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, out))
    saved = json.loads((out / "codegen.json").read_text())
    assert saved["base_model"] == str(tiny_model_dir)
    assert saved["fim_format"] == "tiny"
    assert len(saved["data_manifest_sha256"]) == 64
    assert saved["base_revision"] is None  # a local directory has no hub commit
    metrics = saved["metrics"]
    assert metrics["base"]["eval_loss"] > 0 and metrics["adapter"]["eval_loss"] > 0
    assert metrics["adapter"]["eval_loss"] < metrics["base"]["eval_loss"]
    assert metrics["fim_eval_cases"] == 2 and metrics["steps"] == 4
    assert saved["data_stats"]["train"]["examples"] == 30
    assert meta["packing_boundary"] == "position_ids"
    assert (out / "checkpoints" / "run.json").is_file()

    engine = load_engine(str(tiny_model_dir), adapter=str(out), device="cpu")
    assert engine.info()["adapter"] is not None
    # The adapter changes the model's predictions.
    with torch.no_grad():
        ids = torch.tensor([engine.encode("def settle(folio):\n")])
        tuned = engine.model(input_ids=ids).logits
        with engine.model.disable_adapter():
            base = engine.model(input_ids=ids).logits
    assert (tuned - base).abs().max() > 1e-4
    # A small base gets its embeddings and output head trained too (copies in the adapter).
    assert saved["training"]["embeddings_trained"] is True
    extra = {k for k in _adapter_weights(out) if "lora_" not in k}
    assert extra == {
        "base_model.model.lm_head.weight",
        "base_model.model.model.embed_tokens.weight",
    }
    # ...while the base itself stays untouched: with the adapter off, logits are the base's.
    from transformers import AutoModelForCausalLM

    pristine = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        assert torch.allclose(pristine(input_ids=ids).logits, base, atol=1e-5)


def test_train_embeddings_no_keeps_the_adapter_lora_only(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, fast_sft_config
) -> None:
    out = tmp_path / "lora-only"
    train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, out, train_embeddings="no"))
    assert all("lora_" in k for k in _adapter_weights(out))
    assert json.loads((out / "codegen.json").read_text())["training"]["embeddings_trained"] is False


def test_sft_refuses_to_save_an_empty_adapter(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, fast_sft_config
) -> None:
    out = tmp_path / "empty"
    with pytest.raises(EmptyAdapterError, match="nothing to save"):
        train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, out, lr=0.0, max_steps=2))
    assert not (out / "adapter_config.json").exists()


_CRASHING_RUN = """
import sys, time
from transformers import TrainerCallback
sys.path.insert(0, {conftest_dir!r})
from conftest import fast_config
from codegen.training.sft.train import train_sft

class Slow(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        time.sleep(0.7)  # leaves time to kill -9 the process mid-run

train_sft(fast_config({base!r}, {data!r}, {out!r}, max_steps=6), extra_callbacks=[Slow()])
"""


def test_resume_after_kill_matches_uninterrupted_run(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, fast_sft_config
) -> None:
    straight = tmp_path / "straight"
    train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, straight, max_steps=6))

    crashed = tmp_path / "crashed"
    script = _CRASHING_RUN.format(
        conftest_dir=str(Path(__file__).parent),
        base=str(tiny_model_dir),
        data=str(sft_data_dir),
        out=str(crashed),
    )
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
    state = crashed / "checkpoints" / "checkpoint-2" / "trainer_state.json"
    deadline = time.monotonic() + 240
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.exists(), proc.stderr.read().decode()[-2000:] if proc.stderr else ""
    assert not (crashed / "adapter_config.json").exists()  # it really died mid-run

    train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, crashed, max_steps=6, resume=True))
    a, b = _adapter_weights(straight), _adapter_weights(crashed)
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-6)
    resumed = json.loads((crashed / "codegen.json").read_text())["metrics"]
    assert resumed["base"] is not None  # the step-0 evaluation survived the crash


def test_resume_refuses_changed_options(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, fast_sft_config
) -> None:
    from codegen.training.sft.train import RunStateError

    out = tmp_path / "run"
    train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, out, max_steps=2))
    with pytest.raises(RunStateError, match="already holds a run"):
        train_sft(fast_sft_config(tiny_model_dir, sft_data_dir, out, max_steps=2))
    with pytest.raises(RunStateError, match="lr"):
        train_sft(
            fast_sft_config(tiny_model_dir, sft_data_dir, out, max_steps=2, lr=1e-2, resume=True)
        )


def test_cli_reports_user_errors_in_one_line(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    code = train_main(
        ["sft", "--base", str(tiny_model_dir), "--data", str(missing), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "codegen-train: error: --data" in err and "codegen-train data" in err
    assert "Traceback" not in err

    code = train_main(
        [
            "sft",
            "--base",
            str(tmp_path / "no-model"),
            "--data",
            str(sft_data_dir),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "no such model directory" in err

    code = train_main(
        [
            "merge",
            "--base",
            str(tiny_model_dir),
            "--adapter",
            str(missing),
            "--out",
            str(tmp_path / "m"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "no such adapter directory" in err


def test_data_then_sft_on_the_sample_repository(
    tiny_model_dir: Path, tmp_path: Path, fast_sft_config
) -> None:
    import argparse

    from codegen.training.data.cli import add_data_arguments, run_data

    repo = TESTS / "fixtures" / "sample_repo"
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    data = tmp_path / "data"
    assert (
        run_data(parser.parse_args(["--source", str(repo), "--out", str(data), "--no-progress"]))
        == 0
    )
    out = tmp_path / "adapter"
    meta = train_sft(fast_sft_config(tiny_model_dir, data, out, max_steps=2, seq_len=256))
    stats = meta["data_stats"]["train"]
    assert stats["examples"] == stats["kept"] + stats["dropped"]
    assert meta["metrics"]["fim_eval_cases"] == 2
    assert (out / "adapter_model.safetensors").is_file()


def test_qlora_trains_on_cpu_and_merges_into_the_full_precision_base(
    tiny_model_dir: Path, sft_data_dir: Path, tmp_path: Path, fast_sft_config, bnb_cpu_packed_path
) -> None:
    """With bitsandbytes' AVX512-BF16 packed CPU path forced on and off (tests/model/conftest.py)."""
    from transformers import AutoModelForCausalLM

    from codegen.training.merge import merge_adapter

    out = tmp_path / "qlora"
    meta = train_sft(
        fast_sft_config(tiny_model_dir, sft_data_dir, out, quantize="4bit", max_steps=2)
    )
    assert meta["quantize"] == "4bit"
    assert bnb_cpu_packed_path.repacked == []  # training keeps the inference-only path off
    merged_dir = tmp_path / "merged"
    merge_adapter(str(tiny_model_dir), str(out), str(merged_dir), device="cpu")
    merged = AutoModelForCausalLM.from_pretrained(merged_dir)
    assert merged.dtype == torch.float32
    assert getattr(merged.config, "quantization_config", None) is None
