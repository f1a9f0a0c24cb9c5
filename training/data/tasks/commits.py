"""Real bug-fix pairs from small commits of a git repository.

A commit qualifies when it touches exactly one file with exactly one hunk that
replaces 1 to ``max_lines`` lines by as many lines (the shape of a typical
one-line fix). The prompt is the function (or a window of lines) around the
hunk *before* the commit; the completion is the replacement lines.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.core.fim import FimFormat
from codegen.core.secrets import redact_secrets
from codegen.core.syntax import find_definitions

from ..decontam import ContaminationIndex
from ..example import Example
from .fix import build_fix_prompt

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class CommitFix:
    commit: str
    path: str
    before: str
    """The whole file before the commit."""
    first_line: int
    """0-based line of the first replaced line in ``before``."""
    removed: tuple[str, ...]
    added: tuple[str, ...]


def parse_single_hunk_diff(
    diff: str, max_lines: int = 3
) -> tuple[str, int, list[str], list[str]] | None:
    """``(path, 0-based first line, removed, added)`` for a one-file, one-hunk, n-for-n replacement."""
    if diff.count("\ndiff --git ") + diff.startswith("diff --git ") != 1:
        return None
    path = None
    hunks = []
    removed: list[str] = []
    added: list[str] = []
    for line in diff.split("\n"):
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("Binary files"):
            return None
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            if match is None:
                return None
            hunks.append(match)
        elif hunks and line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif hunks and line.startswith("+"):
            added.append(line[1:])
    if path is None or len(hunks) != 1:
        return None
    if not 1 <= len(removed) <= max_lines or len(removed) != len(added):
        return None
    if [r.strip() for r in removed] == [a.strip() for a in added]:
        return None  # whitespace-only change
    return path, int(hunks[0].group(1)) - 1, removed, added


def git_output(repo: Path, *args: str) -> str | None:
    """``git -C repo ARGS``'s stdout, or None when git is missing, fails or takes over 60 s."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def iter_commit_fixes(repo: Path, max_commits: int, max_lines: int = 3) -> Iterator[CommitFix]:
    """Qualifying commits of ``repo``'s current branch, newest first (none if git is unavailable)."""
    log = git_output(
        repo, "log", "--no-merges", "--format=%H", f"--max-count={max_commits}", "HEAD"
    )
    for commit in (log or "").split():
        diff = git_output(
            repo,
            "show",
            "--format=",
            "--unified=0",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            commit,
        )
        parsed = parse_single_hunk_diff(diff or "", max_lines)
        if parsed is None:
            continue
        path, first_line, removed, added = parsed
        before = git_output(repo, "show", f"{commit}^:{path}")
        if before is None:
            continue
        lines = before.split("\n")
        if lines[first_line : first_line + len(removed)] != removed:
            continue
        yield CommitFix(commit, path, before, first_line, tuple(removed), tuple(added))


def fix_context(
    text: str, language: str, first_line: int, count: int, max_chars: int = 3000
) -> str:
    """The innermost function around lines ``first_line..first_line+count`` if it is at most
    ``max_chars`` long, else the 15 lines on each side."""
    last_line = first_line + count - 1
    around = [
        d
        for d in find_definitions(text, language)
        if d.kind != "class" and d.start_line <= first_line and last_line <= d.end_line
    ]
    lines = text.split("\n")
    if around:
        inner = max(around, key=lambda d: d.start)
        if inner.end - inner.start <= max_chars:
            return "\n".join(lines[inner.start_line : inner.end_line + 1]) + "\n"
    start = max(0, first_line - 15)
    return "\n".join(lines[start : last_line + 16]).rstrip("\n") + "\n"


def build_commit_fix_example(fix: CommitFix, language: str, fmt: FimFormat, before: str) -> Example:
    """The fix example of one qualifying commit; ``before`` is the (redacted) file before it."""
    snippet = fix_context(before, language, fix.first_line, len(fix.removed))
    completion = "\n".join(fix.added) + "\n" + fmt.eot_token
    return Example("fix", build_fix_prompt(snippet, language), completion, fix.path, language)


def commit_fix_examples(
    repo: Path,
    kept: dict[str, tuple[str, str]],
    contamination: ContaminationIndex,
    fmt: FimFormat,
    max_commits: int,
    counts: Counter[str],
) -> list[tuple[Example, str]]:
    """``(example, split)`` for qualifying commits of files in ``kept`` (path -> language, split).

    The file before the commit is redacted (fail closed) and decontaminated like any input.
    """
    found = []
    for fix in iter_commit_fixes(repo, max_commits):
        if fix.path not in kept:
            continue
        language, split = kept[fix.path]
        try:
            before, _ = redact_secrets(fix.before)
        except Exception:
            counts["redaction failed"] += 1
            continue
        if contamination.match(before) is not None:
            counts["contaminated"] += 1
            continue
        found.append((build_commit_fix_example(fix, language, fmt, before), split))
        counts["used"] += 1
    return found
