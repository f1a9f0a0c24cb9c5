"""A restricted, type-exact encoding of plain Python data.

The sandboxed process reports the candidate's return values in this encoding and
the trusted parent decodes them. Only ``None``, ``bool``, ``int``, ``float``,
``complex``, ``str``, ``bytes``, ``list``, ``tuple``, ``dict``, ``set`` and
``frozenset`` exist here, checked with ``type(x) is ...`` so that no subclass
(and therefore no overridden ``__eq__``) can cross the boundary: whatever the
parent compares is an object it built itself.

JSON carries the structure. ``None``/``bool``/``int``/``float``/``str`` and
lists are native JSON; everything else is a one-key object whose key names the
type (``{"t": [...]}`` for a tuple), so a native JSON object never means a dict.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64
_PRIMITIVES = (type(None), bool, int, float, str)


class NotPlainData(ValueError):
    """The value (or something inside it) is not plain data."""


def encode(value: Any, _depth: int = 0) -> Any:
    """The JSON-ready form of ``value``; raises :class:`NotPlainData` for anything else.

    numpy scalars are converted with ``.item()`` because honest solutions return them.
    """
    if _depth > MAX_DEPTH:
        raise NotPlainData("nested too deeply")
    kind = type(value)
    if kind in _PRIMITIVES:
        return value
    down = _depth + 1
    if kind is list:
        return [encode(v, down) for v in value]
    if kind is tuple:
        return {"t": [encode(v, down) for v in value]}
    if kind is dict:
        return {"d": [[encode(k, down), encode(v, down)] for k, v in value.items()]}
    if kind is set:
        return {"s": [encode(v, down) for v in value]}
    if kind is frozenset:
        return {"fs": [encode(v, down) for v in value]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind.__module__ == "numpy" and getattr(value, "shape", None) == ():
        return encode(value.item(), _depth)
    raise NotPlainData(f"unsupported type {kind.__module__}.{kind.__qualname__}")


def dumps(value: Any) -> str:
    """``encode`` then JSON text (NaN and infinities allowed, as Python's json does)."""
    return json.dumps(encode(value), separators=(",", ":"))


def decode(data: Any, _depth: int = 0) -> Any:
    """Rebuild the value from its encoded form; raises :class:`NotPlainData` on anything
    that :func:`encode` could not have produced."""
    if _depth > MAX_DEPTH + 1:
        raise NotPlainData("nested too deeply")
    kind = type(data)
    if kind in _PRIMITIVES:
        return data
    down = _depth + 1
    if kind is list:
        return [decode(v, down) for v in data]
    if kind is not dict or len(data) != 1:
        raise NotPlainData(f"malformed encoded value of type {kind.__name__}")
    ((tag, body),) = data.items()
    try:
        if tag == "t":
            return tuple(decode(v, down) for v in _as_list(body))
        if tag == "d":
            return {_key(decode(k, down)): decode(v, down) for k, v in _pairs(body)}
        if tag == "s":
            return {_key(decode(v, down)) for v in _as_list(body)}
        if tag == "fs":
            return frozenset(_key(decode(v, down)) for v in _as_list(body))
        if tag == "b" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "c" and type(body) is list and len(body) == 2:
            re, im = body
            if type(re) in (int, float) and type(im) in (int, float):
                return complex(re, im)
    except (TypeError, ValueError) as err:
        raise NotPlainData(f"malformed encoded value: {err}") from None
    raise NotPlainData(f"malformed encoded value with tag {tag!r}")


def loads(text: str) -> Any:
    """Parse JSON text and :func:`decode` it."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise NotPlainData(f"not valid JSON: {err}") from None
    return decode(data)


def _as_list(body: Any) -> list:
    if type(body) is not list:
        raise NotPlainData("malformed container")
    return body


def _pairs(body: Any) -> list:
    pairs = _as_list(body)
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise NotPlainData("malformed dict item")
    return pairs


def _key(value: Any) -> Any:
    hash(value)  # raises TypeError for lists/dicts/sets, caught by decode
    return value
