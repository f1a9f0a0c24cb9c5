"""Next-edit examples mined from a git repository's commits, and their held-out split.

Each commit of the current branch (newest first, up to ``max_commits``) gets one
manifest row. It is skipped, with the reason, when it is a merge or root commit, or when
none of its files is usable: vendored, generated, binary, added, deleted, in an
unsupported language, not a kept file of the source (rejected by the filters or
deduplication, or gone since), contaminated, or its redaction failed (fail closed; also
when it would change the line count, which would shift the hunks). What remains is
skipped when it has too many files, hunks or changed lines (a sweeping refactor or a
vendored update says nothing about the next edit). The cases themselves come from
:func:`.next_edit.file_cases`.

**Split.** A commit is held out as a whole, never in part, when a seeded hash of its id
falls under the eval fraction (``held_out_by: commit``). When the data also has tasks
split by file (``fim``, ``lm``, ``docstring``, ``fix``), a commit that touches a file
those tasks hold out is held out too (``held_out_by: file``), so no part of a held-out
file, its history included, is trained on. At least one commit is held out, and one kept
for training, when there are two.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.core.edit_prediction import EditFormat
from codegen.core.fim import FimFormat
from codegen.core.secrets import Redactor, redact_secrets
from codegen.core.syntax import language_for_path

from ..decontam import ContaminationIndex
from ..dedup import exact_key
from ..example import Example
from ..filters import FilterConfig, check_generated
from ..sources import VENDORED_DIRS
from ..split import split_score
from .commits import git_output
from .next_edit import EditCase, Hunk, NextEditConfig, edit_format, file_cases

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FileDiff:
    path: str
    hunks: list[Hunk] = field(default_factory=list)
    status: str = "modified"
    """``modified``, ``added``, ``deleted`` or ``binary``."""


def parse_diff(diff: str) -> list[FileDiff]:
    """The files of a ``git show --unified=0 --no-renames`` diff with their hunk headers
    (the lines themselves are read from the two versions of the file)."""
    files: list[FileDiff] = []
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            parts = line.split(" b/", 1)
            files.append(FileDiff(parts[1] if len(parts) == 2 else line))
        elif not files:
            continue
        elif line.startswith("new file mode"):
            files[-1].status = "added"
        elif line.startswith("deleted file mode"):
            files[-1].status = "deleted"
        elif line.startswith(("Binary files", "GIT binary patch")):
            files[-1].status = "binary"
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            if match is not None:
                a, b, c, d = (int(g) if g is not None else 1 for g in match.groups())
                # -U0 counts of 0 name the line *after which* the change goes.
                files[-1].hunks.append(Hunk(a - 1 if b else a, b, c - 1 if d else c, d))
    return files


def list_commits(repo: Path, max_commits: int) -> list[tuple[str, list[str]]]:
    """``(commit, parents)`` of the current branch, newest first."""
    log = git_output(repo, "log", "--format=%H %P", f"--max-count={max_commits}", "HEAD")
    out = []
    for line in (log or "").splitlines():
        sha, *parents = line.split()
        out.append((sha, parents))
    return out


@dataclass
class CommitResult:
    """One commit's manifest row and cases (with the by-file split of each case's file)."""

    row: dict[str, Any]
    cases: list[EditCase] = field(default_factory=list)
    file_splits: list[str] = field(default_factory=list)


@dataclass
class Hygiene:
    """What the file checks need from the pipeline."""

    kept: dict[str, tuple[str, str]]
    """Kept files of the source: path -> (language, by-file split)."""
    contamination: ContaminationIndex
    redactions: Counter[str]
    redactor: Redactor = redact_secrets
    filters: FilterConfig = field(default_factory=FilterConfig)


def examine_commit(
    repo: Path, sha: str, parents: list[str], hygiene: Hygiene, config: NextEditConfig,
    counts: Counter[str],
) -> CommitResult:  # fmt: skip
    """The manifest row of one commit and its cases (see the module docstring)."""
    row: dict[str, Any] = {
        "source": str(repo), "kind": "commit", "commit": sha, "path": None,
        "accepted": False, "reason": None, "split": None, "held_out_by": None, "examples": 0,
        "files": {},
    }  # fmt: skip
    result = CommitResult(row)
    if len(parents) != 1:
        row["reason"] = "merge commit" if parents else "root commit"
        return result
    diff = git_output(repo, "show", "--format=", "--unified=0", "--no-color", "--no-ext-diff",
                "--no-renames", sha)  # fmt: skip
    if diff is None:
        row["reason"] = "git failed"
        return result
    files = parse_diff(diff)
    if len(files) > config.max_files:
        row["reason"] = f"too many files ({len(files)} > {config.max_files})"
        return result
    usable: list[tuple[FileDiff, str, str]] = []
    for file in files:
        reason, texts = _usable_file(repo, sha, parents[0], file, hygiene)
        row["files"][file.path] = reason
        if texts is not None:
            usable.append((file, *texts))
    if not usable:
        reasons = sorted({r.split(" (")[0] for r in row["files"].values() if r})
        row["reason"] = reasons[0] if len(reasons) == 1 else "no usable file"
        return result
    hunks = sum(len(f.hunks) for f, _, _ in usable)
    changed = sum(h.old_count + h.new_count for f, _, _ in usable for h in f.hunks)
    if hunks > config.max_hunks:
        row["reason"] = f"too many hunks ({hunks} > {config.max_hunks})"
    elif changed > config.max_changed_lines:
        row["reason"] = f"too many changed lines ({changed} > {config.max_changed_lines})"
    if row["reason"]:
        return result
    for file, before, after in usable:
        language, split = hygiene.kept[file.path]
        cases = file_cases(file.path, language, before, after, file.hunks, config, sha, counts)
        if cases is None:
            row["files"][file.path] = "diff does not apply"
            continue
        result.cases += cases
        result.file_splits += [split] * len(cases)
    if not result.cases:
        row["reason"] = "no follow-up hunk"
    return result


def _usable_file(
    repo: Path, sha: str, parent: str, file: FileDiff, hygiene: Hygiene
) -> tuple[str | None, tuple[str, str] | None]:
    """``(None, (before, after))`` redacted, or ``(reason, None)``."""
    if any(part in VENDORED_DIRS for part in file.path.split("/")[:-1]):
        return "vendored", None
    if file.status != "modified":
        return file.status, None
    if language_for_path(file.path) is None:
        return "unsupported language", None
    if check_generated(file.path, "", hygiene.filters):  # by its name
        return "generated", None
    if file.path not in hygiene.kept:
        return "not a kept file", None
    before = git_output(repo, "show", f"{parent}:{file.path}")
    after = git_output(repo, "show", f"{sha}:{file.path}")
    if before is None or after is None:
        return "git failed", None
    texts = (before.replace("\r\n", "\n"), after.replace("\r\n", "\n"))
    reason = check_generated(file.path, texts[0], hygiene.filters)
    if reason:
        return reason, None
    try:
        redacted = [hygiene.redactor(text) for text in texts]
    except Exception as err:  # fail closed: a redaction bug must never leak a file
        return f"redaction failed ({type(err).__name__})", None
    if any(r.count("\n") != t.count("\n") for (r, _), t in zip(redacted, texts, strict=True)):
        return "redaction changed the line count", None
    for _, found in redacted:
        hygiene.redactions.update(found)
    before, after = redacted[0][0], redacted[1][0]
    match = hygiene.contamination.match(before + "\n" + after)
    if match is not None:
        return f"contaminated ({match.benchmark} {match.name})", None
    return None, (before, after)


def assign_commit_splits(
    results: list[CommitResult], eval_fraction: float, seed: int, by_file: bool = True
) -> dict[str, tuple[str, str | None]]:
    """``commit -> (split, held_out_by)`` for the commits that have cases (see the module
    docstring; ``by_file``: the data has tasks split by file)."""
    with_cases = [r for r in results if r.cases]
    out: dict[str, tuple[str, str | None]] = {}
    for result in with_cases:
        sha = result.row["commit"]
        if by_file and "eval" in result.file_splits:
            out[sha] = ("eval", "file")
        elif split_score(f"commit:{sha}", seed) < eval_fraction:
            out[sha] = ("eval", "commit")
        else:
            out[sha] = ("train", None)
    shas = sorted(out, key=lambda s: split_score(f"commit:{s}", seed))
    if len(shas) >= 2 and eval_fraction > 0 and all(v[0] == "train" for v in out.values()):
        out[shas[0]] = ("eval", "commit")
    by_commit = [s for s in reversed(shas) if out[s][1] != "file"]
    if len(shas) >= 2 and all(v[0] == "eval" for v in out.values()) and by_commit:
        out[by_commit[0]] = ("train", None)
    return out


def commit_next_edit_examples(
    repo: Path, hygiene: Hygiene, fim: FimFormat, config: NextEditConfig, eval_fraction: float,
    seed: int, counts: Counter[str], progress: Any = None, by_file: bool = True,
) -> tuple[list[tuple[Example, str, dict[str, Any]]], list[dict[str, Any]]]:  # fmt: skip
    """``([(example, split, case row)], manifest rows)`` for the commits of ``repo``
    (``by_file``: the data also has tasks split by file).

    An example that repeats an earlier one exactly (a cherry-pick, a revert of a revert)
    is dropped, so the same case is never on both sides of the split.
    """
    fmt = edit_format(fim, config.max_events)
    commits = list_commits(repo, config.max_commits)
    iterator: Iterable[tuple[str, list[str]]] = progress(commits) if progress else commits
    results = [
        examine_commit(repo, sha, parents, hygiene, config, counts) for sha, parents in iterator
    ]
    splits = assign_commit_splits(results, eval_fraction, seed, by_file)
    seen: set[str] = set()
    found = []
    for result in results:
        row = result.row
        if result.cases:
            _take_cases(result, splits[row["commit"]], fmt, seen, found, str(repo), counts)
        counts[f"commit {row['reason'].split(' (')[0]}" if row["reason"] else "commit used"] += 1
    return found, [r.row for r in results]


def _take_cases(
    result: CommitResult, split_of: tuple[str, str | None], fmt: EditFormat, seen: set[str],
    found: list[tuple[Example, str, dict[str, Any]]], source: str, counts: Counter[str],
) -> None:  # fmt: skip
    row = result.row
    split, held_out_by = split_of
    for case in result.cases:
        example = case.example(fmt)
        key = exact_key(example.prompt + "\x00" + example.completion)
        if key in seen:
            counts["duplicate"] += 1
            continue
        seen.add(key)
        counts[case.kind] += 1
        row["examples"] += 1
        found.append((example, split, case.row(split, source, held_out_by)))
    row["accepted"] = row["examples"] > 0
    if row["accepted"]:
        row["split"], row["held_out_by"] = split, held_out_by
    else:
        row["reason"] = "duplicate examples"
