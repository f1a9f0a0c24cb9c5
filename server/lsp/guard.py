"""Wrap every feature so one failure logs with context and returns an empty result.

Protocol errors raised on purpose (:class:`JsonRpcException`) and request
cancellation pass through; user errors (:class:`CodegenError`) are logged as
one line; anything else is a bug and is logged with its traceback. Either way
the request gets a well-formed empty answer and the server carries on.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pygls.exceptions import JsonRpcException

from codegen.core.errors import CodegenError

log = logging.getLogger("codegen.server")

F = TypeVar("F", bound=Callable[..., Any])


def _report(name: str, err: BaseException) -> None:
    if isinstance(err, CodegenError):
        log.warning("%s: %s", name, err)
    else:
        log.exception("%s failed; answering with an empty result", name)


def guarded(empty: Callable[[], Any] = lambda: None) -> Callable[[F], F]:
    """Decorate a (sync or async) feature handler; ``empty()`` is the fallback answer."""

    def decorate(fn: F) -> F:
        name = fn.__qualname__
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except (asyncio.CancelledError, JsonRpcException):
                    raise
                except Exception as err:
                    _report(name, err)
                    return empty()

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except JsonRpcException:
                raise
            except Exception as err:
                _report(name, err)
                return empty()

        return run  # type: ignore[return-value]

    return decorate
