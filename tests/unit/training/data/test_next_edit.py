"""``codegen-train data --tasks next-edit``: examples from commits (hunks in order, the
region the server would use, the prompt it would send), the skip reasons, the split by
commit combined with the split by file, and examples from accepted next-edit records of
acceptance logs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from codegen.core.edit_prediction import EditEvent, get_edit_format
from codegen.core.fim import get_fim_format
from codegen.core.usage_log import SCHEMA
from codegen.server.edits.history import DocumentHistory
from codegen.server.edits.next_edit import build_context
from codegen.training.data.cli import main as data_main
from codegen.training.data.tasks.next_edit import (
    EditCase,
    Hunk,
    NextEditConfig,
    case_context,
    edit_format,
    file_cases,
    log_case,
)
from codegen.training.data.tasks.next_edit_commits import assign_commit_splits, parse_diff

FIXTURES = next(p for p in Path(__file__).resolve().parents if p.name == "tests") / "fixtures"
sys.path.insert(0, str(FIXTURES))
import next_edit_repo  # noqa: E402

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
TINY = get_fim_format("tiny")
BEFORE = "def area(width, height):\n    check(width)\n    x = 1\n    return width * height\n"
AFTER = "def area(w, height):\n    check(w)\n    x = 1\n    return w * height\n"
# git diff -U0 of BEFORE -> AFTER: three one-line hunks.
HUNKS = [Hunk(0, 1, 0, 1), Hunk(1, 1, 1, 1), Hunk(3, 1, 3, 1)]


def test_each_hunk_after_the_first_is_an_example_with_the_earlier_ones_applied() -> None:
    counts: Counter[str] = Counter()
    config = NextEditConfig(lines_before=0, lines_after=2)
    cases = file_cases("pkg/geo.py", "python", BEFORE, AFTER, HUNKS, config, "c0ffee", counts)
    assert cases is not None and len(cases) == 2
    first, second = cases
    assert counts == Counter(first_in_file=1)
    assert first.context.path == "geo.py"  # the base name, as the server's prompts
    assert first.context.events == [
        EditEvent("geo.py", "def area(width, height):\n", "def area(w, height):\n", 0)
    ]
    # The cursor sits on the edited line 0: the region is lines 0..2 of the file so far.
    assert first.context.region == "def area(w, height):\n    check(width)\n    x = 1\n"
    assert first.target == "def area(w, height):\n    check(w)\n    x = 1\n"
    assert first.kind == "follow_up"
    assert [e.new for e in second.context.events] == ["def area(w, height):\n", "    check(w)\n"]
    assert second.context.region == "    check(w)\n    x = 1\n    return width * height\n"
    assert second.target.endswith("    return w * height\n")


def test_a_hunk_outside_the_region_gets_a_region_around_itself() -> None:
    counts: Counter[str] = Counter()
    config = NextEditConfig(lines_before=0, lines_after=1)
    cases = file_cases("geo.py", "python", BEFORE, AFTER, HUNKS, config, "c0ffee", counts)
    assert cases is not None
    assert [c.kind for c in cases] == ["follow_up", "at_hunk"]
    assert cases[1].context.region == "    return width * height\n"
    assert cases[1].target == "    return w * height\n"


def test_insertions_and_deletions_shift_the_later_hunks() -> None:
    before = "a = 1\nb = 2\nc = 3\nd = 4\n"
    after = "a = 1\nnew = 0\nb = 2\nd = 4\nd2 = 5\n"
    hunks = [Hunk(1, 0, 1, 1), Hunk(2, 1, 3, 0), Hunk(4, 0, 4, 1)]  # -U0 headers, 0-based
    counts: Counter[str] = Counter()
    cases = file_cases("m.py", "python", before, after, hunks, NextEditConfig(), "x", counts)
    assert cases is not None and len(cases) == 2
    assert cases[0].context.text == "a = 1\nnew = 0\nb = 2\nc = 3\nd = 4\n"
    assert cases[0].target == "a = 1\nnew = 0\nb = 2\nd = 4\n"
    assert cases[1].target == after
    # Hunks that do not fit the two versions are refused.
    assert (
        file_cases("m.py", "python", before, after, hunks[:2], NextEditConfig(), "x", counts)
        is None
    )


def test_parse_diff_reads_files_statuses_and_zero_context_hunks() -> None:
    diff = (
        "diff --git a/m.py b/m.py\nindex 1..2 100644\n--- a/m.py\n+++ b/m.py\n"
        "@@ -1,0 +2 @@ a\n+new = 0\n@@ -3 +3,0 @@\n-c = 3\n@@ -5,2 +5,3 @@\n-x\n-y\n+x\n+y\n+z\n"
        "diff --git a/img.png b/img.png\nBinary files a/img.png and b/img.png differ\n"
        "diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n"
        "diff --git a/new.py b/new.py\nnew file mode 100644\n"
    )
    files = parse_diff(diff)
    assert [(f.path, f.status) for f in files] == [
        ("m.py", "modified"), ("img.png", "binary"), ("gone.py", "deleted"), ("new.py", "added"),
    ]  # fmt: skip
    assert files[0].hunks == [Hunk(1, 0, 1, 1), Hunk(2, 1, 3, 0), Hunk(4, 2, 4, 3)]


def test_the_prompt_trained_on_is_the_prompt_the_server_sends() -> None:
    """The server's edit history and region on the same edit give the same prompt."""
    config = NextEditConfig(lines_before=3, lines_after=5)
    cases = file_cases("pkg/geo.py", "python", BEFORE, AFTER, HUNKS, config, "c", Counter())
    assert cases is not None
    history = DocumentHistory(BEFORE)
    history.change(0, 9, 0, 14, "w")  # the user renames the parameter
    ctx = build_context(history, "geo.py", 0, 10, history.events("geo.py", 3), 3, 5)
    fmt = edit_format(TINY, config.max_events)
    assert fmt.prompt(ctx) == cases[0].example(fmt).prompt
    # The eval rebuilds it from the stored case row, in any model's FIM format.
    row = cases[0].row("eval", "repo", "commit")
    assert fmt.prompt(case_context(row)) == cases[0].example(fmt).prompt
    qwen = edit_format(get_fim_format("qwen"), 3)
    assert qwen.prompt(case_context(row)) == qwen.prompt(ctx)


def test_the_prompt_with_several_recent_edits_is_the_prompt_the_server_sends() -> None:
    """Hunk 2 of a commit: two recent edits, most recent first, as the server's history
    lists two edits made a few seconds apart."""
    config = NextEditConfig(lines_before=0, lines_after=2)
    cases = file_cases("pkg/geo.py", "python", BEFORE, AFTER, HUNKS, config, "c", Counter())
    assert cases is not None and len(cases[1].context.events) == 2
    now = [0.0]
    history = DocumentHistory(BEFORE, clock=lambda: now[0])
    history.change(0, 9, 0, 14, "w")
    now[0] = 10.0  # not coalesced with the first edit
    history.change(1, 10, 1, 15, "w")
    ctx = build_context(history, "geo.py", 1, 11, history.events("geo.py", 3), 0, 2)
    fmt = edit_format(TINY, config.max_events)
    assert fmt.prompt(ctx) == cases[1].example(fmt).prompt
    assert fmt.prompt(case_context(cases[1].row("eval", "repo", "commit"))) == fmt.prompt(ctx)


def test_completion_is_the_new_region_then_end_of_text() -> None:
    cases = file_cases("geo.py", "python", BEFORE, AFTER, HUNKS, NextEditConfig(), "c", Counter())
    assert cases is not None
    example = cases[0].example(get_edit_format("codegen", TINY))
    assert example.task == "next-edit"
    assert example.completion == cases[0].target + TINY.eot_token


def test_commit_split_holds_out_commits_of_held_out_files_and_some_others() -> None:
    from codegen.training.data.tasks.next_edit_commits import CommitResult

    def result(sha: str, splits: list[str]) -> CommitResult:
        return CommitResult({"commit": sha}, [object()] * len(splits), splits)  # type: ignore[list-item]

    results = [result(f"{i:040x}", ["train"]) for i in range(200)] + [
        result("f" * 40, ["train", "eval"])
    ]
    splits = assign_commit_splits(results, 0.2, seed=0)
    assert splits["f" * 40] == ("eval", "file")
    by_commit = sum(v == ("eval", "commit") for v in splits.values())
    assert 20 <= by_commit <= 60
    assert assign_commit_splits(results, 0.2, seed=0) == splits  # stable
    assert all(
        v[0] == "train" for k, v in assign_commit_splits(results, 0.0, 0).items() if k != "f" * 40
    )


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo), *args],
        check=True, capture_output=True,
    )  # fmt: skip


def _run(out: Path, *sources: Path, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    code = data_main(
        ["--source", *map(str, sources), "--out", str(out), "--no-progress", "--no-humaneval",
         "--tasks", "next-edit", "--next-edit-lines-before", "1", "--next-edit-lines-after", "3",
         *extra]
    )  # fmt: skip
    assert code == 0
    return json.loads((out / "stats.json").read_text())


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> next_edit_repo.Repository:
    """The rename history, then commits that must be skipped, each for its own reason."""
    built = next_edit_repo.build_repository(
        tmp_path_factory.mktemp("ne") / "repo", commits=40, modules=4, functions=3
    )
    root = built.root
    (root / "vendor").mkdir()
    (root / "vendor" / "lib.py").write_text("x = 1\n\ny = 2\n")
    (root / "gen_generated.py").write_text("# generated by a tool\na = 1\n\nb = 2\n")
    (root / "logo.png").write_bytes(b"\x89PNG\x00\x01")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "vendored, generated and binary files")
    for name, text in (("vendor/lib.py", "x = 10\n\ny = 20\n"),
                       ("gen_generated.py", "# generated by a tool\na = 10\n\nb = 20\n")):  # fmt: skip
        (root / name).write_text(text)
        _git(root, "commit", "-q", "-am", f"edit {name}")
    (root / "logo.png").write_bytes(b"\x89PNG\x00\x02")
    _git(root, "commit", "-q", "-am", "edit the logo")
    module = root / built.renames[0].path
    module.write_text(module.read_text().replace("\n", "  # ok\n"))
    _git(root, "commit", "-q", "-am", "comment every line")
    return built


@needs_git
@pytest.mark.parametrize("tasks", ["next-edit", "fim,next-edit"])
def test_commits_become_examples_held_out_by_commit(repo, tmp_path: Path, tasks: str) -> None:
    out = tmp_path / "data"
    extra = ("--eval-fraction", "0.2", "--next-edit-max-lines", "10", "--tasks", tasks)
    stats = _run(out, repo.root, extra=extra)
    manifest = [r for r in _jsonl(out / "manifest.jsonl") if r.get("kind") == "commit"]
    reasons = {r["commit"]: r["reason"] for r in manifest}
    assert reasons[repo.initial] == "root commit"
    skipped = Counter(r for r in reasons.values() if r)
    assert skipped["vendored"] == 1 and skipped["generated"] == 1 and skipped["binary"] == 1
    assert skipped["no usable file"] == 1  # the commit adding vendored, generated and binary files
    assert any(r.startswith("too many changed lines") for r in skipped)  # the comments
    renames = {r.sha for r in repo.renames}
    assert all(reasons[sha] is None for sha in renames)
    assert stats["next_edit"]["commit used"] == len(renames)

    cases = _jsonl(out / "next_edit.jsonl")
    split_of = {r["commit"]: r["split"] for r in manifest if r["accepted"]}
    assert {c["split"] for c in cases} == {"train", "eval"}
    for case in cases:  # a commit is on one side only
        assert case["split"] == split_of[case["origin"]]
    held_out = {r["commit"]: r["held_out_by"] for r in manifest if r["split"] == "eval"}
    file_split = {r["path"]: r["split"] for r in _jsonl(out / "manifest.jsonl") if "kind" not in r}
    for commit in renames:
        # With a task split by file, a commit of a held-out file is held out with it.
        touches_eval_file = file_split[repo.rename(commit).path] == "eval" and "fim" in tasks
        assert (held_out.get(commit) == "file") == touches_eval_file
    assert "commit" in held_out.values()
    assert ("file" in held_out.values()) == ("fim" in tasks)

    from datasets import load_from_disk

    dataset = load_from_disk(str(out / "dataset"))
    fmt = edit_format(TINY, 3)
    for split in ("train", "eval"):
        rows = [r for r in dataset[split] if r["task"] == "next-edit"]
        mine = [c for c in cases if c["split"] == split]
        assert [fmt.prompt(case_context(c)) for c in mine] == [r["prompt"] for r in rows]
        assert [fmt.target(c["target"]) for c in mine] == [r["completion"] for r in rows]
    # Each rename commit gives one example per use after the def line.
    per_commit = Counter(c["origin"] for c in cases)
    for rename in repo.renames:
        assert 1 <= per_commit[rename.sha] <= len(rename.lines) - 1
    expected = sum(len(r.lines) - 1 for r in repo.renames)
    assert len(cases) == expected - stats["next_edit"].get("duplicate", 0)
    assert stats["next_edit"]["follow_up"] == len(cases)


@needs_git
def test_next_edit_is_opt_in(repo, tmp_path: Path) -> None:
    code = data_main(["--source", str(repo.root), "--out", str(tmp_path / "d"), "--no-progress",
                      "--no-humaneval", "--tasks", "fim"])  # fmt: skip
    assert code == 0
    assert not (tmp_path / "d" / "next_edit.jsonl").exists()
    manifest = _jsonl(tmp_path / "d" / "manifest.jsonl")
    assert not any(r.get("kind") == "commit" for r in manifest)


def test_bad_next_edit_flags_are_one_line_errors(tmp_path: Path, capsys) -> None:
    code = data_main(["--source", str(tmp_path), "--out", str(tmp_path / "o"),
                      "--tasks", "next-edit", "--next-edit-lines-after", "-1"])  # fmt: skip
    assert code == 2
    assert "--next-edit-lines-after must not be negative" in capsys.readouterr().err
    assert data_main(["--source", str(tmp_path), "--out", str(tmp_path / "o"),
                      "--tasks", "next_edit"]) == 2  # fmt: skip


# --- acceptance logs ---------------------------------------------------------------

REGION = "def area(w, height):\n    check(width)\n    return width * height\n"
START = REGION.index("width")
SECRET = 'token = "ghp_' + "a" * 36 + '"\n'


def edit_record(sid: str, event: str, ts: float, **extra: Any) -> dict[str, Any]:
    """A next-edit record as the server logs it: the edit turns ``width`` into ``w`` on
    the region's line 1."""
    start = REGION.index("width")
    return {
        "schema": SCHEMA, "ts": ts, "event": event, "id": sid, "kind": "next_edit",
        "uri": "file:///home/dev/proj/pkg/geo.py", "path": "geo.py", "language": "python",
        "model": "m", "adapter": None, "source": "model", "latency_ms": 5.0,
        "text": "w", "line": 1, "col": 10, "replaced": "width",
        "events": [{"path": "geo.py", "old": "def area(width, height):\n",
                    "new": "def area(w, height):\n", "line": 0}],
        "region": REGION, "region_line": 0, "edit_start": start, "edit_end": start + 5,
        "prefix": REGION[:start], "suffix": REGION[start + 5 :], **extra,
    }  # fmt: skip


def test_log_case_applies_the_accepted_edit_to_the_region() -> None:
    case = log_case(edit_record("a", "accepted", 1.0), "pkg/geo.py", "python", "a")
    assert isinstance(case, EditCase)
    assert case.target == "def area(w, height):\n    check(w)\n    return width * height\n"
    assert case.context.path == "geo.py" and len(case.context.events) == 1
    assert (
        log_case({**edit_record("b", "accepted", 1.0), "edit_end": 999}, "g.py", "python", "b")
        is None
    )
    assert (
        log_case({**edit_record("b", "accepted", 1.0), "replaced": "nope"}, "g.py", "python", "b")
        is None
    )


def test_accepted_next_edits_of_a_log_become_examples(tmp_path: Path) -> None:
    records = [
        edit_record("acc", "shown", 1.0), edit_record("acc", "accepted", 2.0),
        edit_record("rej", "shown", 3.0), edit_record("rej", "rejected", 4.0),
        edit_record("show", "shown", 5.0),
        edit_record("again", "accepted", 6.0),  # the same edit accepted twice
        # A secret above the edit: redacted, and the edit still lands on the right text.
        edit_record("secret", "accepted", 7.0, region=SECRET + REGION,
                    edit_start=len(SECRET) + START, edit_end=len(SECRET) + START + 5),
    ]  # fmt: skip
    log = tmp_path / "acceptance.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "data"
    stats = _run(out, log)
    manifest = {r["id"]: r for r in _jsonl(out / "manifest.jsonl")}
    assert {k: v["reason"] for k, v in manifest.items()} == {
        "acc": "log_next_edit_accepted",
        "rej": "log_rejected",
        "show": "log_shown_only",
        "again": "log_duplicate (exact, of acc)",
        "secret": "log_next_edit_accepted",
    }
    assert sum(stats["log"]["next_edit_examples"].values()) == 2
    cases = {c["origin"]: c for c in _jsonl(out / "next_edit.jsonl")}
    assert (
        cases["acc"]["target"] == "def area(w, height):\n    check(w)\n    return width * height\n"
    )
    assert cases["acc"]["held_out_by"] == "file" and cases["acc"]["kind"] == "log"
    assert "ghp_" not in json.dumps(cases["secret"]) and "<REDACTED" in cases["secret"]["region"]
    assert cases["secret"]["target"].endswith("    check(w)\n    return width * height\n")
    assert stats["redactions"]
    # Next-edit suggestions are no rows for the inline-completion gate.
    assert (out / "gate.jsonl").read_text() == ""
    # Without the task they are counted, not used.
    code = data_main(["--source", str(log), "--out", str(tmp_path / "fim"), "--no-progress",
                      "--no-humaneval", "--tasks", "fim"])  # fmt: skip
    assert code == 0
    manifest = {r["id"]: r for r in _jsonl(tmp_path / "fim" / "manifest.jsonl")}
    assert manifest["acc"]["reason"] == "log_next_edit_not_requested"
    assert not manifest["acc"]["accepted"]
