"""The LSP plumbing floor: documents, positions, text sync, events, code actions,
commands, the diagnostics board, progress and the guard. Nothing in here sees the session
or a feature; it works on a pygls ``LanguageServer`` or on small protocols."""
