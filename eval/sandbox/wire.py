"""Length-prefixed frames between the pool (trusted) and its launchers.

A frame is a JSON header followed by raw bytes: every top-level ``bytes`` value of
the message (a sample's report, a job's encoded inputs) travels raw, unescaped and
unparsed, and comes back as ``bytes``. Reports of a hundred megabytes cost a copy,
not a JSON round trip.
"""

from __future__ import annotations

import json
import os
import struct

_HEADER = struct.Struct(">II")
_RAW = "__raw__"


def write_frame(fd: int, message: dict) -> None:
    raw = {k: v for k, v in message.items() if type(v) is bytes}
    header = {k: v for k, v in message.items() if k not in raw}
    if raw:
        header[_RAW] = [[key, len(value)] for key, value in raw.items()]
    data = json.dumps(header).encode()
    body = b"".join(raw.values())
    write_all(fd, _HEADER.pack(len(data), len(body)) + data)
    if body:
        write_all(fd, body)


def read_frame(fd: int) -> dict | None:
    """The next message, or None when the other side closed the pipe."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    size, raw_size = _HEADER.unpack(header)
    data = _read_exactly(fd, size)
    body = _read_exactly(fd, raw_size) if raw_size else b""
    if data is None or body is None:
        return None
    message = json.loads(data)
    offset = 0
    for key, length in message.pop(_RAW, []):
        message[key] = body[offset : offset + length]
        offset += length
    return message


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
