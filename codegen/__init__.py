"""codegen: a self-hosted code assistant (core runtime, language server, training, eval)."""

__version__ = "0.1.0"
