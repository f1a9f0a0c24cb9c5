"""The restricted encoding that carries outputs out of the sandbox."""

import json
import math

import pytest

from codegen.eval.sandbox import plain_data


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -(10**30), 1.5, "é\n", [1, [2]], (1, "a"), {1: (2,), "k": [None]},
     {1, 2}, frozenset({"x"}), b"\x00\xff", 1 + 2j, float("inf"), ()],
)  # fmt: skip
def test_round_trip_is_type_exact(value):
    back = plain_data.loads(plain_data.dumps(value))
    assert back == value
    assert type(back) is type(value)


def test_nan_round_trips():
    assert math.isnan(plain_data.loads(plain_data.dumps(float("nan"))))


def test_bool_and_int_and_tuple_and_list_stay_distinct():
    assert plain_data.loads(plain_data.dumps([True, 1, (1,), [1]])) == [True, 1, (1,), [1]]
    assert type(plain_data.loads(plain_data.dumps(True))) is bool
    assert type(plain_data.loads(plain_data.dumps((1,)))) is tuple


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyInt(int):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [AlwaysEqual(), SneakyInt(3), [1, SneakyInt(2)], object, len])
def test_anything_else_is_rejected(value):
    with pytest.raises(plain_data.NotPlainData):
        plain_data.encode(value)


@pytest.mark.parametrize(
    "text", ['{"t": 1}', '{"x": []}', '{"s": [[1]]}', '{"d": [[1]]}', '{"t": [], "s": []}', "nope"]
)
def test_malformed_reports_are_rejected(text):
    with pytest.raises(plain_data.NotPlainData):
        plain_data.loads(text)


def test_deep_nesting_is_rejected():
    value: list = []
    for _ in range(plain_data.MAX_DEPTH + 1):
        value = [value]
    with pytest.raises(plain_data.NotPlainData, match="deep"):
        plain_data.encode(value)
    hostile = json.loads("[" * (plain_data.MAX_DEPTH + 5) + "]" * (plain_data.MAX_DEPTH + 5))
    with pytest.raises(plain_data.NotPlainData):
        plain_data.decode(hostile)  # what the trusted parent runs on a report
    with pytest.raises(plain_data.NotPlainData):  # deeper than the JSON parser goes
        plain_data.loads("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "wrap, levels",
    [(lambda v: [v], 1), (lambda v: (v,), 1), (lambda v: {"k": v}, 1),
     (lambda v: {frozenset([1]): [v, {2.5}]}, 2)],
)  # fmt: skip
def test_honest_deep_nesting_round_trips(wrap, levels):
    value: object = 0
    for _ in range((plain_data.MAX_DEPTH - 2) // levels):
        value = wrap(value)
    assert plain_data.loads(plain_data.dumps(value)) == value


@pytest.mark.parametrize(
    "value",
    [10**5000, -(10**5000) + 1, 2**63, -(2**63), 2**63 - 1],
    ids=["10**5000", "-(10**5000)+1", "2**63", "-(2**63)", "2**63-1"],
)
def test_ints_of_any_size_round_trip_without_the_digit_limit(value):
    text = plain_data.dumps([value, (value,), {value: {value}}])
    assert plain_data.loads(text) == [value, (value,), {value: {value}}]
    assert len(text) < 4 * len(format(abs(value), "x")) + 80  # hexadecimal, not decimal


@pytest.mark.parametrize(
    "text", ['{"i": "0x1f"}', '{"i": " 1f"}', '{"i": "1_0"}', '{"i": 31}', '{"i": ""}']
)
def test_malformed_big_ints_are_rejected(text):
    with pytest.raises(plain_data.NotPlainData):
        plain_data.loads(text)


def test_nan_and_infinities_inside_containers():
    nan, inf = float("nan"), float("inf")
    back = plain_data.loads(plain_data.dumps([nan, (inf, -inf), {"x": [nan]}, {-0.0}, 1e308]))
    assert math.isnan(back[0]) and back[1] == (inf, -inf) and math.isnan(back[2]["x"][0])
    assert math.copysign(1, next(iter(back[3]))) == -1 and back[4] == 1e308


def test_equal_sets_encode_equally_whatever_their_insertion_order():
    words = [f"w{i}" for i in range(50)]
    assert plain_data.dumps(set(words)) == plain_data.dumps(set(reversed(words)))
    assert plain_data.dumps({3, 1, 2}) == plain_data.dumps({2, 3, 1})
    mixed = {1, "a", (2, "b"), None}
    assert plain_data.loads(plain_data.dumps(mixed)) == mixed


def test_large_flat_containers_take_the_fast_path_and_stay_exact():
    value = [list(range(1000)), [1.5] * 1000, ["s"] * 1000, [True, None, 2**64, 0.5]]
    back = plain_data.loads(plain_data.dumps(value))
    assert back == value
    assert type(back[3][2]) is int and type(back[3][0]) is bool


def test_decoded_values_share_nothing_with_the_encoded_form():
    data = [[1, 2], [3]]
    back = plain_data.decode(data)
    back[0].append(9)
    assert data == [[1, 2], [3]]


@pytest.mark.parametrize(
    "args, kwargs",
    [((), {}), (([1.5, float("nan")], 0.3), {}), (("s", (1, [2]), {3: {4}}, 2**70), {}),
     ((1,), {"key": [None]}), (([[[]]],), {}), (([1, 2**70], "x"), {}), (([1.0, 2], True), {}),
     ((float("nan"), [None, "a"], -(2**63)), {}), (([],), {})],
)  # fmt: skip
def test_a_call_key_and_its_copies_are_those_of_dumps_and_loads(args, kwargs):
    key, copy_args, copy_kwargs = plain_data.call_key_and_copies(args, kwargs)
    assert key == plain_data.dumps((args, kwargs))
    expected_args, expected_kwargs = plain_data.loads(key)
    assert repr((copy_args, copy_kwargs)) == repr((expected_args, expected_kwargs))
    assert type(copy_args) is tuple and type(copy_kwargs) is dict
    shared = {id(v) for v in args if isinstance(v, (list, dict, float))}
    assert not shared & {id(v) for v in copy_args}  # fresh copies, as the sample's


@pytest.mark.parametrize(
    "value",
    [None, 7, "s", True, 1.5, float("nan"), 2**70, [1, "a", None], [[1, 2], [3]], [1.0, 2.0],
     [[1], [2.5]], [[[1]]], (1, 2), {"k": 1}, [2**64]],
)  # fmt: skip
def test_a_decoded_copy_is_what_loads_builds(value):
    encoded = plain_data.encode(value)
    text = plain_data.compact_json(encoded)
    copy = plain_data.decoded_copy(encoded, text)
    assert repr(copy) == repr(plain_data.loads(text))
    if isinstance(value, (list, dict, tuple)) or value != value:
        assert copy is not value  # never the solution's own container, nor a NaN
    if isinstance(value, list) and value and isinstance(value[0], list):
        assert all(c is not v for c, v in zip(copy, value, strict=True))


@pytest.mark.parametrize(
    "value, shared",
    [([1.5, 2.0], True), ([1.5, float("nan")], False), ([float("inf"), -float("inf")], False),
     ([[1.0], ["a", None]], True), ([[1.0, float("nan")]], False), (float("nan"), False),
     (2.5, True), ([1e308, 1e308], True)],
)  # fmt: skip
def test_floats_are_shared_only_when_no_nan_could_compare_by_identity(value, shared):
    encoded = plain_data.encode(value)
    copy = plain_data.decoded_copy(encoded, plain_data.compact_json(encoded))
    assert (copy is encoded) is shared
    assert repr(copy) == repr(plain_data.loads(plain_data.compact_json(encoded)))
