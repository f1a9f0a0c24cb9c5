"""Local acceptance log (off by default): shown / accepted / rejected suggestions.

Clients report events with notifications ``codegen/didShowCompletion``,
``codegen/didAcceptCompletion`` and ``codegen/didRejectCompletion`` (params
``{"id": ...}``), or by running the command ``codegen.acceptCompletion``
attached to each inline completion item. Events are appended to a JSONL file
on this machine; nothing is sent anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from lsprotocol import types

from .options import AcceptanceLogOptions

log = logging.getLogger(__name__)

PENDING = 500
EVENTS = {
    "codegen/didShowCompletion": "shown",
    "codegen/didAcceptCompletion": "accepted",
    "codegen/didRejectCompletion": "rejected",
}
ACCEPT_COMMAND = "codegen.acceptCompletion"


def default_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "codegen" / "acceptance.jsonl"


class AcceptanceLog:
    """Remembers recent suggestions by id and appends reported events to a file."""

    def __init__(self) -> None:
        self.options = AcceptanceLogOptions()
        self._offered: OrderedDict[str, dict[str, Any]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.options.enabled

    @property
    def path(self) -> Path:
        return Path(self.options.path).expanduser() if self.options.path else default_path()

    def offered(self, suggestion_id: str, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self._offered[suggestion_id] = record
        while len(self._offered) > PENDING:
            self._offered.popitem(last=False)

    def record(self, event: str, suggestion_id: str) -> bool:
        """Append ``event`` for a known suggestion; False when off or unknown."""
        if not self.enabled:
            return False
        offered = self._offered.get(suggestion_id)
        if offered is None:
            log.info("acceptance log: unknown suggestion id %r", suggestion_id)
            return False
        row = {"ts": time.time(), "event": event, "id": suggestion_id, **offered}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        if event != "shown":
            self._offered.pop(suggestion_id, None)
        return True


def item_command(suggestion_id: str) -> types.Command:
    return types.Command(
        title="codegen: suggestion accepted", command=ACCEPT_COMMAND, arguments=[suggestion_id]
    )
