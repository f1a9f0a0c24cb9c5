"""Inline completion, pure logic: should_complete -> build_context -> build_prompt ->
generate -> postprocess, and the caches and debounce around it."""
