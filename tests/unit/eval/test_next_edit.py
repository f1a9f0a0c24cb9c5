"""``codegen-eval next-edit``: the verdict of one prediction, and a whole run over a real
``codegen-train data --tasks next-edit`` directory with engines whose answers are known."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.core.edit_prediction import EditContext, EditEvent, get_edit_format
from codegen.core.engine import FakeEngine, GenerationConfig, GenerationResult
from codegen.core.errors import ConfigError
from codegen.eval.cli import main as eval_main
from codegen.eval.compare import compare_runs, load_run, render_table
from codegen.eval.next_edit import (
    load_cases,
    read_prediction,
    run_next_edit,
    score_case,
    touched_lines,
)

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")
sys.path.insert(0, str(TESTS / "fixtures"))
import next_edit_repo  # noqa: E402

REGION = "def area(w, height):\n    check(width)\n    return width * height\n"
TARGET = "def area(w, height):\n    check(w)\n    return width * height\n"
EVENT = EditEvent("geo.py", "def area(width, height):\n", "def area(w, height):\n", 0)
CTX = EditContext("geo.py", REGION, 0, len(REGION), 0, [EVENT])


def test_verdicts() -> None:
    assert score_case(CTX, TARGET, TARGET)["result"] == "exact match"
    assert score_case(CTX, TARGET, TARGET)["passed"] is True
    right_place = score_case(CTX, TARGET, REGION.replace("check(width)", "check(h)"))
    assert right_place["result"] == "right place" and right_place["location"]
    assert not right_place["passed"]
    wrong_place = score_case(CTX, TARGET, REGION.replace("return width", "return w"))
    assert wrong_place["result"] == "wrong place" and not wrong_place["location"]
    # The right line among others is not the right place: rewriting everything is no aim.
    everywhere = score_case(CTX, TARGET, TARGET.replace("return width", "return w"))
    assert everywhere["result"] == "wrong place" and not everywhere["location"]
    assert score_case(CTX, TARGET, REGION)["result"] == "no edit"
    assert score_case(CTX, TARGET, None)["result"] == "malformed"
    # Undoing the user's rename is a reversal (and at the wrong place).
    undo = score_case(CTX, TARGET, REGION.replace("area(w,", "area(width,"))
    assert undo["reversal"] and undo["result"] == "wrong place"
    assert not score_case(CTX, TARGET, TARGET)["reversal"]


def test_touched_lines_and_reading_a_continuation() -> None:
    from codegen.core.edit_prediction import TextEdit

    assert touched_lines("a\nb\nc\n", [TextEdit(2, 3, "x")]) == {1}
    assert touched_lines("a\nb\nc\n", [TextEdit(2, 2, "new\n")]) == {1}  # an insertion
    assert touched_lines("a\nb\nc\n", [TextEdit(0, 4, "")]) == {0, 1}
    fmt = get_edit_format("codegen")
    assert read_prediction(GenerationResult(TARGET, "stop"), fmt, CTX) == TARGET
    assert read_prediction(GenerationResult(TARGET, "eos"), fmt, CTX) == TARGET
    assert read_prediction(GenerationResult(TARGET[:10], "length"), fmt, CTX) is None


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path_factory.mktemp("next-edit")
    repo = next_edit_repo.build_repository(root / "repo", commits=30, modules=3, functions=3)
    out = root / "data"
    subprocess.run(
        [sys.executable, "-m", "codegen.training.cli", "data", "--source", str(repo.root),
         "--out", str(out), "--tasks", "next-edit", "--eval-fraction", "0.3", "--no-progress",
         "--no-humaneval", "--next-edit-lines-before", "0", "--next-edit-lines-after", "2"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return out


class Oracle(FakeEngine):
    """Rewrites each region as the developer did (``answers``: region -> text), or leaves
    it as it was, or undoes the last event, for the prompts of one run."""

    def __init__(self, cases: list[dict], mode: str) -> None:
        super().__init__()
        self.by_prompt: dict[str, str] = {}
        fmt = get_edit_format("codegen", self.fim)
        from codegen.eval.next_edit import case_context

        for case in cases:
            ctx = case_context(case)
            if mode == "truth":
                answer = case["target"]
            elif mode == "unchanged":
                answer = case["region"]
            else:  # undo the most recent edit where it shows
                last = case["events"][-1]
                answer = case["region"].replace(last["new"], last["old"], 1)
            self.by_prompt[fmt.prompt(ctx)] = answer

    def generate(self, prompt: str, config: GenerationConfig, cancel=None) -> GenerationResult:
        self.calls += 1
        return GenerationResult(self.by_prompt[prompt], "eos")


def test_a_run_scores_the_truth_the_unchanged_region_and_undoing(data_dir: Path, tmp_path: Path):
    cases, config = load_cases(data_dir)
    assert config["lines_before"] == 0 and config["lines_after"] == 2
    assert {c["split"] for c in cases} == {"eval"}
    truth = run_next_edit(Oracle(cases, "truth"), data_dir, tmp_path / "truth", 160, None, {})
    assert truth["exact_match"] == 1.0 and truth["location_accuracy"] == 1.0
    assert truth["no_edit_rate"] == 0.0 and truth["reversal_ratio"] == 0.0
    assert truth["tasks"] == len(cases)
    same = run_next_edit(Oracle(cases, "unchanged"), data_dir, tmp_path / "same", 160, None, {})
    assert same["exact_match"] == 0.0 and same["no_edit_rate"] == 1.0
    undo = run_next_edit(Oracle(cases, "undo"), data_dir, tmp_path / "undo", 160, None, {})
    assert undo["reversal_ratio"] > 0.5 and undo["exact_match"] == 0.0
    rows = [json.loads(line) for line in (tmp_path / "truth" / "results.jsonl").open()]
    assert {r["result"] for r in rows} == {"exact match"}
    assert all(r["passed"] and r["task_id"] for r in rows)
    metrics = json.loads((tmp_path / "truth" / "metrics.json").read_text())
    assert metrics["config"]["next_edit"]["lines_after"] == 2
    assert set(metrics["by_held_out"]) <= {"commit", "file"}
    assert "| exact_match | 1.0000 |" in (tmp_path / "truth" / "report.md").read_text()
    # compare puts two runs side by side, every rate included.
    table = render_table(compare_runs(load_run(tmp_path / "same"), load_run(tmp_path / "truth")))
    for rate in ("exact_match", "location_accuracy", "no_edit_rate", "reversal_ratio"):
        assert f"| {rate} |" in table
    assert f"Tasks gained ({len(cases)})" in table


def test_the_eval_sends_the_prompts_the_adapter_was_trained_on(data_dir: Path) -> None:
    """On the data's FIM format, the prompt the eval builds from a case row, and the
    target it scores against, are the dataset row's prompt and completion."""
    from datasets import load_from_disk

    from codegen.core.fim import get_fim_format
    from codegen.eval.next_edit import case_context

    fmt = get_edit_format("codegen", get_fim_format("tiny"))
    dataset = load_from_disk(str(data_dir / "dataset"))
    for split in ("train", "eval"):
        rows = {(r["prompt"], r["completion"]) for r in dataset[split] if r["task"] == "next-edit"}
        cases, _ = load_cases(data_dir, split)
        built = {(fmt.prompt(case_context(c)), fmt.target(c["target"])) for c in cases}
        assert built == rows and len(cases) == len(rows)


def test_a_junk_answer_is_malformed_or_wrong(data_dir: Path, tmp_path: Path):
    junk = run_next_edit(FakeEngine(reply="zzz"), data_dir, tmp_path / "junk", 160, 5, {})
    assert junk["tasks"] == 5 and junk["exact_match"] == 0.0
    # FakeEngine's 8 pieces end without a stop string: the budget ran out -> malformed.
    assert junk["malformed_rate"] == 1.0


def test_cli_errors(data_dir: Path, tmp_path: Path, capsys):
    with pytest.raises(ConfigError, match="--tasks next-edit"):
        load_cases(tmp_path)
    assert eval_main(["next-edit", "--model", "no/such-model", "--data", str(tmp_path),
                      "--out", str(tmp_path / "o")]) == 2  # fmt: skip
    assert "no next_edit.jsonl" in capsys.readouterr().err
    assert eval_main(["next-edit", "--model", "no/such-model", "--data", str(data_dir),
                      "--out", str(tmp_path / "o"), "--temperature", "0.5"]) == 2  # fmt: skip
    assert "greedily" in capsys.readouterr().err
