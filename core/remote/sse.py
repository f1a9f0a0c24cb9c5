"""Server-sent events as OpenAI-compatible servers stream them.

Each event is one or more ``data:`` lines followed by a blank line; ``:`` lines
are comments (keep-alive pings); ``data: [DONE]`` ends the stream. The decoder
is pure: it takes decoded lines and returns the JSON object of each event.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import MalformedResponse

DONE = "[DONE]"


class SseDecoder:
    """Feed it lines; it returns each complete event's JSON object (or None)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.done = False
        self.events = 0
        self._data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """The event that ``line`` completes, if any; raises :class:`MalformedResponse`."""
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if field != "data":
            return None  # event:, id:, retry: carry nothing we use
        self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def finish(self) -> dict[str, Any] | None:
        """The last event when the stream ended without its blank line."""
        return self._dispatch()

    def _dispatch(self) -> dict[str, Any] | None:
        if not self._data:
            return None
        payload = "\n".join(self._data)
        self._data = []
        if payload.strip() == DONE:
            self.done = True
            return None
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            raise MalformedResponse(
                f"the model server at {self.where} sent a malformed stream "
                f"(an event that is not JSON: {payload[:60]!r})"
            ) from None
        if not isinstance(event, dict):
            raise MalformedResponse(
                f"the model server at {self.where} sent a malformed stream (an event that is "
                "not a JSON object)"
            )
        if "error" in event and "choices" not in event:
            raise MalformedResponse(
                f"the model server at {self.where} reported an error mid-stream: "
                f"{_error_text(event['error'])}"
            )
        self.events += 1
        return event


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)
