"""The restricted encoding that carries outputs out of the sandbox."""

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
    for _ in range(200):
        value = [value]
    with pytest.raises(plain_data.NotPlainData):
        plain_data.encode(value)
