"""Parse a Python traceback and map its frames to files of the workspace.

Pure: the file system is reached only through the ``exists`` callback.
Understands CPython tracebacks (``File "x.py", line 3, in f`` with the
source line and any ``^^^`` markers under it, chained exceptions: the last one
wins) and pytest's short form (``x.py:3: in f`` / ``x.py:3: ValueError``).
Frames outside the workspace folders, and inside virtual environments or
site-packages, are not the user's code and are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

_CPYTHON_FRAME = re.compile(
    r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$'
)
_PYTEST_FRAME = re.compile(r"^(?P<path>[^\s:][^:]*\.py):(?P<line>\d+):(?: in (?P<func>\S+))?")
_START = "Traceback (most recent call last):"
_MARKERS = re.compile(r"^\s*[~^]+\s*$")
_NOT_USER_CODE = ("site-packages", "dist-packages", "/.venv/", "/venv/", "/.tox/", "<frozen")


@dataclass(frozen=True)
class Frame:
    path: str
    line: int
    """1-based, as printed."""
    function: str | None
    source: str | None
    """The source line the traceback printed, stripped."""


@dataclass(frozen=True)
class ParsedTraceback:
    frames: tuple[Frame, ...]
    """Outermost first, as printed."""
    exception: str
    """The final ``Type: message`` line (may be empty when the text had none)."""


@dataclass(frozen=True)
class MappedFrame:
    frame: Frame
    path: PurePath
    """The file in the workspace."""
    innermost: bool


def _last_block(lines: list[str]) -> list[str]:
    starts = [i for i, line in enumerate(lines) if line.strip() == _START]
    return lines[starts[-1] :] if starts else lines


def parse_traceback(text: str) -> ParsedTraceback:
    """Frames and exception of the last traceback in ``text``."""
    lines = _last_block(text.replace("\r\n", "\n").split("\n"))
    frames: list[Frame] = []
    after_frames = 0
    pytest_exception = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _CPYTHON_FRAME.match(line)
        if match:
            source = None
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt.strip() and not _CPYTHON_FRAME.match(nxt) and nxt.startswith((" ", "\t")):
                source = nxt.strip()
                i += 1
                while i + 1 < len(lines) and _MARKERS.match(lines[i + 1]):
                    i += 1
            frames.append(Frame(match["path"], int(match["line"]), match["func"], source))
            after_frames = i + 1
        elif match := _PYTEST_FRAME.match(line.strip()):
            frames.append(Frame(match["path"], int(match["line"]), match["func"], None))
            after_frames = i + 1
            rest = line.strip()[match.end() :].strip()
            if rest and not match["func"] and not pytest_exception:
                pytest_exception = rest
        elif line.strip().startswith("E ") and not pytest_exception:
            pytest_exception = line.strip()[1:].strip()
        i += 1
    exception = next(
        (
            line.strip()
            for line in lines[after_frames:]
            if line.strip() and not line.startswith((" ", "\t")) and line.strip() != _START
        ),
        "",
    )
    return ParsedTraceback(tuple(frames), exception or pytest_exception)


def _inside(path: PurePath, folder: PurePath) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def map_frames(
    parsed: ParsedTraceback,
    folders: Sequence[PurePath],
    exists: Callable[[PurePath], bool],
) -> list[MappedFrame]:
    """The frames that are files of the workspace, innermost first."""
    mapped: list[MappedFrame] = []
    for index in range(len(parsed.frames) - 1, -1, -1):
        frame = parsed.frames[index]
        raw = frame.path
        if any(marker in raw.replace("\\", "/") for marker in _NOT_USER_CODE) or raw.startswith(
            "<"
        ):
            continue
        candidate = PurePosixPath(raw) if "\\" not in raw else PurePath(raw.replace("\\", "/"))
        found: PurePath | None = None
        if candidate.is_absolute():
            if any(_inside(candidate, folder) for folder in folders) and exists(candidate):
                found = candidate
        else:
            for folder in folders:
                joined = folder / candidate
                if exists(joined):
                    found = joined
                    break
        if found is not None:
            mapped.append(MappedFrame(frame, found, innermost=not mapped))
    return mapped


def relocate_line(lines: Sequence[str], line: int, source: str | None, window: int = 8) -> int:
    """The 0-based line of a frame: its printed line number, or the nearest line within
    ``window`` holding the printed source when the file has changed since."""
    index = max(0, min(line - 1, len(lines) - 1)) if lines else 0
    if not source or not lines or lines[index].strip() == source:
        return index
    for distance in range(1, window + 1):
        for candidate in (index - distance, index + distance):
            if 0 <= candidate < len(lines) and lines[candidate].strip() == source:
                return candidate
    return index
