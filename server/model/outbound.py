"""Which documents may leave the machine, in prompts to a remote engine.

With an in-process model nothing leaves the machine and every document may be
used. With a remote engine (``engine.leaves_machine``), a document is never put
in a prompt (neither as the file being edited nor as a snippet source) when it
is a ``.env`` file (``.env``, ``.env.local``, ``prod.env``...) or git ignores it
(``git check-ignore``, asked once per file and remembered for
:data:`TTL_S`). Secrets inside the documents that may go are redacted by the
engine itself (:mod:`codegen.core.remote.privacy`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

TTL_S = 30.0
"""How long a file's git-ignore answer is trusted (``.gitignore`` may change)."""


def path_of_uri(uri: str) -> str | None:
    """The local path of a ``file:`` URI; None for other schemes (unsaved buffers)."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    return unquote(parts.path)


def is_env_file(path: str) -> bool:
    name = os.path.basename(path).lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def git_ignores(path: str) -> bool:
    """Whether git ignores ``path`` (False outside a repository or without git)."""
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        return False
    try:
        done = subprocess.run(
            ["git", "-C", folder, "check-ignore", "-q", "--", path],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class OutboundPolicy:
    """Remembers, per document, whether it may be sent to a remote engine."""

    def __init__(self) -> None:
        self._answers: dict[str, tuple[float, bool]] = {}

    def allowed(self, uri: str) -> bool:
        path = path_of_uri(uri)
        if path is None:
            return True
        if is_env_file(path):
            return False
        now = time.monotonic()
        cached = self._answers.get(path)
        if cached is not None and now - cached[0] < TTL_S:
            return cached[1]
        allowed = not git_ignores(path)
        if not allowed:
            log.info("not sending %s to the model server: git ignores it", path)
        self._answers[path] = (now, allowed)
        return allowed
