"""workspace/executeCommand: ``codegen.status``, ``codegen.selectAdapter``, ``codegen.toggle``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codegen.core.errors import CodegenError

from ..lsp.commands import command_arg, command_args
from ..lsp.guard import guarded
from ..model.jobs import run_model_job
from ..options import to_wire

if TYPE_CHECKING:
    from ..session import CodegenServer

STATUS, SELECT_ADAPTER, TOGGLE = "codegen.status", "codegen.selectAdapter", "codegen.toggle"


def status_report(server: CodegenServer) -> dict[str, Any]:
    """What the status command answers: model, device, adapter, latency figures."""
    info = server.host.info()
    return {
        "enabled": server.enabled,
        "state": server.host.state,
        "error": server.host.error,
        "model": info.get("model"),
        "device": info.get("device"),
        "adapter": info.get("adapter"),
        "fimFormat": info.get("fim_format"),
        "remote": server.host.remote,
        "servedModel": info.get("served_model"),
        "servedAdapters": server.host.served_adapters(),
        "engineOutage": server.host.health.outage,
        "loadMs": round(server.host.load_ms, 1),
        "positionEncoding": server.position_encoding,
        "openDocuments": len(server.documents),
        "generations": server.completer.generations,
        "debounceMs": round(server.completer.debounce.delay_ms(), 1),
        "latency": server.stats.summary(),
        "options": to_wire(server.options),
    }


def register(server: CodegenServer) -> None:
    @server.command(STATUS)
    @guarded(dict)
    def status(*args: Any) -> dict[str, Any]:
        return status_report(server)

    @server.command(TOGGLE)
    @guarded(dict)
    def toggle(*args: Any) -> dict[str, Any]:
        wanted = command_arg(args, 0, bool)
        server.enabled = not server.enabled if wanted is None else wanted
        return {"enabled": server.enabled}

    @server.command(SELECT_ADAPTER)
    @guarded(dict)
    async def select_adapter(*args: Any) -> dict[str, Any]:
        """Switch to the adapter given (or back to the base model with null): a directory
        in process, the name of a served LoRA on a model server (``servedAdapters``)."""
        values = command_args(args)
        path = values[0] if values else None
        if path is not None and not isinstance(path, str):
            return {"ok": False, "error": "give an adapter directory (string) or null"}
        engine = server.host.engine
        if engine is None or not hasattr(engine, "set_adapter"):
            return {"ok": False, "error": "the current model does not support adapters"}

        def switch(_token: object) -> str | None:
            if path is None:
                engine.set_adapter(None)
                return None
            name = engine.load_adapter(path)
            engine.set_adapter(name)
            return name

        try:
            name = await run_model_job(server.worker, None, switch)
        except CodegenError as err:
            server.show(str(err))
            return {"ok": False, "error": str(err)}
        server.completer.forget_all()
        return {"ok": True, "adapter": name}
