"""Type-exact plain data: the only values that may cross the sandbox boundary.

``None``, ``bool``, ``int`` (any size), ``float`` (NaN and infinities too),
``complex``, ``str``, ``bytes``, ``list``, ``tuple``, ``dict``, ``set`` and
``frozenset`` exist here, checked with ``type(x) is ...`` so that no subclass
(and therefore no overridden ``__eq__``) can cross the boundary: whatever the
parent compares is an object it built itself.

JSON carries the structure. ``None``/``bool``/``float``/``str``, ints below
2**63 in magnitude and lists are native JSON; everything else is a one-key
object whose key names the type (``{"t": [...]}`` for a tuple), so a native JSON
object never means a dict. Larger ints travel as hexadecimal (``{"i": "-1f"}``):
base 16 has no digit limit (Python refuses decimal conversions of more than
4,300 digits) and converts in linear time.

Lists, tuples and sets whose items are all native scalars take a fast path
(one type scan at C speed, no per-item Python call): tests with hundreds of
large inputs spend their time here.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 300
"""Deepest container nesting accepted. Python compares and prints nested values
recursively (its recursion limit is 1,000), and a tagged container takes two JSON
levels, so 300 keeps the deepest report parseable in the sandbox and in the
trusted parent alike; no honest benchmark value comes close."""

_NATIVE_INT_LIMIT = 1 << 63
_SCALARS = frozenset({type(None), bool, float, str})
"""Types that are native JSON whatever their value (ints are checked for size)."""
_JSON_SCALARS = (type(None), bool, int, float, str)
_HEX = re.compile(r"-?[0-9a-f]+")

try:
    from json.encoder import c_make_encoder, encode_basestring_ascii

    _C_ENCODER = c_make_encoder(
        None, None, encode_basestring_ascii, None, ":", ",", False, False, True
    )
except (ImportError, TypeError):  # an interpreter without the C accelerator
    _C_ENCODER = None
_PY_ENCODER = json.JSONEncoder(separators=(",", ":")).encode


def compact_json(data: Any) -> str:
    """``json.dumps(data, separators=(",", ":"))`` without building an encoder per call
    (several times faster on small values; recording makes two calls per input).

    ``data`` must be JSON-ready and acyclic, as :func:`encode`'s results are."""
    if _C_ENCODER is None:
        return _PY_ENCODER(data)
    return "".join(_C_ENCODER(data, 0))


class NotPlainData(ValueError):
    """The value (or something inside it) is not plain data."""


def encode(value: Any, _depth: int = 0) -> Any:
    """The JSON-ready form of ``value``; raises :class:`NotPlainData` for anything else.

    numpy scalars are converted with ``.item()`` because honest solutions return them.
    The result shares no container with ``value`` (it can be serialized later, after
    ``value`` changed).
    """
    kind = type(value)
    if kind is int:
        return value if -_NATIVE_INT_LIMIT < value < _NATIVE_INT_LIMIT else {"i": _hex(value)}
    if kind in _SCALARS:
        return value
    if _depth >= MAX_DEPTH:
        raise NotPlainData(f"nested more than {MAX_DEPTH} containers deep")
    down = _depth + 1
    if kind is list:
        return _items(value, down)
    if kind is tuple:
        return {"t": _items(value, down)}
    if kind is dict:
        pairs = []
        for key, item in value.items():
            pairs.append([encode(key, down), encode(item, down)])
        return {"d": pairs}
    if kind is set or kind is frozenset:
        # One order whatever the process's hash seed, so equal sets encode equally.
        return {"s" if kind is set else "fs": _sorted(_items(value, down))}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind.__module__ == "numpy" and getattr(value, "shape", None) == ():
        return encode(value.item(), _depth)
    raise NotPlainData(f"unsupported type {kind.__module__}.{kind.__qualname__}")


def dumps(value: Any) -> str:
    """``encode`` then compact JSON text (NaN and infinities allowed, as Python's json does).

    Equal plain values of the same shape give the same text (sets are sorted), except
    dicts, whose insertion order is kept."""
    return compact_json(encode(value))


_CALL_HEAD, _CALL_TAIL = '{"t":[{"t":', '},{"d":[]}]}'
"""How :func:`dumps` writes ``(args, {})`` around the array of ``args``."""


def call_key_and_copies(args: tuple, kwargs: dict) -> tuple[str, tuple, dict]:
    """``dumps((args, kwargs))`` (the key a call's inputs are recorded and matched by) and
    fresh copies of the inputs, as ``loads`` of that key gives them. A call without
    keyword arguments, the common case, is spared the tuple and dict tags' round trip."""
    if kwargs or type(args) is not tuple:
        key = dumps((args, kwargs))
        copy_args, copy_kwargs = loads(key)
        return key, copy_args, copy_kwargs
    flat = _flat_native(args)
    if flat is None:
        encoded = _items(args, 2)  # what encode((args, {})) holds there
        inner = compact_json(encoded)
        return _CALL_HEAD + inner + _CALL_TAIL, tuple(decoded_copy(encoded, inner)), {}
    inner = compact_json(args)  # native JSON as it is: encode would return equal lists
    copies = tuple(list(a) if type(a) is list else a for a in args) if flat else loads(inner)
    return _CALL_HEAD + inner + _CALL_TAIL, tuple(copies), {}


def _flat_native(args: tuple) -> bool | None:
    """None unless every item of ``args`` is native JSON (see ``_SCALARS``, ints below 2**63)
    or a list of such scalars; then whether copies may share the scalars (no NaN)."""
    shareable = True
    for value in args:
        kind = type(value)
        if kind is list:
            kinds = set(map(type, value))
            if not kinds <= _SCALARS | {int}:
                return None
            if int in kinds:
                ints = value if len(kinds) == 1 else [v for v in value if type(v) is int]
                if not (-_NATIVE_INT_LIMIT < min(ints) and max(ints) < _NATIVE_INT_LIMIT):
                    return None
            if float in kinds and not _shareable(value):
                shareable = False
        elif kind is int:
            if not -_NATIVE_INT_LIMIT < value < _NATIVE_INT_LIMIT:
                return None
        elif kind is float:
            shareable = shareable and value == value
        elif kind not in _SCALARS:
            return None
    return shareable


_SHAREABLE = frozenset({type(None), bool, int, str})
"""Immutable values whose copies :func:`loads` would build are just equal objects. A
float is one too unless it is a NaN: containers compare their items by identity first,
and a NaN equals only itself, so a shared NaN could compare equal where a decoded one
does not."""


def _shareable(items: list) -> bool:
    """Every item is a shareable scalar (see ``_SHAREABLE``) or a float that is not NaN."""
    kinds = set(map(type, items))
    if kinds <= _SHAREABLE:
        return True
    if float not in kinds or not kinds <= _SHAREABLE | {float}:
        return False
    floats = items if kinds == {float} else [v for v in items if type(v) is float]
    return not math.isnan(sum(floats, 0.0))  # NaN if one is, or if +inf meets -inf


def decoded_copy(encoded: Any, text: str) -> Any:
    """``loads(text)`` where ``text`` is ``compact_json(encoded)`` and ``encoded`` came from
    :func:`encode` (or its items), without the parse when nothing needs rebuilding: a
    shareable scalar, or a list (``encode`` built it afresh) of shareable scalars and of
    such lists, one level down."""
    kind = type(encoded)
    if kind in _SHAREABLE or (kind is float and encoded == encoded):
        return encoded
    if kind is list:
        if _shareable(encoded):
            return encoded
        if all(type(item) is list and _shareable(item) or type(item) in _SHAREABLE
               for item in encoded):  # fmt: skip
            return encoded
    return loads(text)


def decode(data: Any, _depth: int = 0) -> Any:
    """Rebuild the value from its encoded form; raises :class:`NotPlainData` on anything
    that :func:`encode` could not have produced. The result shares nothing with ``data``."""
    kind = type(data)
    if kind in _JSON_SCALARS:
        return data
    if _depth >= MAX_DEPTH:
        raise NotPlainData(f"nested more than {MAX_DEPTH} containers deep")
    down = _depth + 1
    if kind is list:
        return _decode_items(data, down)
    if kind is not dict or len(data) != 1:
        raise NotPlainData(f"malformed encoded value of type {kind.__name__}")
    ((tag, body),) = data.items()
    try:
        if tag == "t":
            return tuple(_decode_items(_as_list(body), down))
        if tag == "i" and type(body) is str and _HEX.fullmatch(body):
            return int(body, 16)
        if tag == "d":
            result = {}
            for key, item in _pairs(body):
                result[_key(decode(key, down))] = decode(item, down)
            return result
        if tag == "s":
            return {_key(v) for v in _decode_items(_as_list(body), down)}
        if tag == "fs":
            return frozenset(_key(v) for v in _decode_items(_as_list(body), down))
        if tag == "b" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "c" and type(body) is list and len(body) == 2:
            re_, im = body
            if type(re_) in (int, float) and type(im) in (int, float):
                return complex(re_, im)
    except (TypeError, ValueError) as err:
        if isinstance(err, NotPlainData):
            raise
        raise NotPlainData(f"malformed encoded value: {err}") from None
    raise NotPlainData(f"malformed encoded value with tag {tag!r}")


def loads(text: str | bytes) -> Any:
    """Parse JSON text and decode it, as :func:`decode` would: the JSON parser builds the
    lists, and only the tagged objects (tuples, dicts, sets...) call back into Python."""
    try:
        if not isinstance(text, str):
            text = bytes(text).decode("utf-8", "surrogatepass")
        try:
            value, end = _DECODER.scan_once(text, 0)  # no per-call decoder, no regexes
        except StopIteration:
            end = -1
        return value if end == len(text) else _DECODER.decode(text)
    except NotPlainData:
        raise
    except (ValueError, RecursionError, TypeError) as err:
        raise NotPlainData(f"not valid JSON: {err}") from None


def _untag(data: dict) -> Any:
    """One tagged object, its body already decoded by the parser (see :func:`loads`)."""
    if len(data) != 1:
        raise NotPlainData("malformed encoded value: an object with several keys")
    ((tag, body),) = data.items()
    kind = type(body)
    if kind is list:
        if tag == "t":
            return tuple(body)
        if tag == "s":
            return set(map(_key, body))
        if tag == "fs":
            return frozenset(map(_key, body))
        if tag == "d":
            return {_key(k): v for k, v in _pairs(body)}
        if tag == "c" and len(body) == 2 and {type(v) for v in body} <= {int, float}:
            return complex(body[0], body[1])
    elif kind is str:
        if tag == "i" and _HEX.fullmatch(body):
            return int(body, 16)
        if tag == "b":
            try:
                return bytes.fromhex(body)
            except ValueError:
                pass
    raise NotPlainData(f"malformed encoded value with tag {tag!r}")


_DECODER = json.JSONDecoder(object_hook=_untag)


def _items(items: Any, depth: int) -> Any:
    """Encoded items of a list, tuple or set: ``items`` itself when all are native JSON."""
    kinds = set(map(type, items))
    if kinds <= _SCALARS:
        return list(items)
    if kinds <= _SCALARS | {int}:
        ints = items if len(kinds) == 1 else [v for v in items if type(v) is int]
        if -_NATIVE_INT_LIMIT < min(ints) and max(ints) < _NATIVE_INT_LIMIT:
            return list(items)
    out = []
    for item in items:
        out.append(encode(item, depth))
    return out


def _decode_items(items: list, depth: int) -> list:
    if set(map(type, items)) <= _SCALARS | {int}:
        return list(items)
    out = []
    for item in items:
        out.append(decode(item, depth))
    return out


def _hex(value: int) -> str:
    return "-" + format(-value, "x") if value < 0 else format(value, "x")


def _sorted(items: list) -> list:
    kinds = set(map(type, items))
    if len(items) < 2:
        return items
    if kinds == {str} or kinds <= {int, float}:
        return sorted(items)
    return sorted(items, key=compact_json)


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
    try:
        hash(value)
    except TypeError:
        raise NotPlainData(f"unhashable {type(value).__name__} as a set item or dict key") from None
    return value
