"""Debugging hints, pure logic: surprise scoring, explain-and-fix, tracebacks, prose ranges."""
