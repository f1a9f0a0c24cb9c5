"""HumanEval-infilling: loading, truncation rules, HumanEval-FIM exact match, and slices of
the three public files scored end to end (canonical middles pass, wrong ones fail the way
the reference harness fails them)."""

import json

import pytest

from codegen.eval.cli import main
from codegen.eval.infilling import (
    benchmark_name,
    fim_exact_match,
    fim_line,
    is_infilling_file,
    load_infilling,
)
from codegen.eval.problems import ProblemsError
from codegen.eval.truncation import (
    TRUNCATIONS,
    cut_at_end_marker,
    drop_suffix_overlap,
    get_truncation,
    keep_first_line,
)

from .infilling_helpers import (
    INFILLING_FILES,
    bump_first_int,
    read_rows,
    reference_verdicts,
    score_with_cli,
    write_samples,
)

SLICE_STRIDE = {"single": 41, "multi": 233, "random": 67}
"""Every Nth row: 26 + 25 + 25 rows spread over all 164 problems, a few seconds."""


def test_reference_truncation_cuts_at_the_first_end_token_only():
    reference = get_truncation("reference")
    assert reference.apply("    return x\n<|endoftext|>junk", "") == "    return x\n"
    assert reference.apply("a<file_sep>b<|fim_middle|>", "") == "a"
    assert reference.apply("    x = 1\n    y = 2\n", "") == "    x = 1\n    y = 2\n"
    assert cut_at_end_marker("<｜end▁of▁sentence｜>") == ""
    assert TRUNCATIONS["none"].apply("a<|endoftext|>b", "") == "a<|endoftext|>b"


def test_first_line_keeps_the_first_line_with_code_and_its_newline():
    assert keep_first_line("    x = 1\n    y = 2\n") == "    x = 1\n"
    assert keep_first_line("\n    x = 1\n    y = 2") == "\n    x = 1\n"
    assert keep_first_line("    x = 1") == "    x = 1"
    assert get_truncation("first-line").apply("    a\n    b<|endoftext|>", "") == "    a\n"


def test_suffix_overlap_drops_only_repeated_suffix_lines():
    suffix = "    return total\n\n"
    assert drop_suffix_overlap("    total += 1\n    return total\n", suffix) == "    total += 1\n"
    assert drop_suffix_overlap("    total += 1\n", suffix) == "    total += 1\n"
    assert drop_suffix_overlap("    x = 1\n\n", "\nprint(x)\n") == "    x = 1\n\n"  # blank only
    with pytest.raises(Exception, match="unknown truncation 'nope'; choose one of reference"):
        get_truncation("nope")


def test_humaneval_fim_exact_match_follows_qwens_line_rule():
    assert fim_line("    return x\n    more") == "return x"
    assert fim_line("\n    return x\n") == "return x"
    assert fim_line(" \n    return x") == "return x"
    assert fim_line("\n\n    return x") == ""
    assert fim_exact_match("    return x  \nrest", "    return x\n")
    assert fim_exact_match("\n        return x<|endoftext|>", "    return x\n")
    assert not fim_exact_match("    return y", "    return x\n")
    assert not fim_exact_match("", "    return x\n")


def test_benchmark_names_come_from_task_ids(tmp_path):
    assert benchmark_name("SingleLineInfilling/HumanEval/0/L0", tmp_path / "x.jsonl") == (
        "HumanEval-SingleLineInfilling"
    )
    assert benchmark_name("mine/1", tmp_path / "holes.jsonl.gz") == "holes"


def test_loading_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "a", "prompt": "", "suffix": ""}) + "\n")
    assert is_infilling_file(bad) and not is_infilling_file(tmp_path / "missing.jsonl")
    with pytest.raises(ProblemsError, match=r"bad.jsonl:1: infilling row has no 'entry_point'"):
        load_infilling(bad)
    with pytest.raises(ProblemsError, match="not found"):
        load_infilling(tmp_path / "missing.jsonl")


def test_limit_and_stride_pick_deterministic_rows(bench_data):
    path = bench_data(INFILLING_FILES["single"])
    rows = read_rows(path)
    bench = load_infilling(path, limit=5, stride=100)
    assert [t.task_id for t in bench.tasks] == [r["task_id"] for r in rows[::100][:5]]
    assert bench.name == "HumanEval-SingleLineInfilling" and bench.rows_in_file == 1033
    assert bench.single_line and "5 of 1033 rows" in bench.describe()
    task = bench.tasks[0]
    assert task.problem.prompt == ""
    assert task.problem.canonical_solution == task.prefix + task.middle + task.suffix
    assert not load_infilling(bench_data(INFILLING_FILES["multi"]), limit=40).single_line


@pytest.mark.parametrize("kind", ["single", "multi", "random"])
def test_canonical_middles_of_a_slice_pass(kind, bench_data, tmp_path):
    path = bench_data(INFILLING_FILES[kind])
    rows = read_rows(path)[:: SLICE_STRIDE[kind]]
    samples = write_samples(
        tmp_path / "s.jsonl", [(r["task_id"], r["canonical_solution"]) for r in rows]
    )
    results = score_with_cli(samples, path, tmp_path / "run")
    assert [r["task_id"] for r in results] == [r["task_id"] for r in rows]
    assert all(r["passed"] and r["check"] == "replayed" for r in results)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["pass@1"] == 1.0 and metrics["truncation"] == "reference"
    assert ("exact_match" in metrics) == (kind == "single")
    report = (tmp_path / "run" / "report.md").read_text()
    assert metrics["benchmark"] in report and "Truncation: `reference`" in report


def test_wrong_middles_fail_as_the_reference_harness_fails_them(bench_data, tmp_path):
    path = bench_data(INFILLING_FILES["single"])
    rows = read_rows(path)
    by_id = {r["task_id"]: r for r in rows}
    pairs = [(r["task_id"], "") for r in rows[::41]]
    pairs += [(r["task_id"], bump_first_int(r["canonical_solution"])) for r in rows[::7]]
    pairs = [(t, m) for t, m in pairs if m is not None][:40]
    ours = score_with_cli(write_samples(tmp_path / "w.jsonl", pairs), path, tmp_path / "run")
    theirs = reference_verdicts(by_id, pairs)
    compared = [(o, t) for o, t in zip(ours, theirs, strict=True) if t != "timed out"]
    assert [o["passed"] for o, _ in compared] == [t == "passed" for _, t in compared]
    assert sum(not o["passed"] for o in ours) >= 0.8 * len(ours)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["exact_match"] == 0.0  # every one of them differs from the canonical line


def test_samples_truncation_option_changes_the_scored_middle(bench_data, tmp_path):
    path = bench_data(INFILLING_FILES["single"])
    row = read_rows(path)[0]
    spoiled = row["canonical_solution"] + row["suffix"].splitlines(keepends=True)[0]
    samples = write_samples(tmp_path / "s.jsonl", [(row["task_id"], spoiled)])
    plain = score_with_cli(samples, path, tmp_path / "a")
    fixed = score_with_cli(samples, path, tmp_path / "b", "--truncation", "suffix-overlap")
    assert not plain[0]["passed"] and fixed[0]["passed"]
    assert fixed[0]["completion"] == row["canonical_solution"]
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["truncation"] == (
        "suffix-overlap"
    )


def test_samples_errors_for_infilling_files_are_one_line(bench_data, tmp_path, capsys):
    path = bench_data(INFILLING_FILES["random"])
    samples = write_samples(tmp_path / "s.jsonl", [("HumanEval/0", "x")])
    assert main(["samples", str(samples), "--problems", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown task_id 'HumanEval/0' for HumanEval-RandomSpanInfilling" in err
    assert "Traceback" not in err
    args = ["samples", str(samples), "--truncation", "first-line", "--out", str(tmp_path)]
    assert main(args) == 2  # HumanEval problems: no middle to cut
    assert "--truncation applies to human-eval-infilling files" in capsys.readouterr().err
