"""The closed loop on a tiny real model: an acceptance log in, an adapter that completes
the held-out files better out.

The log (``tests/fixtures/repo_usage_log.py``) is a user completing the fixture
repository's library with suggestions: one kept suggestion per place where one of the
repository's idioms comes next (a few hundred), plus rejected, deleted, shown-only and
unmeasured ones at other places. ``codegen-train data --source LOG`` turns the kept ones
into FIM examples split by file; ``codegen-train sft`` trains a random tiny model on
them for a fixed step budget. Its evaluation at step 0 measures the base and its last
one the adapter, on the same held-out holes: the kept suggestions of files it never
trained on. Both figures are printed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from codegen.training.cli import main as train_main

FIXTURES = next(p for p in Path(__file__).resolve().parents if p.name == "tests") / "fixtures"
sys.path.insert(0, str(FIXTURES))
import repo_usage_log  # noqa: E402

STEPS = 80


@pytest.fixture
def one_thread():
    """Tiny matrices: one thread is as fast, and far faster on a machine shared by jobs."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def code_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny Llama whose tokenizer, like a real code model's, was trained on code
    (the library's files), so a line is a handful of tokens."""
    from codegen.core.builtin.tiny import make_random_model

    texts = [p.read_text() for p in repo_usage_log.library_files()]
    return make_random_model(tmp_path_factory.mktemp("code-model"), texts=texts, seed=0)


@pytest.mark.slow
def test_an_adapter_trained_on_kept_suggestions_completes_held_out_files_better(
    code_model: Path, tmp_path: Path, one_thread: None, capsys: pytest.CaptureFixture[str]
) -> None:
    records, plan = repo_usage_log.repo_log_records(seed=0)
    assert plan["retained"] >= 300 and all(plan[k] > 0 for k in ("rejected", "deleted"))
    log = repo_usage_log.write_log(tmp_path / "acceptance.jsonl", records)
    data, adapter = tmp_path / "data", tmp_path / "adapter"
    code = train_main(
        ["data", "--source", str(log), "--out", str(data), "--no-progress"]
        + ["--window-chars", "400", "--eval-fraction", "0.25"]
    )
    assert code == 0
    stats = json.loads((data / "stats.json").read_text())
    assert stats["log"]["reasons"] == {
        "log_retained_example": plan["retained"],
        "log_rejected": plan["rejected"],
        "log_deleted": plan["deleted"],
        "log_shown_only": plan["shown_only"],
        "log_unmeasured": plan["unmeasured"],
    }
    examples = stats["log"]["examples"]
    assert examples["train"] + examples["eval"] == plan["retained"] and examples["eval"] >= 30
    manifest = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()]
    splits = Counter((row["path"], row["split"]) for row in manifest if row["accepted"])
    train_files = {path for path, split in splits if split == "train"}
    eval_files = {path for path, split in splits if split == "eval"}
    assert eval_files and not train_files & eval_files

    code = train_main(
        ["sft", "--base", str(code_model), "--data", str(data), "--out", str(adapter)]
        + ["--max-steps", str(STEPS), "--eval-every", str(STEPS), "--seq-len", "192"]
        + ["--batch-size", "4", "--lora-r", "8", "--lora-alpha", "16"]
        + ["--fim-eval-examples", "64", "--eval-examples", "16", "--device", "cpu"]
        + ["--no-progress"]
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    metrics = json.loads((adapter / "codegen.json").read_text())["metrics"]
    evaluations = {e["step"]: e for e in metrics["evaluations"]}
    base, tuned = evaluations[0]["fim_em"], evaluations[STEPS]["fim_em"]
    assert metrics["fim_eval_cases"] == examples["eval"]  # every held-out suggestion
    with capsys.disabled():
        print(
            f"\nFIM exact match on {metrics['fim_eval_cases']} held-out kept suggestions "
            f"({len(eval_files)} files): base {base:.3f}, adapter {tuned:.3f}"
        )
    assert tuned > base
    assert tuned >= base + 0.2  # a clear gain, not one lucky hole
