"""`codegen-train data` end to end on the fixture repository (as a git repository)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from codegen.training.data.cli import main as data_main
from codegen.training.data.decontam import ContaminationIndex, humaneval_items
from codegen.training.data.pipeline import DataConfig, Stats, select_documents
from codegen.training.data.sources import InputFile

TESTS = next(p for p in Path(__file__).resolve().parents if p.name == "tests")

FIXTURE = TESTS / "fixtures" / "sample_repo"
SECRETS = (
    "AKIAQUILLB00KTEST7XZ",
    "quill-hunter2-pw",
    "ledger-admin@quillbook.example",
    "ghp_" + "Q7uI1lB00k" * 4,
)
BUGGY = "        if owed == 0 or owed >= limit:\n"
FIXED = "        if owed == 0 or owed > limit:\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo), *args],
        check=True,
        capture_output=True,
    )


def make_corpus(root: Path) -> Path:
    """The fixture plus what git could not store (ignored files), as a repository whose
    last commit is a one-line fix."""
    repo = root / "repo"
    shutil.copytree(FIXTURE, repo)
    (repo / "debug.log").write_text("ignored\n")
    (repo / "keep.log").write_text("re-included by !keep.log\n")
    (repo / "quillbook" / "local_settings.py").write_text(f'TOKEN = "{SECRETS[3]}"\n')
    (repo / "scratch").mkdir()
    (repo / "scratch" / "try.py").write_text("print('ignored directory')\n")
    (repo / "quillbook" / "latin1.py").write_bytes("NAME = 'caf\xe9'\n".encode("latin-1"))
    (repo / "quillbook" / "tokens.py").write_text(
        f'GITHUB = "{SECRETS[3]}"\n\n\ndef f():\n    return GITHUB\n'
    )
    leases = repo / "quillbook" / "leases.py"
    good = leases.read_text()
    assert FIXED in good
    if shutil.which("git"):
        leases.write_text(good.replace(FIXED, BUGGY))
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "import")
        leases.write_text(good)
        _git(repo, "commit", "-q", "-am", "fix write-off limit")
    return repo


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def out(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("out") / "data"
    code = data_main(
        ["--source", str(corpus), "--out", str(target), "--eval-fraction", "0.15", "--no-progress"]
    )
    assert code == 0
    return target


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_manifest_has_one_row_per_input_file(corpus: Path, out: Path) -> None:
    expected = {"node_modules/", "scratch/"}
    for path in corpus.rglob("*"):
        rel = path.relative_to(corpus).as_posix()
        if path.is_file() and not rel.startswith((".git/", "node_modules/", "scratch/")):
            expected.add(rel)
    paths = [row["path"] for row in _manifest(out)]
    assert len(paths) == len(set(paths))
    assert set(paths) == expected


def test_manifest_reasons(out: Path) -> None:
    reasons = {row["path"]: row["reason"] for row in _manifest(out)}
    assert reasons["debug.log"] == "gitignored"
    assert reasons["quillbook/local_settings.py"] == "gitignored"
    assert reasons["scratch/"] == "gitignored directory"
    assert reasons["keep.log"] == "unsupported language"
    assert reasons["node_modules/"] == "vendored directory"
    assert reasons["assets/logo.png"] == "binary"
    assert reasons["quillbook/latin1.py"] == "not UTF-8"
    assert reasons["quillbook/generated_rates.py"] == "generated"
    assert reasons["static/app.min.js"].startswith("minified")
    assert reasons["quillbook/legacy/tally_copy.py"] == "exact duplicate of quillbook/tally.py"
    assert reasons["quillbook/legacy/stamps_old.py"] == "near duplicate of quillbook/stamps.py"
    assert reasons["quillbook/settings.py"] is None
    accepted = [row for row in _manifest(out) if row["accepted"]]
    assert all(row["reason"] is None and row["split"] in ("train", "eval") for row in accepted)


def test_planted_secrets_never_reach_the_output(out: Path) -> None:
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".arrow" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} leaked into {path}"
    stats = json.loads((out / "stats.json").read_text())
    assert stats["redactions"]["aws_access_key"] == 1
    assert stats["redactions"]["password"] == 1
    assert stats["redactions"]["github_token"] == 1
    assert stats["redactions"]["email"] >= 1


def test_dataset_splits_tasks_and_held_out_files(out: Path) -> None:
    import datasets

    data = datasets.load_from_disk(str(out / "dataset"))
    assert set(data) == {"train", "eval"}
    assert set(data["train"].column_names) >= {
        "task",
        "prompt",
        "completion",
        "text",
        "path",
        "split",
    }
    train_paths, eval_paths = set(data["train"]["path"]), set(data["eval"]["path"])
    assert eval_paths and not train_paths & eval_paths
    manifest_eval = {row["path"] for row in _manifest(out) if row["split"] == "eval"}
    assert eval_paths == manifest_eval
    assert set(data["train"]["task"]) == {"fim", "docstring", "fix", "lm"}
    for row in data["train"].select(range(20)):
        assert row["text"] == row["prompt"] + row["completion"]
        assert row["split"] == "train"


def test_fim_orders_follow_the_served_order(out: Path) -> None:
    import datasets

    from codegen.core.fim import TINY

    data = datasets.load_from_disk(str(out / "dataset"))

    def orders(split: str) -> list[str]:
        rows = [r for r in data[split] if r["task"] == "fim"]
        return [TINY.parse_prompt(r["prompt"])[2] for r in rows]

    held_out = orders("eval")
    assert held_out and set(held_out) == {TINY.default_order}  # measured as served
    middles = [TINY.middle_of(r["completion"]) for r in data["eval"] if r["task"] == "fim"]
    assert all("\n" not in m for m in middles)  # line completions
    assert "lm" in set(data["eval"]["task"])  # plain windows for the eval loss
    train = orders("train")
    spm = train.count("spm") / len(train)
    assert 0.65 < spm < 0.95, spm  # mostly the served order (SPM for tiny), some PSM


def test_stats_count_every_step(out: Path) -> None:
    stats = json.loads((out / "stats.json").read_text())
    rows = _manifest(out)
    assert stats["files"]["total"] == len(rows)
    assert stats["files"]["accepted"] == sum(r["accepted"] for r in rows)
    assert sum(stats["rejected"].values()) == sum(not r["accepted"] for r in rows)
    assert stats["duplicates"] == {"exact": 1, "near": 1}
    if shutil.which("git"):
        assert stats["commit_fixes"]["used"] == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_commit_fix_example_is_present(out: Path) -> None:
    import datasets

    data = datasets.load_from_disk(str(out / "dataset"))
    split = next(r["split"] for r in _manifest(out) if r["path"] == "quillbook/leases.py")
    fixes = [
        r
        for r in data[split]
        if r["task"] == "fix" and r["path"] == "quillbook/leases.py" and BUGGY in r["prompt"]
    ]
    assert len(fixes) == 1
    assert fixes[0]["completion"].startswith(FIXED)


def test_output_is_deterministic(corpus: Path, out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    argv = [
        "--source",
        str(corpus),
        "--out",
        str(again),
        "--eval-fraction",
        "0.15",
        "--no-progress",
    ]
    assert data_main(argv) == 0
    assert tree_digest(again) == tree_digest(out)


def test_examples_do_not_depend_on_where_the_source_lives(
    corpus: Path, out: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere" / "repo"
    shutil.copytree(corpus, moved)
    again = tmp_path / "moved"
    argv = ["--source", str(moved), "--out", str(again), "--eval-fraction", "0.15", "--no-progress"]
    assert data_main(argv) == 0
    assert tree_digest(again / "dataset") == tree_digest(out / "dataset")


def test_redaction_failure_rejects_the_file() -> None:
    def broken(text: str):
        raise RuntimeError("detector bug")

    files = [InputFile("s", "a.py", b"x = 1\n"), InputFile("s", "b.py", b"y = 2\n")]
    config = DataConfig(sources=[], out=Path("unused"))
    documents, manifest = select_documents(files, config, ContaminationIndex([]), Stats(), broken)
    assert documents == []
    assert [row["reason"] for row in manifest] == ["redaction failed (RuntimeError)"] * 2


def test_jsonl_source_with_decontamination(tmp_path: Path) -> None:
    problem = humaneval_items()[0].text
    own = "def own_problem(xs):\n    '''Sum of squares of xs, a distinctive problem.'''\n    return sum(x * x for x in xs)\n"
    rows = [
        {"text": "def ok(a, b):\n    return a * b + 1\n", "path": "ok.py"},
        {"content": problem},
        {"text": own + "\n\nprint(own_problem([1, 2]))\n", "path": "mine.py"},
    ]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"task_id": "Own/0", "prompt": own}) + "\n")
    out = tmp_path / "out"
    code = data_main(
        ["--source", str(corpus), "--out", str(out), "--decontaminate", str(bench), "--no-progress"]
    )
    assert code == 0
    reasons = {row["path"]: row["reason"] for row in _manifest(out)}
    assert reasons == {
        "ok.py": None,
        "#2": "contaminated (HumanEval HumanEval/0)",
        "mine.py": "contaminated (bench.jsonl Own/0)",
    }
    stats = json.loads((out / "stats.json").read_text())
    assert stats["decontamination"] == {"HumanEval": 1, "bench.jsonl": 1}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tasks", "fim,poetry"], "unknown task"),
        (["--fim-rate", "1.5"], "between 0 and 1"),
        (["--decontaminate", "/nonexistent.jsonl"], "does not exist"),
    ],
)
def test_user_errors_are_one_line(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    code = data_main(["--source", str(FIXTURE), "--out", str(tmp_path / "o"), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_stats_reject_categories() -> None:
    stats = Stats()
    for reason in ("too large (5 bytes > 1)", "near duplicate of a.py", "binary", "binary"):
        stats.reject(reason)
    assert stats.rejected == Counter({"binary": 2, "too large": 1, "near duplicate": 1})
