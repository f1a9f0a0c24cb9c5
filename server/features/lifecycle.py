"""initialize / initialized / shutdown, and loading the model with progress.

Options come from the CLI (defaults) overridden by ``initializationOptions``.
After ``initialized`` the model loads on a background thread, reported with
work-done progress (``window/workDoneProgress/create`` + ``$/progress``
begin/end); until it is ready completions answer empty at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codegen.core.errors import CodegenError

from ..lsp.guard import guarded
from ..options import ModelOptions, parse_options

if TYPE_CHECKING:
    from ..session import CodegenServer

log = logging.getLogger(__name__)

RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0
"""Waits between attempts to reach a model server that was down at start."""


def _client_has_progress(server: CodegenServer) -> bool:
    try:
        window = server.client_capabilities.window
    except AttributeError:
        return False
    return bool(window and window.work_done_progress)


def start_loading(server: CodegenServer, options: ModelOptions) -> None:
    """Load ``options``' model in the background, reporting progress to the client."""
    token = f"codegen-load-{uuid.uuid4().hex[:8]}"
    progress = _client_has_progress(server)
    if progress:
        server.work_done_progress.create(token)
        title = "codegen: loading model"
        server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, message=options.model)
        )
    server.host.state = "loading"

    def finish(message: str, error: str | None) -> None:
        if progress:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
        if error is not None:
            server.show(error, types.MessageType.Error)
        server.completer.forget_all()

    def work() -> None:
        try:
            server.host.load(options)
            info = server.host.info()
            server.call_soon(finish, f"model ready on {info.get('device', '?')}", None)
        except CodegenError as err:
            server.call_soon(finish, "model failed to load", f"model failed to load: {err}")
            if getattr(err, "retryable", False):
                retry_until_loaded(server, options)
        except Exception as err:
            log.exception("loading %s failed", options.model)
            server.call_soon(finish, "model failed to load", f"model failed to load: {err}")

    threading.Thread(target=work, name="codegen-load", daemon=True).start()


def retry_until_loaded(server: CodegenServer, options: ModelOptions) -> None:
    """A model server that was down at start: try again, quietly, until it answers
    (or the options name another model); then say it is ready."""
    delay = RETRY_FIRST_S
    while server.options.model == options:
        time.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_S)
        if server.options.model != options:
            return
        try:
            server.host.load(options)
        except CodegenError as err:
            if not getattr(err, "retryable", False):
                server.call_soon(
                    server.show, f"model failed to load: {err}", types.MessageType.Error
                )
                return
            continue
        server.call_soon(
            server.show, "the model server answers: model ready", types.MessageType.Info
        )
        server.call_soon(server.completer.forget_all)
        return


def apply_options(server: CodegenServer, data: Any, reload: bool) -> None:
    """Merge wire options over the CLI defaults, warn about bad ones, reload if needed."""
    options, warnings = parse_options(data, server.defaults)
    previous = server.options
    server.options = options
    server.acceptance.options = options.acceptance_log
    server.completer.configure(options.completion)
    for warning in warnings:
        server.show(warning)
    if reload and options.model != previous.model:
        start_loading(server, options.model)


def register(server: CodegenServer) -> None:
    @server.feature(types.INITIALIZE)
    @guarded()
    def initialize(params: types.InitializeParams) -> None:
        server.loop = asyncio.get_running_loop()

        def notify(message: str, is_error: bool) -> None:
            kind = types.MessageType.Error if is_error else types.MessageType.Info
            server.call_soon(server.show, message, kind)

        server.host.health.notify = notify
        options, warnings = parse_options(params.initialization_options, server.defaults)
        server.options = options
        server.acceptance.options = options.acceptance_log
        server.completer.configure(options.completion)
        server.pending_warnings = warnings

    @server.feature(types.INITIALIZED)
    @guarded()
    def initialized(params: types.InitializedParams) -> None:
        for warning in server.pending_warnings:
            server.show(warning)
        start_loading(server, server.options.model)

    @server.feature(types.SHUTDOWN)
    @guarded()
    def shutdown(params: Any) -> None:
        server.retention.flush(None, "exited")  # pending retention checks are never lost
        server.worker.stop()
