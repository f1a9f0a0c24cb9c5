"""Acceptance logs as a source: the code users kept becomes FIM examples (and, with
``--tasks next-edit``, the next edits they accepted become next-edit examples: see
:mod:`.tasks.next_edit_log`).

The language server's opt-in acceptance log (:mod:`codegen.core.usage_log`) records each
suggestion with the code around the cursor, what the user did with it and, after an
accept, how much of it is still in the document. A ``--source`` whose records are that
schema (:func:`is_usage_log`) is read as a log instead of a corpus. Each suggestion
gets one outcome (:func:`log_outcome`), the reason the manifest and ``stats.json`` show:

``log_retained_example`` / ``log_partial_retained``
    accepted whole / in part, and at least :data:`~codegen.core.usage_log.RETAINED_ENOUGH`
    of it was still there at its last retention measurement: a FIM example with its real
    context. Prefix and suffix are the record's; the middle is the text the user kept.
``log_deleted``
    taken, then mostly deleted (retained below ``RETAINED_ENOUGH``).
``log_unmeasured``
    taken, but the log ends before any retention measurement.
``log_rejected`` / ``log_shown_only``
    dismissed / shown and neither accepted nor dismissed.
``log_incomplete``
    only retention records (its accept is in a rotated file that is gone).

A would-be example goes through the hygiene of files and can still be dropped, with the
reason ``log_unsupported_language``, ``log_empty_kept``, ``log_redaction_failed`` (fail
closed, also when a secret spans the cursor), ``log_contaminated (BENCHMARK NAME)``,
``log_duplicate (exact|same hole, of ID)`` or ``log_fim_not_requested`` (``--tasks``
without ``fim``). Every shown inline suggestion, example or not, is also a labelled row
for the gate (:func:`gate_row`, written to ``gate.jsonl``); next-edit suggestions are not
(the gate decides on inline completions).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from codegen.core.fim import FimFormat
from codegen.core.secrets import Redactor, redact_secrets, secret_spans
from codegen.core.syntax import language_for_id, language_for_path
from codegen.core.usage_log import (
    GATE_FEATURES,
    ReadStats,
    Suggestion,
    collect,
    looks_like_usage_log,
    read_records,
)

from .decontam import ContaminationIndex
from .dedup import exact_key
from .example import Example, clip_prefix, clip_suffix
from .tasks.fim import FimConfig, spm_share
from .tasks.next_edit import EditCase
from .tasks.next_edit_log import accepted_edit_case, is_next_edit_record, next_edit_outcome

RETAINED_EXAMPLE = "log_retained_example"
PARTIAL_RETAINED = "log_partial_retained"
EXAMPLE_OUTCOMES = (RETAINED_EXAMPLE, PARTIAL_RETAINED)
"""Outcomes that make a FIM example (unless the hygiene drops it)."""

_LOG_NAME = re.compile(r"\.jsonl(\.gz)?(\.\d+)?$")
_SAME_HOLE_LINES = 2
"""Lines of context on each side that make two examples the same hole."""


def is_usage_log(source: Path) -> bool:
    """Whether a ``--source`` is an acceptance log: a ``.jsonl`` file (``.gz`` or rotated
    ``.N`` too) whose first parsable rows are acceptance-log records."""
    return source.is_file() and bool(_LOG_NAME.search(source.name)) and looks_like_usage_log(source)


class HygieneCounts(Protocol):
    """The pipeline's counters that the hygiene of log examples adds to."""

    redactions: Counter[str]
    decontamination: Counter[str]


@dataclass
class LogStats:
    """The ``log`` section of ``stats.json``."""

    sources: int = 0
    suggestions: int = 0
    unreadable_lines: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: Counter[str] = field(default_factory=Counter)
    """FIM examples per split."""
    next_edit_examples: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "sources": self.sources,
            "suggestions": self.suggestions,
            "unreadable_lines": self.unreadable_lines,
            "reasons": dict(sorted(self.reasons.items())),
            "examples": dict(sorted(self.examples.items())),
        }
        if self.next_edit_examples:
            out["next_edit_examples"] = dict(sorted(self.next_edit_examples.items()))
        return out


@dataclass
class LogItem:
    """One suggestion of a log and what becomes of it."""

    source: str
    suggestion: Suggestion
    file: str
    """The file it was offered in, as the split sees it (see :func:`suggestion_file`)."""
    language: str | None
    outcome: str
    """What the user did (:func:`log_outcome`), before any hygiene."""
    reason: str
    """The outcome, or why the hygiene dropped the example (``log_duplicate (...)``)."""
    parts: tuple[str, str, str] | None = None
    """``(prefix, middle, suffix)``, redacted and clipped, when it makes an example."""
    next_edit: dict[str, Any] | None = None
    """For a next-edit suggestion: its first record (the fields the server logs)."""
    case: EditCase | None = None
    """The next-edit example of an accepted next-edit suggestion."""


LoggedSuggestion = tuple[str, Suggestion, dict[str, Any] | None]
"""``(source, suggestion, first record if it is a next-edit suggestion)``."""


def read_suggestions(sources: list[Path], stats: LogStats) -> list[LoggedSuggestion]:
    """``(source, suggestion, next-edit record)`` for every suggestion of the logs, in the
    order first seen.

    Events of one id are folded together across sources (a log passed twice, or with its
    rotated files, counts each suggestion once); the source is the first that has it.
    """
    records: list[dict[str, Any]] = []
    first_source: dict[str, str] = {}
    for source in sources:
        read = ReadStats()
        for record in read_records([source], read):
            if isinstance(record.get("id"), str):  # collect() skips the others too
                first_source.setdefault(record["id"], str(source))
                records.append(record)
        stats.unreadable_lines += read.skipped
    stats.sources += len(sources)
    records.sort(key=lambda r: float(r.get("ts") or 0.0))
    next_edits: dict[str, dict[str, Any]] = {}
    for record in records:
        if is_next_edit_record(record):
            next_edits.setdefault(record["id"], record)
    suggestions = collect(records)
    stats.suggestions += len(suggestions)
    return [(first_source[s.id], s, next_edits.get(s.id)) for s in suggestions]


def log_outcome(suggestion: Suggestion) -> str:
    """What the user did with a suggestion, as a manifest reason (see the module docstring)."""
    if suggestion.taken:
        if suggestion.retained is None:
            return "log_unmeasured"
        if not suggestion.retained:
            return "log_deleted"
        return RETAINED_EXAMPLE if suggestion.accepted else PARTIAL_RETAINED
    if suggestion.rejected:
        return "log_rejected"
    return "log_shown_only" if suggestion.shown else "log_incomplete"


def _uri_path(uri: str) -> str:
    return unquote(urlparse(uri).path) if "://" in uri else uri


def suggestion_file(suggestion: Suggestion, known_paths: set[str]) -> str:
    """The file a suggestion belongs to: the path of a file of the other sources that its
    URI (or logged path) ends with, so that file and suggestion share one split; else the
    logged path (the file name), which does not change when the workspace moves."""
    for name in (_uri_path(suggestion.uri), suggestion.path):
        parts = [p for p in name.replace("\\", "/").split("/") if p]
        for start in range(len(parts)):
            candidate = "/".join(parts[start:])
            if candidate in known_paths:
                return candidate
    return suggestion.path or _uri_path(suggestion.uri).rsplit("/", 1)[-1] or suggestion.id


def redact_parts(
    parts: tuple[str, str, str], redactor: Redactor = redact_secrets
) -> tuple[tuple[str, str, str], Counter[str], bool]:
    """``(redacted parts, counts per kind, clean)``. Each part is redacted on its own;
    ``clean`` is False when a secret still shows in the joined text (one that spans the
    cursor, such as ``PASSWORD = "`` before it and the value after): fail closed."""
    counts: Counter[str] = Counter()
    redacted = []
    for part in parts:
        text, found = redactor(part)
        counts.update(found)
        redacted.append(text)
    prefix, middle, suffix = redacted
    leftover = secret_spans(prefix + middle + suffix)
    counts.update(kind for _, _, kind in leftover)
    return (prefix, middle, suffix), counts, not leftover


def clip_context(prefix: str, middle: str, suffix: str, window_chars: int) -> tuple[str, str, str]:
    """At most ``window_chars`` of context around the middle, 70% before it, cut on line
    boundaries: the shape of the held-out holes of the ``fim`` task."""
    prefix = clip_prefix(prefix, len(prefix), int(window_chars * 0.7))
    suffix = clip_suffix(suffix, 0, max(0, window_chars - len(prefix)))
    return prefix, middle, suffix


def _same_hole_key(file: str, parts: tuple[str, str, str]) -> tuple[str, ...]:
    prefix, middle, suffix = parts
    before = [line.strip() for line in prefix.split("\n") if line.strip()][-_SAME_HOLE_LINES:]
    after = [line.strip() for line in suffix.split("\n") if line.strip()][:_SAME_HOLE_LINES]
    return (file, middle.strip(), *before, "\x00", *after)


class _Examples:
    """Duplicate detection for log examples: the same example (exact, trailing whitespace
    ignored), or the same text kept at the same spot of the same file (the lines around it
    equal), e.g. one suggestion accepted, undone and accepted again. Near duplicates by
    MinHash are for whole files: examples of one file share most of their context."""

    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        self.holes: dict[tuple[str, ...], str] = {}

    def duplicate(self, sid: str, file: str, parts: tuple[str, str, str]) -> str | None:
        digest = exact_key("\x00".join(parts))
        if digest in self.exact:
            return f"exact, of {self.exact[digest]}"
        hole = _same_hole_key(file, parts)
        if hole in self.holes:
            return f"same hole, of {self.holes[hole]}"
        self.exact[digest] = sid
        self.holes[hole] = sid
        return None


def examine_suggestions(
    suggestions: Iterable[LoggedSuggestion],
    known_paths: set[str],
    contamination: ContaminationIndex,
    window_chars: int,
    build_fim: bool,
    stats: HygieneCounts,
    redactor: Redactor = redact_secrets,
    build_next_edit: bool = False,
) -> list[LogItem]:
    """One :class:`LogItem` per suggestion, in log order: its outcome, and for a retained
    one the redacted, decontaminated, deduplicated and clipped example parts (for an
    accepted next-edit suggestion, its :class:`EditCase`).

    ``known_paths`` are the files of the other sources (:func:`suggestion_file`);
    ``build_fim`` / ``build_next_edit`` say whether ``--tasks`` has ``fim`` / ``next-edit``.
    """
    seen = _Examples()
    seen_edits: dict[str, str] = {}
    items = []
    for source, suggestion, next_edit in suggestions:
        file = suggestion_file(suggestion, known_paths)
        language = language_for_path(file) or language_for_id(suggestion.language or "")
        if next_edit is not None:
            outcome = next_edit_outcome(suggestion)
            item = LogItem(source, suggestion, file, language, outcome, outcome, None, next_edit)
            if suggestion.accepted:
                item.reason, item.case = accepted_edit_case(
                    next_edit, suggestion.id, file, language, build_next_edit, contamination,
                    stats.redactions, stats.decontamination, seen_edits, redactor,
                )  # fmt: skip
            items.append(item)
            continue
        outcome = log_outcome(suggestion)
        item = LogItem(source, suggestion, file, language, outcome, outcome)
        if outcome in EXAMPLE_OUTCOMES:
            item.reason, item.parts = _example_parts(
                item, contamination, window_chars, build_fim, stats, redactor, seen
            )
        items.append(item)
    return items


def _example_parts(
    item: LogItem,
    contamination: ContaminationIndex,
    window_chars: int,
    build_fim: bool,
    stats: HygieneCounts,
    redactor: Redactor,
    seen: _Examples,
) -> tuple[str, tuple[str, str, str] | None]:
    """``(reason, parts or None)`` for a retained suggestion."""
    suggestion = item.suggestion
    final = suggestion.final_retention
    kept = final.kept if final is not None else ""
    if not build_fim:
        return "log_fim_not_requested", None
    if item.language is None:
        return "log_unsupported_language", None
    if not kept.strip():
        return "log_empty_kept", None
    try:
        parts, found, clean = redact_parts((suggestion.prefix, kept, suggestion.suffix), redactor)
    except Exception as err:  # fail closed: a redaction bug must never leak the user's code
        return f"log_redaction_failed ({type(err).__name__})", None
    stats.redactions.update(found)
    if not clean:
        return "log_redaction_failed (a secret spans the cursor)", None
    match = contamination.match("".join(parts))
    if match is not None:
        stats.decontamination[match.benchmark] += 1
        return f"log_contaminated ({match.benchmark} {match.name})", None
    parts = clip_context(*parts, window_chars)
    duplicate = seen.duplicate(suggestion.id, item.file, parts)
    if duplicate is not None:
        return f"log_duplicate ({duplicate})", None
    return item.outcome, parts


def _rng(seed: int, sid: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:log:{sid}".encode("utf-8", errors="surrogatepass"))
    return random.Random(int(digest.hexdigest()[:16], 16))


def log_example(item: LogItem, split: str, fmt: FimFormat, fim: FimConfig, seed: int) -> Example:
    """The FIM example of a retained suggestion, built by ``core``'s format like the ``fim``
    task's: held out in the order the format is served in, for training in the same mix of
    orders as the task's holes (``--spm-rate``), drawn from the seed and the id."""
    assert item.parts is not None and item.language is not None
    prefix, middle, suffix = item.parts
    if split == "eval":
        order = fmt.default_order
    else:
        order = "spm" if _rng(seed, item.suggestion.id).random() < spm_share(fim, fmt) else "psm"
    prompt, completion = fmt.build_training_example(prefix, middle, suffix, order)
    return Example("fim", prompt, completion, item.file, item.language)


def manifest_row(item: LogItem, split: str | None) -> dict[str, Any]:
    """The suggestion's manifest row: ``accepted`` = it became an example."""
    example = item.parts is not None or item.case is not None
    return {
        "source": item.source,
        "path": item.file,
        "id": item.suggestion.id,
        "accepted": example,
        "reason": item.reason,
        "split": split if example else None,
    }


def gate_row(item: LogItem, split: str) -> dict[str, Any]:
    """A labelled row for the show/no-show gate: what it could see before showing the
    suggestion (``features``), and what happened (``label`` = taken and not deleted)."""
    s = item.suggestion
    final = s.final_retention
    return {
        "id": s.id,
        "ts": s.ts,
        "source": item.source,
        "path": item.file,
        "split": split,
        "language": s.language,
        "features": {k: s.features[k] for k in GATE_FEATURES if k in s.features},
        "outcome": item.outcome,
        "taken": s.taken,
        "retained_fraction": final.retained_fraction if final is not None else None,
        "label": s.label,
    }
