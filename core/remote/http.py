"""A small HTTP/JSON client for one model server, on the standard library.

What it adds over :mod:`http.client`: a concurrency limit per client, a connect
and a read timeout, retries with exponential backoff on connection errors and
HTTP 5xx (never on 4xx, never once an answer has started), server-sent-event
streams, cancellation that closes the connection (so the server stops
generating), and one clear line for every failure. The API key goes in the
``Authorization`` header only: it is never logged and is scrubbed from every
message a server echoes back.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..engine import CancelToken
from ..errors import ConfigError
from .errors import (
    AuthFailed,
    FeatureNotServed,
    MalformedResponse,
    RemoteEngineError,
    ServerFailed,
    ServerTimeout,
    ServerUnreachable,
    UnknownServedModel,
    display_url,
    scrub,
)
from .sse import SseDecoder

log = logging.getLogger(__name__)

MAX_LINE = 1 << 20
"""Longest stream line accepted (1 MiB): a guard against a server that never ends a line."""
CANCEL_POLL_S = 0.01


class Cancelled(Exception):
    """The caller's :class:`CancelToken` was set while the request ran."""


@dataclass(frozen=True)
class ClientSettings:
    """How to talk to the server; every field has a safe default."""

    api_key: str | None = None
    api_key_env: str = "CODEGEN_API_KEY"
    """Named in the message when the server refuses the key."""
    timeout_s: float = 60.0
    """Longest wait for any byte of an answer."""
    connect_timeout_s: float = 5.0
    retries: int = 2
    """Extra attempts after a connection error or HTTP 5xx."""
    backoff_s: float = 0.25
    """Wait before the first retry; doubled for each further one."""
    max_concurrency: int = 4
    """Requests in flight at once from this client."""


def split_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, base path)`` of an ``http(s)://HOST[:PORT]/PATH`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{display_url(url)}: a model server URL looks like http://HOST:PORT/v1")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigError(f"{display_url(url)}: the port is not a number") from None
    return parts.scheme, parts.hostname, port, parts.path.rstrip("/")


class HttpClient:
    """JSON requests and SSE streams to ``url`` (e.g. ``http://127.0.0.1:8080/v1``).

    Paths are relative to the URL's path (``/completions`` -> ``/v1/completions``);
    ``root=True`` addresses the server's root instead (llama.cpp's ``/props``).
    """

    def __init__(self, url: str, settings: ClientSettings | None = None) -> None:
        self.settings = settings or ClientSettings()
        self.scheme, self.host, self.port, self.base_path = split_url(url)
        self.root_path = self.base_path[: -len("/v1")] if self.base_path.endswith("/v1") else ""
        self.where = display_url(url)
        self._slots = threading.BoundedSemaphore(max(1, self.settings.max_concurrency))

    # -- public API ---------------------------------------------------------------------
    def get(self, path: str, *, root: bool = False) -> Any:
        return self.request("GET", path, None, root=root)

    def post(
        self, path: str, body: Any, *, root: bool = False, cancel: CancelToken | None = None
    ) -> Any:
        return self.request("POST", path, body, root=root, cancel=cancel)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        root: bool = False,
        cancel: CancelToken | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON answer."""
        with self._slots:
            conn, resp = self._open(method, path, body, root, cancel)
            try:
                with _CancelWatch(cancel, conn):
                    raw = self._read_all(resp, cancel)
            finally:
                conn.close()
        try:
            return json.loads(self._decode(raw))
        except json.JSONDecodeError:
            raise MalformedResponse(
                f"the model server at {self.where} answered {path} with something that is not JSON"
            ) from None

    def stream(
        self, path: str, body: Any, cancel: CancelToken | None = None
    ) -> Generator[dict[str, Any], None, None]:
        """POST ``body`` and yield each server-sent event's JSON object.

        Closing the iterator (or setting ``cancel``) closes the connection; a set
        ``cancel`` then raises :class:`Cancelled`.
        """
        with self._slots:
            conn, resp = self._open("POST", path, body, False, cancel)
            try:
                with _CancelWatch(cancel, conn):
                    yield from self._events(resp, cancel)
            finally:
                conn.close()

    # -- internals ----------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.settings.connect_timeout_s)

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream", "User-Agent": "codegen"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return headers

    def _open(
        self, method: str, path: str, body: Any, root: bool, cancel: CancelToken | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Connect and send, retrying connection errors and 5xx with backoff."""
        full = (self.root_path if root else self.base_path) + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        attempts = max(0, self.settings.retries) + 1
        for attempt in range(attempts):
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            conn = self._connection()
            try:
                conn.request(method, full, body=data, headers=self._headers(data is not None))
                if conn.sock is not None:
                    conn.sock.settimeout(self.settings.timeout_s)
                resp = conn.getresponse()
            except TimeoutError:
                conn.close()
                raise ServerTimeout(self._timeout_message()) from None
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                error: RemoteEngineError = self._connection_error(err)
            else:
                if resp.status < 400:
                    return conn, resp
                error = self._status_error(resp, full)
                conn.close()
            log.debug(
                "%s %s failed (attempt %d/%d): %s", method, full, attempt + 1, attempts, error
            )
            if not error.retryable or attempt == attempts - 1:
                if error.retryable and attempts > 1:
                    error = type(error)(f"{error} (after {attempts} attempts)")
                raise error
            self._sleep(self.settings.backoff_s * 2**attempt, cancel)
        raise AssertionError("unreachable")

    def _sleep(self, seconds: float, cancel: CancelToken | None) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            time.sleep(min(left, CANCEL_POLL_S * 5))

    def _timeout_message(self) -> str:
        return (
            f"the model server at {self.where} did not answer within "
            f"{self.settings.timeout_s:g}s (raise the timeout, or check that it is not overloaded)"
        )

    def _connection_error(self, err: BaseException) -> RemoteEngineError:
        if isinstance(err, ConnectionRefusedError):
            why = "connection refused; is it running?"
        elif isinstance(err, socket.gaierror):
            why = f"cannot resolve host {self.host!r}"
        else:
            why = f"connection failed: {type(err).__name__}"
        return ServerUnreachable(f"cannot reach the model server at {self.where} ({why})")

    def _status_error(self, resp: http.client.HTTPResponse, path: str) -> RemoteEngineError:
        error = self._status_error_of(resp, path)
        error.status = resp.status
        return error

    def _status_error_of(self, resp: http.client.HTTPResponse, path: str) -> RemoteEngineError:
        try:
            raw = resp.read(64 * 1024)
        except (OSError, http.client.HTTPException):
            raw = b""
        message = scrub(_error_message(raw), self.settings.api_key)
        status = f"HTTP {resp.status}" + (f": {message}" if message else "")
        where = self.where
        if resp.status in (401, 403):
            key = self.settings.api_key_env
            hint = "check" if self.settings.api_key else "set"
            return AuthFailed(
                f"the model server at {where} refused the request ({status}); {hint} {key}"
            )
        lowered = message.lower()
        if resp.status in (400, 404) and "model" in lowered and _says_missing(lowered):
            return UnknownServedModel(
                f"the model server at {where} does not serve that model ({status})"
            )
        if resp.status == 404:
            return FeatureNotServed(f"the model server at {where} has no {path} ({status})")
        if resp.status >= 500:
            return ServerFailed(f"the model server at {where} failed ({status})")
        return RemoteEngineError(f"the model server at {where} rejected the request ({status})")

    def _read_all(self, resp: http.client.HTTPResponse, cancel: CancelToken | None) -> bytes:
        try:
            return resp.read()
        except (OSError, http.client.HTTPException) as err:
            raise self._read_failure(err, cancel, "mid-answer") from None

    def _read_failure(self, err: Exception, cancel: CancelToken | None, when: str) -> Exception:
        """What a failed read of an answer means: a timeout, our own cancellation (we shut
        the socket down), or a broken connection."""
        if isinstance(err, TimeoutError):
            return ServerTimeout(self._timeout_message())
        if cancel is not None and cancel.cancelled:
            return Cancelled()
        return ServerUnreachable(
            f"the connection to the model server at {self.where} broke {when} "
            f"({type(err).__name__})"
        )

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedResponse(
                f"the model server at {self.where} sent invalid UTF-8 in its output"
            ) from None

    def _events(
        self, resp: http.client.HTTPResponse, cancel: CancelToken | None
    ) -> Iterator[dict[str, Any]]:
        decoder = SseDecoder(self.where)
        while not decoder.done:
            try:
                raw = resp.readline(MAX_LINE)
            except (OSError, http.client.HTTPException) as err:
                raise self._read_failure(err, cancel, "mid-stream") from None
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            if not raw:
                event = decoder.finish()
                if event is not None:
                    yield event
                return
            if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
                raise MalformedResponse(
                    f"the model server at {self.where} sent a malformed stream (a line over 1 MiB)"
                )
            try:
                event = decoder.feed(self._decode(raw))
            except RemoteEngineError as err:
                raise type(err)(scrub(str(err), self.settings.api_key)) from None
            if event is not None:
                yield event


class _CancelWatch:
    """While active, a set :class:`CancelToken` shuts the connection's socket down.

    A blocked read then returns at once, and the server sees the client go away
    (llama.cpp and vLLM both stop generating for a closed connection).
    """

    def __init__(self, cancel: CancelToken | None, conn: http.client.HTTPConnection) -> None:
        self.cancel, self.conn = cancel, conn
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _CancelWatch:
        if self.cancel is not None:
            self._thread = threading.Thread(target=self._watch, name="codegen-cancel", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _watch(self) -> None:
        assert self.cancel is not None
        while not self._done.wait(CANCEL_POLL_S):
            if self.cancel.cancelled:
                sock = self.conn.sock
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return


def _error_message(raw: bytes) -> str:
    """The human part of an error body: OpenAI ``{"error": {"message"}}``, FastAPI ``detail``..."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text.splitlines()[0] if text else ""
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or data.get("detail") or err)
        return str(err)
    return str(data)


def _says_missing(message: str) -> bool:
    return any(
        w in message for w in ("does not exist", "not found", "unknown", "no such", "not served")
    )
