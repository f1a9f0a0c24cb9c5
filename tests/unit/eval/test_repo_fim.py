"""Repository FIM exact match over a real `codegen-train data` output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.core.engine import FakeEngine, GenerationConfig, GenerationResult
from codegen.core.errors import ConfigError
from codegen.core.fim import get_fim_format
from codegen.eval.compare import compare_runs, load_run
from codegen.eval.repo_fim import load_fim_rows, run_repo_fim

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")

FIXTURE = TESTS / "fixtures" / "sample_repo"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "d"
    subprocess.run(
        [sys.executable, "-m", "codegen.training.cli", "data", "--source", str(FIXTURE),
         "--out", str(out), "--eval-fraction", "0.2", "--no-progress"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return out


class OracleEngine(FakeEngine):
    """Answers every hole with the true middle: an upper bound the metric must reach."""

    def __init__(self, answers: dict[str, str]) -> None:
        super().__init__()
        self.answers = answers

    def generate(self, prompt: str, config: GenerationConfig, cancel=None) -> GenerationResult:
        return GenerationResult(self.answers[prompt], "stop")


def test_exact_match_is_one_for_the_truth_and_zero_for_junk(data_dir: Path, tmp_path: Path):
    rows, fmt = load_fim_rows(data_dir)
    assert fmt == "tiny" and all(r["split"] == "eval" for r in rows)
    oracle = OracleEngine({r["prompt"]: get_fim_format("tiny").middle_of(r["completion"])
                           for r in rows})  # fmt: skip
    # The oracle's reply carries the EOT sentinel; the engine's stop rules would cut it,
    # so strip it the way a real engine does.
    oracle.generate = lambda p, c, cancel=None, g=oracle.generate: (  # type: ignore[method-assign]
        GenerationResult(g(p, c).text.split("<|endoftext|>")[0], "stop")
    )
    good = run_repo_fim(oracle, data_dir, tmp_path / "good", 64, None, {})
    bad = run_repo_fim(FakeEngine(reply="zzz"), data_dir, tmp_path / "bad", 64, None, {})
    assert good["exact_match"] == 1.0 and bad["exact_match"] == 0.0
    assert good["tasks"] == len(rows)
    first = json.loads((tmp_path / "good" / "results.jsonl").read_text().splitlines()[0])
    assert first["passed"] is True and first["task_id"].endswith("#0")
    cmp = compare_runs(load_run(tmp_path / "bad"), load_run(tmp_path / "good"))
    assert ("exact_match", 0.0, 1.0) in cmp.rows
    assert len(cmp.gained) == len(rows) and cmp.lost == []


def test_not_a_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a codegen-train data directory"):
        load_fim_rows(tmp_path)
