"""codegen.core: model runtime (loading, FIM formats, generation engine), syntax helpers."""

try:
    from importlib.metadata import version as _version

    __version__ = _version("codegen")
except Exception:  # not installed (running from a source tree)
    __version__ = "0.1.0"
