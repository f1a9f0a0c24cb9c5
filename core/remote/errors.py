"""The one-line failures of a remote engine.

Every message names the server (without credentials) and says what to do; the
API key never appears in one (:func:`scrub` removes it from anything a server
echoes back).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ..errors import CodegenError


class RemoteEngineError(CodegenError):
    """The model server could not be used (unreachable, refused, failed or misbehaved)."""

    retryable = False
    """Whether trying the same request again may succeed (connection errors, 5xx)."""
    status: int | None = None
    """The HTTP status, when the server answered with an error."""


class ServerUnreachable(RemoteEngineError):
    retryable = True


class ServerFailed(RemoteEngineError):
    """HTTP 5xx."""

    retryable = True


class ServerTimeout(RemoteEngineError):
    pass


class AuthFailed(RemoteEngineError):
    pass


class UnknownServedModel(RemoteEngineError):
    pass


class MalformedResponse(RemoteEngineError):
    pass


class FeatureNotServed(RemoteEngineError):
    """The server lacks an endpoint a feature needs (token scoring, tokenizer, adapters)."""


def display_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scrub(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` replaced, and cut to one short line."""
    if secret:
        text = text.replace(secret, "***")
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:197] + "..."
