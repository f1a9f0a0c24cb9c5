"""Docstrings, pure logic: signatures, per-style skeletons, the writer that fills their
slots with the model, and the inline completion inside a freshly typed docstring."""
