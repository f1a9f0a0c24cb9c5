"""Length-prefixed JSON frames between the pool (trusted) and its launchers."""

from __future__ import annotations

import json
import os
import struct

_HEADER = struct.Struct(">I")


def write_frame(fd: int, message: dict) -> None:
    data = json.dumps(message).encode()
    write_all(fd, _HEADER.pack(len(data)) + data)


def read_frame(fd: int) -> dict | None:
    """The next message, or None when the other side closed the pipe."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    data = _read_exactly(fd, size)
    if data is None:
        return None
    return json.loads(data)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
