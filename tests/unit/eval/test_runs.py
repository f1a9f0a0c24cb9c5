"""Generation (resumable, with a fake engine), infill task building, compare, and the
launcher's promise never to empty a directory it did not mount."""

import json
import os

from codegen.core.engine import FakeEngine
from codegen.eval.cli import main
from codegen.eval.compare import compare_runs, load_run, render_table
from codegen.eval.generate import GenerationPlan, generate_missing, get_profile, read_done
from codegen.eval.infill import build_infill_tasks, task_counts
from codegen.eval.problems import load_problems
from codegen.eval.sandbox.launcher import _wipe_private_tmp


class CountingEngine(FakeEngine):
    def generate(self, prompt, config, cancel=None):
        self.prompts = getattr(self, "prompts", []) + [prompt]
        return super().generate(prompt, config, cancel)


def test_generation_is_resumable_and_applies_stops(tmp_path):
    problems = list(load_problems().values())[:3]
    path = tmp_path / "generations.jsonl"
    profile = get_profile("humaneval")
    engine = CountingEngine(reply="    return 1\ndef extra():\n    pass\n")
    rows = generate_missing(engine, problems, GenerationPlan(n=2), profile, path)
    assert engine.calls == 6
    assert rows[0]["completion"] == "    return 1"  # cut at "\ndef "
    assert engine.prompts[0] == problems[0].prompt
    # Simulate an interruption: drop the last two rows and tear the last line.
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:4]) + "\n" + lines[4][:10])
    assert len(read_done(path)) == 4
    again = CountingEngine(reply="    return 2\n")
    rows = generate_missing(again, problems, GenerationPlan(n=2), profile, path)
    assert again.calls == 2
    assert [r["index"] for r in rows] == [0, 1] * 3
    assert len(read_done(path)) == 6


def test_infill_tasks_are_deterministic_and_counted():
    problems = list(load_problems().values())
    first = build_infill_tasks(problems, seed=0)
    assert [t.middle for t in first] == [t.middle for t in build_infill_tasks(problems, seed=0)]
    assert task_counts(first) == {"single": 164, "multi": 106}
    for task in first:
        assert task.prefix + task.middle + task.suffix == task.problem.canonical_solution
        assert task.middle.strip()
        lines = task.middle.count("\n") + 1
        assert (lines == 1) if task.mode == "single" else (lines >= 2)


def _write_run(directory, rows, metrics):
    directory.mkdir()
    (directory / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (directory / "metrics.json").write_text(json.dumps(metrics))


def test_compare_table_gains_losses_and_plot(tmp_path, capsys):
    row = lambda t, p: {"task_id": t, "completion": "", "passed": p, "result": ""}  # noqa: E731
    _write_run(tmp_path / "base", [row("a", True), row("b", False)], {"pass@1": 0.5})
    _write_run(tmp_path / "tuned", [row("a", False), row("b", True), row("c", True)],
               {"pass@1": 0.75})  # fmt: skip
    cmp = compare_runs(load_run(tmp_path / "base"), load_run(tmp_path / "tuned"))
    assert cmp.gained == ["b"] and cmp.lost == ["a"]
    assert "+0.2500" in render_table(cmp)
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "tuned")]) == 0
    png = tmp_path / "tuned" / "compare.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "nope")]) == 2


def test_launcher_only_empties_the_tmpfs_it_mounted(tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    _wipe_private_tmp({})
    _wipe_private_tmp({str(tmp_path): os.stat(tmp_path).st_dev + 1})
    assert (tmp_path / "keep.txt").exists()
    _wipe_private_tmp({str(tmp_path): os.stat(tmp_path).st_dev})  # the check can fail
    assert not (tmp_path / "keep.txt").exists()
