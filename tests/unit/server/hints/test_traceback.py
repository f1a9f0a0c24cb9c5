"""Tracebacks: parsing CPython and pytest output, mapping frames to workspace files."""

from __future__ import annotations

from pathlib import PurePosixPath

from codegen.server.hints.traceback import map_frames, parse_traceback, relocate_line

CPYTHON = """Traceback (most recent call last):
  File "/ws/app/main.py", line 10, in <module>
    main()
  File "/ws/app/main.py", line 7, in main
    print(divide(1, 0))
          ^^^^^^^^^^^^
  File "app/util.py", line 3, in divide
    return a / b
           ~~^~~
  File "/usr/lib/python3.11/site-packages/lib.py", line 3, in helper
    z()
ZeroDivisionError: division by zero
"""

CHAINED = """Traceback (most recent call last):
  File "/ws/a.py", line 2, in f
    {}["k"]
KeyError: 'k'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/ws/a.py", line 4, in f
    raise ValueError("missing k")
ValueError: missing k
"""

PYTEST = """tests/test_a.py:12: in test_total
    assert total([1]) == 1
src/calc.py:3: in total
    return sum(xs) - 1
E   AssertionError: assert 0 == 1
src/calc.py:3: AssertionError
"""


def test_cpython_traceback_frames_and_exception():
    parsed = parse_traceback(CPYTHON)
    assert [(f.path, f.line, f.function) for f in parsed.frames] == [
        ("/ws/app/main.py", 10, "<module>"),
        ("/ws/app/main.py", 7, "main"),
        ("app/util.py", 3, "divide"),
        ("/usr/lib/python3.11/site-packages/lib.py", 3, "helper"),
    ]
    assert parsed.frames[2].source == "return a / b"  # the ^^^ markers are not source
    assert parsed.exception == "ZeroDivisionError: division by zero"


def test_chained_exceptions_keep_the_last_traceback():
    parsed = parse_traceback(CHAINED)
    assert [(f.line, f.source) for f in parsed.frames] == [(4, 'raise ValueError("missing k")')]
    assert parsed.exception == "ValueError: missing k"


def test_pytest_short_tracebacks():
    parsed = parse_traceback(PYTEST)
    assert [(f.path, f.line) for f in parsed.frames][:2] == [
        ("tests/test_a.py", 12),
        ("src/calc.py", 3),
    ]
    assert parsed.exception == "AssertionError: assert 0 == 1"


def test_frames_map_to_workspace_files_innermost_first():
    existing = {"/ws/app/main.py", "/ws/app/util.py", "/usr/lib/python3.11/site-packages/lib.py"}
    mapped = map_frames(
        parse_traceback(CPYTHON), [PurePosixPath("/ws")], lambda p: str(p) in existing
    )
    assert [(str(m.path), m.frame.line, m.innermost) for m in mapped] == [
        ("/ws/app/util.py", 3, True),  # relative to the workspace folder
        ("/ws/app/main.py", 7, False),
        ("/ws/app/main.py", 10, False),
    ]


def test_frames_outside_the_workspace_or_missing_are_dropped():
    parsed = parse_traceback(CPYTHON)
    # absolute paths outside every folder (and site-packages) are not the user's code
    elsewhere = map_frames(parsed, [PurePosixPath("/elsewhere")], lambda p: True)
    assert [str(m.path) for m in elsewhere] == ["/elsewhere/app/util.py"]
    assert map_frames(parsed, [PurePosixPath("/ws")], lambda p: False) == []
    second = [PurePosixPath("/other"), PurePosixPath("/ws")]
    found = map_frames(parsed, second, lambda p: str(p) == "/ws/app/util.py")
    assert [str(m.path) for m in found] == ["/ws/app/util.py"]


def test_relocate_line_follows_a_moved_source_line():
    lines = ["import os", "", "def f(a, b):", "    return a / b"]
    assert relocate_line(lines, 4, "return a / b") == 3
    moved = ["# new header", "", *lines]
    assert relocate_line(moved, 4, "return a / b") == 5
    assert relocate_line(moved, 4, "not there") == 3
    assert relocate_line(lines, 99, None) == 3
