"""Acceptance logs as a ``codegen-train data`` source: detection, examples from kept
suggestions only, manifest reasons, redaction, decontamination, dedup and the split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codegen.core.fim import get_fim_format
from codegen.core.usage_log import SCHEMA
from codegen.training.data.cli import main as data_main
from codegen.training.data.usage_log import is_usage_log, redact_parts

TINY = get_fim_format("tiny")
AWS_KEY = "AKIAQUILLB00KLOGTEST"
WORKSPACE = "file:///home/dev/proj"


def suggestion(
    sid: str,
    outcome: str,
    *,
    rel: str = "pkg/ledger.py",
    prefix: str = "def settle(folio):\n    ",
    text: str = "qb_guard(folio, 'settle')",
    kept: str | None = None,
    suffix: str = "\n    return folio\n",
    ts: float = 1000.0,
) -> list[dict[str, Any]]:
    """The records of one suggestion whose fate is ``outcome``: ``kept`` (accepted, then
    ``kept`` or the whole text still there), ``partial``, ``deleted``, ``rejected``,
    ``shown`` or ``unmeasured``."""
    base = {
        "schema": SCHEMA,
        "id": sid,
        "uri": f"{WORKSPACE}/{rel}",
        "path": rel.rsplit("/", 1)[-1],
        "language": "python",
        "model": "builtin:tiny",
        "adapter": None,
        "source": "model",
        "text": text,
        "line": prefix.count("\n"),
        "col": len(prefix.rsplit("\n", 1)[-1]),
        "prefix": prefix,
        "suffix": suffix,
        "features": {"mean_logprob": -0.4, "length_chars": len(text), "context_kind": "mid_line"},
        "candidate": 0,
    }
    rows = [{**base, "ts": ts, "event": "shown"}]
    if outcome == "rejected":
        rows.append({**base, "ts": ts + 1, "event": "rejected"})
    elif outcome in ("kept", "deleted", "unmeasured"):
        rows.append({**base, "ts": ts + 1, "event": "accepted"})
    elif outcome == "partial":
        rows.append({**base, "ts": ts + 1, "event": "partial", "accepted_chars": len(kept or "")})
    if outcome in ("kept", "partial", "deleted"):
        now = (kept if kept is not None else text) if outcome != "deleted" else text[:2]
        taken = len(text) if outcome != "partial" else len(kept or "")
        for after in (30.0, 120.0):
            rows.append(
                {
                    **base,
                    "ts": ts + 1 + after,
                    "event": "retained",
                    "after_s": after,
                    "retained_chars": min(len(now), taken),
                    "retained_fraction": round(min(len(now), taken) / taken, 4),
                    "kept": now,
                    "status": "measured",
                }
            )
    return rows


def write_jsonl(path: Path, rows: list[Any], torn_tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + torn_tail)
    return path


def run_data(tmp_path: Path, *sources: Path, extra: tuple[str, ...] = ()) -> Path:
    out = tmp_path / "out"
    argv = ["--source", *map(str, sources), "--out", str(out), "--no-progress", *extra]
    assert data_main(argv) == 0
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def dataset_rows(out: Path) -> dict[str, list[dict[str, str]]]:
    import datasets

    data = datasets.load_from_disk(str(out / "dataset"))
    return {split: list(data[split]) for split in ("train", "eval")}


def test_detection_tells_logs_from_corpora_and_broken_files(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "acceptance.jsonl", suggestion("a", "kept"), torn_tail='{"schema": "codeg'
    )
    assert is_usage_log(log)  # a torn last line (the server was killed) does not matter
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"text": "x = 1\n", "path": "x.py"}])
    assert not is_usage_log(corpus)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not json\n{also not\n")
    assert not is_usage_log(broken)
    old_schema = write_jsonl(
        tmp_path / "old.jsonl", [{"event": "shown", "id": "x", "text": "t", "uri": "file:///a.py"}]
    )
    assert is_usage_log(old_schema)
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [{"text": "x = 1\n"}, *suggestion("b", "kept")])
    assert not is_usage_log(mixed)  # a corpus row first: a corpus with odd rows
    assert not is_usage_log(tmp_path)
    rotated = write_jsonl(tmp_path / "acceptance.jsonl.1", suggestion("c", "kept"))
    assert is_usage_log(rotated)
    script = tmp_path / "script.py"
    script.write_text(json.dumps(suggestion("d", "kept")[0]) + "\n")
    assert not is_usage_log(script)  # only .jsonl files are read as logs


def test_broken_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "acceptance.jsonl"
    rows = suggestion("a", "kept")
    log.write_text(
        json.dumps(rows[0]) + "\nGARBAGE\n" + "".join(json.dumps(r) + "\n" for r in rows[1:])
    )
    out = run_data(tmp_path, log)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["log"]["unreadable_lines"] == 1
    assert stats["log"]["reasons"] == {"log_retained_example": 1}
    assert stats["files"].get("total", 0) == 0  # the log is not read as a corpus


def _fate_log(tmp_path: Path) -> Path:
    rows = [
        *suggestion("kept", "kept", ts=100),
        *suggestion(
            "trimmed",
            "kept",
            prefix="def tally(slot):\n    return ",
            text="tally_into(slot, kind='all')  # noqa",
            kept="tally_into(slot, kind='all')",
            ts=200,
        ),
        *suggestion(
            "partial",
            "partial",
            prefix="def close(folio):\n    ",
            text="folio.seal()\n    folio.flush()",
            kept="folio.seal()",
            ts=300,
        ),
        *suggestion("deleted", "deleted", prefix="def f():\n    ", text="DELETED_ME()", ts=400),
        *suggestion("rejected", "rejected", prefix="def g():\n    ", text="REJECTED()", ts=500),
        *suggestion("shown", "shown", prefix="def h():\n    ", text="SHOWN_ONLY()", ts=600),
        *suggestion("unmeasured", "unmeasured", prefix="def i():\n    ", text="NEVER()", ts=700),
    ]
    return write_jsonl(tmp_path / "acceptance.jsonl", rows)


def test_kept_suggestions_become_fim_examples_with_their_real_context(tmp_path: Path) -> None:
    out = run_data(tmp_path, _fate_log(tmp_path), extra=("--eval-fraction", "0"))
    rows = dataset_rows(out)
    assert rows["eval"] == []
    examples = rows["train"]
    assert {r["task"] for r in examples} == {"fim"}
    parsed = []
    for row in examples:
        prefix, suffix, _ = TINY.parse_prompt(row["prompt"])
        middle = TINY.middle_of(row["completion"])
        assert row["completion"].endswith(TINY.eot_token)
        assert row["text"] == row["prompt"] + row["completion"]
        # the logged file name: no file of another source has this path
        assert row["path"] == "ledger.py" and row["language"] == "python"
        parsed.append((prefix, middle, suffix))
    assert sorted(parsed) == sorted(
        [
            ("def settle(folio):\n    ", "qb_guard(folio, 'settle')", "\n    return folio\n"),
            # the middle is what the user kept, not what was suggested
            (
                "def tally(slot):\n    return ",
                "tally_into(slot, kind='all')",
                "\n    return folio\n",
            ),
            ("def close(folio):\n    ", "folio.seal()", "\n    return folio\n"),
        ]
    )
    everything = b""
    for arrow in (out / "dataset").rglob("*.arrow"):
        everything += arrow.read_bytes()
    for never in (b"DELETED_ME", b"REJECTED", b"SHOWN_ONLY", b"NEVER", b"# noqa"):
        assert never not in everything


def test_manifest_and_stats_count_every_suggestion_by_reason(tmp_path: Path) -> None:
    out = run_data(tmp_path, _fate_log(tmp_path))
    manifest = {row["id"]: row for row in read_jsonl(out / "manifest.jsonl")}
    assert {k: v["reason"] for k, v in manifest.items()} == {
        "kept": "log_retained_example",
        "trimmed": "log_retained_example",
        "partial": "log_partial_retained",
        "deleted": "log_deleted",
        "rejected": "log_rejected",
        "shown": "log_shown_only",
        "unmeasured": "log_unmeasured",
    }
    assert [k for k, v in manifest.items() if v["accepted"]] == ["kept", "trimmed", "partial"]
    assert all(v["split"] is None for v in manifest.values() if not v["accepted"])
    log = json.loads((out / "stats.json").read_text())["log"]
    assert log["suggestions"] == 7 and log["sources"] == 1
    assert log["reasons"] == {
        "log_deleted": 1,
        "log_partial_retained": 1,
        "log_rejected": 1,
        "log_retained_example": 2,
        "log_shown_only": 1,
        "log_unmeasured": 1,
    }
    assert sum(log["examples"].values()) == 3
    gate = {row["id"]: row for row in read_jsonl(out / "gate.jsonl")}
    assert set(gate) == set(manifest)
    assert {k for k, row in gate.items() if row["label"]} == {
        "kept",
        "trimmed",
        "partial",
        "unmeasured",  # taken and never measured counts as taken (Suggestion.label)
    }
    assert gate["deleted"]["retained_fraction"] < 0.5 and gate["deleted"]["taken"]
    assert gate["kept"]["features"] == {
        "mean_logprob": -0.4,
        "length_chars": 25,
        "context_kind": "mid_line",
    }
    assert "prefix" not in gate["kept"] and "text" not in gate["kept"]


def test_a_secret_in_a_logged_prefix_is_redacted(tmp_path: Path) -> None:
    prefix = f'AWS_ID = "{AWS_KEY}"\n\n\ndef connect(folio):\n    '
    spanning = 'DB_PASSWORD = "'  # the user accepted the value of a password
    rows = [
        *suggestion("secret", "kept", prefix=prefix),
        *suggestion("span", "kept", prefix=spanning, text='hunter2-quill"', suffix="\n", ts=2000),
    ]
    out = run_data(tmp_path, write_jsonl(tmp_path / "acceptance.jsonl", rows))
    examples = [r for split in dataset_rows(out).values() for r in split]
    assert len(examples) == 1
    assert (
        AWS_KEY not in examples[0]["prompt"]
        and "<REDACTED_AWS_ACCESS_KEY>" in examples[0]["prompt"]
    )
    for arrow in (out / "dataset").rglob("*.arrow"):
        assert AWS_KEY.encode() not in arrow.read_bytes()
        assert b"hunter2-quill" not in arrow.read_bytes()
    stats = json.loads((out / "stats.json").read_text())
    assert stats["redactions"]["aws_access_key"] == 1
    reasons = {row["id"]: row["reason"] for row in read_jsonl(out / "manifest.jsonl")}
    assert reasons["span"] == "log_redaction_failed (a secret spans the cursor)"
    assert stats["log"]["reasons"]["log_redaction_failed"] == 1


def test_redact_parts_fails_closed_across_the_cursor() -> None:
    parts, found, clean = redact_parts(("TOKEN = '", "ghp_" + "a1B2" * 10, "'\n"))
    assert "a1B2" not in "".join(parts) and found["github_token"] == 1 and clean
    _, found, clean = redact_parts(('PASSWORD = "', "s3cret-quill", '"\n'))
    assert not clean and found["password"] == 1


def test_duplicates_and_contaminated_suggestions_make_no_example(tmp_path: Path) -> None:
    own = (
        "def own_problem(xs):\n    '''Sum of squares of xs, a distinctive problem.'''\n"
        "    return sum(x * x for x in xs)\n"
    )
    bench = write_jsonl(tmp_path / "bench.jsonl", [{"task_id": "Own/0", "prompt": own}])
    prefix = "import os\n\n\ndef settle(folio):\n    "
    rows = [
        *suggestion("first", "kept", prefix=prefix, ts=100),
        *suggestion("again", "kept", prefix=prefix, ts=200),  # the same example, another id
        # the same text kept at the same spot, after an edit further up the file
        *suggestion("moved", "kept", prefix="import sys\n" + prefix, ts=300),
        *suggestion("bench", "kept", prefix=own + "\n\ndef f():\n    ", ts=400),
    ]
    out = run_data(
        tmp_path,
        write_jsonl(tmp_path / "acceptance.jsonl", rows),
        extra=("--decontaminate", str(bench), "--no-humaneval"),
    )
    reasons = {row["id"]: row["reason"] for row in read_jsonl(out / "manifest.jsonl")}
    assert reasons == {
        "first": "log_retained_example",
        "again": "log_duplicate (exact, of first)",
        "moved": "log_duplicate (same hole, of first)",
        "bench": "log_contaminated (bench.jsonl Own/0)",
    }
    stats = json.loads((out / "stats.json").read_text())
    assert stats["decontamination"] == {"bench.jsonl": 1}
    assert stats["log"]["reasons"] == {
        "log_contaminated": 1,
        "log_duplicate": 2,
        "log_retained_example": 1,
    }


def _many_files_log(tmp_path: Path, files: int = 12, per_file: int = 3) -> Path:
    rows = []
    for f in range(files):
        for k in range(per_file):
            rows += suggestion(
                f"f{f}-{k}",
                "kept",
                rel=f"pkg/mod{f}.py",
                prefix=f"def settle_{f}_{k}(folio):\n    ",
                text=f"qb_guard(folio, 'step{k}')",
                ts=1000 + 100 * (f * per_file + k),
            )
    return write_jsonl(tmp_path / "acceptance.jsonl", rows)


def test_held_out_split_is_by_file(tmp_path: Path) -> None:
    out = run_data(tmp_path, _many_files_log(tmp_path), extra=("--eval-fraction", "0.3"))
    rows = dataset_rows(out)
    train = {r["path"] for r in rows["train"]}
    held_out = {r["path"] for r in rows["eval"]}
    assert train and held_out and not train & held_out
    assert len(rows["train"]) + len(rows["eval"]) == 36
    assert all(len([r for r in rows["eval"] if r["path"] == p]) == 3 for p in held_out)
    # held-out holes are in the order the format is served in, like the fim task's
    assert all(TINY.parse_prompt(r["prompt"])[2] == TINY.default_order for r in rows["eval"])
    gate = read_jsonl(out / "gate.jsonl")
    split_of = {r["path"]: r["split"] for r in rows["train"] + rows["eval"]}
    assert all(row["split"] == split_of[row["path"]] for row in gate)


def test_a_folder_and_a_log_together(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    for n in range(8):
        (repo / "pkg" / f"mod{n}.py").write_text(
            f'"""Module {n}."""\n\n\ndef settle_{n}(folio_{n}, amount_{n}):\n'
            f"    folio_{n}.hold_{n}(amount_{n} * {n + 3})\n    return folio_{n}.total_{n}({n})\n"
        )
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"text": "x = 41\n", "path": "extra.py"}])
    log = _many_files_log(tmp_path, files=8, per_file=1)
    out = run_data(tmp_path, repo, corpus, log, extra=("--eval-fraction", "0.3"))
    manifest = read_jsonl(out / "manifest.jsonl")
    files = {r["path"]: r for r in manifest if "id" not in r}
    suggestions = [r for r in manifest if "id" in r]
    assert "extra.py" in files and "pkg/mod0.py" in files
    assert len(suggestions) == 8
    # a suggestion in a file of the repository is that file: same path, same split
    for row in suggestions:
        assert row["path"] in files
        assert row["split"] == files[row["path"]]["split"]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["files"]["accepted"] == 9
    assert stats["log"]["reasons"] == {"log_retained_example": 8}
    rows = dataset_rows(out)
    assert {r["task"] for r in rows["train"]} >= {"fim", "lm"}


def test_without_a_log_there_is_no_gate_file(tmp_path: Path) -> None:
    out = run_data(tmp_path, _fate_log(tmp_path))
    assert (out / "gate.jsonl").is_file()
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{"text": "x = 41\n", "path": "x.py"}])
    run_data(tmp_path, corpus)
    assert not (out / "gate.jsonl").exists()  # a stale one would describe another run
    assert "log" not in json.loads((out / "stats.json").read_text())


@pytest.mark.parametrize("tasks", ["lm,docstring"])
def test_fim_left_out_of_tasks_leaves_the_log_out(tmp_path: Path, tasks: str) -> None:
    out = run_data(tmp_path, _fate_log(tmp_path), extra=("--tasks", tasks))
    reasons = json.loads((out / "stats.json").read_text())["log"]["reasons"]
    assert reasons["log_fim_not_requested"] == 3
    assert all(not split for split in dataset_rows(out).values())


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_reruns_are_byte_identical_and_a_log_given_twice_counts_once(tmp_path: Path) -> None:
    log = _fate_log(tmp_path)
    first = _tree(run_data(tmp_path / "a", log))
    assert _tree(run_data(tmp_path / "b", log)) == first
    twice = run_data(tmp_path / "c", log, log)
    stats = json.loads((twice / "stats.json").read_text())["log"]
    assert stats["suggestions"] == 7 and sum(stats["examples"].values()) == 3
    assert (
        _tree(twice)["dataset/train/data-00000-of-00001.arrow"]
        == first["dataset/train/data-00000-of-00001.arrow"]
    )
