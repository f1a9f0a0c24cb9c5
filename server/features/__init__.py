"""Features: every module here has ``register(server)`` and is listed in ``app.FEATURES``.

Handlers are thin: LSP params in, a pure function from ``completion/``,
``docstrings/`` or ``hints/``, an LSP result out."""
