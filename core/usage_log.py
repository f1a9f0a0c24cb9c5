"""The acceptance log's format: one definition for the server that writes it, the report
(``codegen-eval usage``), the training data it feeds (``codegen-train data``) and the
show/no-show gate (``codegen-train gate``).

A log is JSONL, one event per line, appended by the language server when the user opts
in (``acceptanceLog.enabled``). Every record carries ``"schema": "codegen.usage/1"``
and the suggestion it is about, so each line stands on its own:

``schema``, ``ts`` (Unix seconds), ``event``, ``id`` (the suggestion's id)
    always.
``uri``, ``path`` (the file name), ``language``, ``model``, ``adapter`` (or null),
``source`` (``model``, ``cache`` or ``typed``), ``latency_ms``, ``text`` (the
suggestion), ``line``/``col`` (where it was offered, 0-based, code points),
``prefix``/``suffix`` (the redacted code before and after the cursor), ``features``
(what the gate sees; :data:`GATE_FEATURES`), ``candidate`` (its index among the
alternatives, 0 = the first shown)
    the suggestion, repeated in every event.
``accepted_chars``
    ``partial``: how many characters of ``text`` the user took.
``after_s``, ``retained_chars``, ``retained_fraction``, ``kept``, ``status``
    ``retained``: ``after_s`` seconds after an accept, how much of the accepted text is
    still in the document where it was inserted (an edit-distance match), the text now
    in that region (``kept``), and ``status``: ``measured``, or ``closed`` / ``changed``
    when the document was closed or replaced first (then measured on its last text).

Event names: ``shown``, ``accepted``, ``partial``, ``rejected`` (dismissed),
``retained``. Logs written before this schema (``shown``/``accepted``/``rejected``
records with ``id`` and ``text`` but no ``schema``) are read too.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "codegen.usage/1"
SHOWN, ACCEPTED, PARTIAL, REJECTED, RETAINED = (
    "shown",
    "accepted",
    "partial",
    "rejected",
    "retained",
)
EVENTS = (SHOWN, ACCEPTED, PARTIAL, REJECTED, RETAINED)
RETAIN_DELAYS_S = (30.0, 120.0)
"""The default delays after an accept at which retention is measured."""
RETAINED_ENOUGH = 0.5
"""An accepted suggestion counts as retained when at least this fraction of it survives
its last retention measurement."""

GATE_FEATURES = (
    "mean_logprob",
    "min_logprob",
    "first_margin",
    "length_chars",
    "lines",
    "multiline",
    "context_kind",
    "language",
    "since_keystroke_ms",
    "recent_accept_rate",
)
"""What the gate may use, all known before a suggestion is shown: the mean and minimum
log-probability of its tokens, the first token's margin over the runner-up (nats), its
length in characters and lines, whether it was a multi-line request, the kind of cursor
context (:data:`CONTEXT_KINDS`), the document's language, the time since the previous
keystroke in the document, and the user's accept rate over the recent suggestions."""
CONTEXT_KINDS = ("end_of_line", "mid_line", "empty_line", "after_colon", "docstring")


def is_usage_record(row: Any) -> bool:
    """Whether one parsed JSONL row is an acceptance-log record (of either schema)."""
    if not isinstance(row, dict):
        return False
    if row.get("schema") == SCHEMA:
        return True
    return (
        row.get("event") in (SHOWN, ACCEPTED, REJECTED)
        and isinstance(row.get("id"), str)
        and "text" in row
        and "uri" in row
    )


def looks_like_usage_log(path: Path, probe_lines: int = 20) -> bool:
    """Whether a JSONL file holds acceptance-log records (its first parsable rows are)."""
    seen = 0
    for row in _rows(path, limit=probe_lines):
        if row is None:
            continue
        seen += 1
        if not is_usage_record(row):
            return False
    return seen > 0


def _open(path: Path) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _rows(path: Path, limit: int | None = None) -> Iterator[Any]:
    """Parsed rows of a JSONL file; ``None`` for a line that is not JSON."""
    with _open(path) as fh:
        for n, line in enumerate(fh):
            if limit is not None and n >= limit:
                return
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                yield None


@dataclass
class ReadStats:
    records: int = 0
    skipped: int = 0
    """Lines that were not JSON or not acceptance-log records (a torn last line, say)."""


def rotated_files(path: Path) -> list[Path]:
    """``path`` and its rotated predecessors (``path.1``, ``path.2``, ...), oldest first."""
    older = []
    n = 1
    while (candidate := path.with_name(f"{path.name}.{n}")).exists():
        older.append(candidate)
        n += 1
    return [*reversed(older), *([path] if path.exists() else [])]


def read_records(paths: Iterable[Path], stats: ReadStats | None = None) -> list[dict[str, Any]]:
    """Every acceptance-log record in ``paths`` (each with its rotated files), in time
    order. Missing files raise ``FileNotFoundError``; unreadable lines are counted in
    ``stats`` and skipped."""
    stats = stats if stats is not None else ReadStats()
    out: list[dict[str, Any]] = []
    for path in paths:
        files = rotated_files(path)
        if not files:
            raise FileNotFoundError(f"no acceptance log at {path}")
        for file in files:
            for row in _rows(file):
                if is_usage_record(row):
                    out.append(row)
                    stats.records += 1
                else:
                    stats.skipped += 1
    out.sort(key=lambda r: float(r.get("ts") or 0.0))
    return out


@dataclass
class Retention:
    after_s: float
    retained_chars: int
    retained_fraction: float
    kept: str
    status: str


@dataclass
class Suggestion:
    """Everything the log says about one suggestion, its events folded together."""

    id: str
    ts: float
    uri: str = ""
    path: str = ""
    language: str = ""
    model: str = ""
    adapter: str | None = None
    source: str = ""
    latency_ms: float | None = None
    text: str = ""
    line: int | None = None
    col: int | None = None
    prefix: str = ""
    suffix: str = ""
    features: dict[str, Any] = field(default_factory=dict)
    candidate: int = 0
    shown: bool = False
    accepted: bool = False
    """Accepted whole (``accepted``), not counting partial accepts."""
    partial_chars: int = 0
    """The most characters taken by ``partial`` events (0 when none)."""
    rejected: bool = False
    retention: list[Retention] = field(default_factory=list)
    """Retention measurements, in the order of their delays."""

    @property
    def taken(self) -> bool:
        """Accepted whole or in part."""
        return self.accepted or self.partial_chars > 0

    @property
    def taken_chars(self) -> int:
        return len(self.text) if self.accepted else self.partial_chars

    def retained_at(self, after_s: float) -> Retention | None:
        for r in self.retention:
            if abs(r.after_s - after_s) < 1e-6:
                return r
        return None

    @property
    def final_retention(self) -> Retention | None:
        return max(self.retention, key=lambda r: r.after_s) if self.retention else None

    @property
    def retained(self) -> bool | None:
        """Accepted and still (mostly) there at its last measurement; None when it was
        taken but never measured (the log ends first)."""
        if not self.taken:
            return False
        last = self.final_retention
        if last is None:
            return None
        return last.retained_fraction >= RETAINED_ENOUGH

    @property
    def label(self) -> bool:
        """The gate's target: taken and retained (taken and unmeasured counts as taken)."""
        return self.taken and self.retained is not False


_COPIED = (
    "uri",
    "path",
    "language",
    "model",
    "adapter",
    "source",
    "latency_ms",
    "text",
    "line",
    "col",
    "prefix",
    "suffix",
    "candidate",
)


def collect(records: Iterable[Mapping[str, Any]]) -> list[Suggestion]:
    """Fold events into one :class:`Suggestion` per id, in the order first seen."""
    by_id: dict[str, Suggestion] = {}
    for row in records:
        sid = row.get("id")
        if not isinstance(sid, str):
            continue
        s = by_id.get(sid)
        if s is None:
            s = by_id[sid] = Suggestion(id=sid, ts=float(row.get("ts") or 0.0))
            for name in _COPIED:
                if name in row and row[name] is not None:
                    setattr(s, name, row[name])
            if not s.path and s.uri:
                s.path = s.uri.rsplit("/", 1)[-1]
            features = row.get("features")
            if isinstance(features, dict):
                s.features = dict(features)
        event = row.get("event")
        if event == SHOWN:
            s.shown = True
        elif event == ACCEPTED:
            s.shown = True
            s.accepted = True
        elif event == PARTIAL:
            s.shown = True
            chars = row.get("accepted_chars")
            if isinstance(chars, int) and chars > 0:
                s.partial_chars = max(s.partial_chars, min(chars, len(s.text)))
        elif event == REJECTED:
            s.shown = True
            s.rejected = True
        elif event == RETAINED:
            try:
                measured = Retention(
                    after_s=float(row["after_s"]),
                    retained_chars=int(row["retained_chars"]),
                    retained_fraction=float(row["retained_fraction"]),
                    kept=str(row.get("kept", "")),
                    status=str(row.get("status", "measured")),
                )
            except (KeyError, TypeError, ValueError):
                continue
            # A later accept (after a partial one) measures again: the newest record of
            # each delay is the one that counts.
            s.retention = [r for r in s.retention if abs(r.after_s - measured.after_s) > 1e-6]
            s.retention.append(measured)
            s.retention.sort(key=lambda r: r.after_s)
    return list(by_id.values())
