"""Local acceptance log (off by default): what happened to each suggestion.

Clients report events in the shapes of Copilot's language server
(``textDocument/didShowCompletion`` ``{item}``, ``textDocument/didPartiallyAcceptCompletion``
``{item, acceptedLength}``, the item's accept command), or with the ``codegen/*``
notifications (params ``{"id": ...}``). The server adds ``retained`` records itself
(:mod:`.completion.retention`). Records follow :mod:`codegen.core.usage_log`; they are
appended to a JSONL file on this machine, nothing is sent anywhere.

Every text written (the suggestion, the code around it, what the user kept) goes through
the secret redaction of ``codegen-train data`` first. The file is capped at
``maxBytes`` and rotated (``acceptance.jsonl.1``, ``.2``, ...; ``keepFiles`` of them).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any

from lsprotocol import types

from codegen.core.secrets import redact_secrets
from codegen.core.usage_log import (
    ACCEPTED,
    PARTIAL,
    REJECTED,
    SCHEMA,
    SHOWN,
    rotated_files,
)

from .options import AcceptanceLogOptions

log = logging.getLogger(__name__)

PENDING = 500
"""Suggestions remembered for events (the oldest are forgotten first)."""
RECENT = 20
"""The accept rate feature counts over this many recent decided suggestions."""
EVENTS = {
    "codegen/didShowCompletion": SHOWN,
    "codegen/didAcceptCompletion": ACCEPTED,
    "codegen/didPartiallyAcceptCompletion": PARTIAL,
    "codegen/didRejectCompletion": REJECTED,
}
"""The ``codegen/*`` notifications (params ``{"id": ..., "acceptedLength"?: ...}``)."""
COPILOT_SHOWN = "textDocument/didShowCompletion"
COPILOT_PARTIAL = "textDocument/didPartiallyAcceptCompletion"
ACCEPT_COMMAND = "codegen.acceptCompletion"
ERASE_COMMAND = "codegen.eraseAcceptanceLog"
REDACTED_FIELDS = ("text", "prefix", "suffix", "kept")


def default_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "codegen" / "acceptance.jsonl"


def erase(path: Path) -> list[Path]:
    """Delete the log at ``path`` and its rotated files; the paths removed."""
    removed = []
    for file in rotated_files(path):
        file.unlink(missing_ok=True)
        removed.append(file)
    return removed


class AcceptanceLog:
    """Remembers recent suggestions by id and appends reported events to a file."""

    def __init__(self) -> None:
        self.options = AcceptanceLogOptions()
        self._offered: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._decided: deque[bool] = deque(maxlen=RECENT)
        self.errors = 0

    @property
    def enabled(self) -> bool:
        return self.options.enabled

    @property
    def path(self) -> Path:
        return Path(self.options.path).expanduser() if self.options.path else default_path()

    def recent_accept_rate(self) -> float:
        """Accepted (whole or partly) over decided, for the last :data:`RECENT` suggestions
        the user accepted or dismissed; 0.5 before any."""
        if not self._decided:
            return 0.5
        return sum(self._decided) / len(self._decided)

    def offered(self, suggestion_id: str, record: dict[str, Any]) -> None:
        """Remember a suggestion the server answered with, for its later events."""
        if not self.enabled:
            return
        self._offered[suggestion_id] = record
        while len(self._offered) > PENDING:
            self._offered.popitem(last=False)

    def suggestion(self, suggestion_id: str) -> dict[str, Any] | None:
        return self._offered.get(suggestion_id)

    def record(self, event: str, suggestion_id: str, **extra: Any) -> dict[str, Any] | None:
        """Append ``event`` for a known suggestion; the row written, or None when the log
        is off, the id unknown, or the file cannot be written (logged, never raised)."""
        if not self.enabled:
            return None
        offered = self._offered.get(suggestion_id)
        if offered is None:
            log.info("acceptance log: unknown suggestion id %r", suggestion_id)
            return None
        if event in (ACCEPTED, PARTIAL, REJECTED) and not offered.get("_decided"):
            offered["_decided"] = True
            self._decided.append(event != REJECTED)
        row = {"schema": SCHEMA, "ts": time.time(), "event": event, "id": suggestion_id}
        row.update((k, v) for k, v in offered.items() if not k.startswith("_"))
        row.update(extra)
        if not self.write(row):
            return None
        if event in (ACCEPTED, REJECTED):
            # Later events (retained) carry their own copy; a partial may still be followed
            # by more partials or a whole accept.
            self._offered.pop(suggestion_id, None)
        return row

    def write(self, row: dict[str, Any]) -> bool:
        for name in REDACTED_FIELDS:
            value = row.get(name)
            if isinstance(value, str) and value:
                row[name], _ = redact_secrets(value)
        line = json.dumps(row, ensure_ascii=False) + "\n"
        try:
            path = self.path
            path.parent.mkdir(parents=True, exist_ok=True)
            self._rotate(path, len(line.encode("utf-8")))
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError as exc:
            self.errors += 1
            log.warning("acceptance log: cannot write %s: %s", self.options.path or "", exc)
            return False
        return True

    def _rotate(self, path: Path, incoming: int) -> None:
        cap = self.options.max_bytes
        if cap <= 0 or not path.exists() or path.stat().st_size + incoming <= cap:
            return
        keep = self.options.keep_files
        if keep <= 0:
            path.unlink()
            return
        oldest = path.with_name(f"{path.name}.{keep}")
        oldest.unlink(missing_ok=True)
        for n in range(keep - 1, 0, -1):
            older = path.with_name(f"{path.name}.{n}")
            if older.exists():
                older.replace(path.with_name(f"{path.name}.{n + 1}"))
        path.replace(path.with_name(f"{path.name}.1"))

    def erase(self) -> list[Path]:
        """Delete the log and its rotated files, and forget pending suggestions."""
        self._offered.clear()
        self._decided.clear()
        return erase(self.path)


def item_command(suggestion_id: str) -> types.Command:
    return types.Command(
        title="codegen: suggestion accepted", command=ACCEPT_COMMAND, arguments=[suggestion_id]
    )
