"""JSON numbers checked once when any record is read: NaN, Infinity, 1e999 and integers beyond 64 bits
are refused, naming the field."""

from __future__ import annotations

import pytest

from distillscope.jsonsafe import NumberOutOfRange, find_bad_number, loads


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"usage": {"prompt_tokens": Infinity}}', "usage.prompt_tokens"),
        ('{"a": [1, 2, NaN]}', "a.2"),
        ('{"a": -Infinity}', "a"),
        ('{"x": 1e999}', "x"),
        ('{"x": {"y": 1000000000000000000000000000000}}', "x.y"),
        ('{"x": ' + "9" * 5000 + "}", "x"),
        ('{"x": -9223372036854775809}', "x"),
    ],
)
def test_out_of_range_numbers_name_their_field(text: str, field: str) -> None:
    with pytest.raises(NumberOutOfRange) as caught:
        loads(text)
    assert caught.value.field == field and f"field '{field}'" in str(caught.value)
    assert len(str(caught.value)) < 200  # a 5,000-digit number is not echoed whole


def test_numbers_in_range_are_read_as_json_reads_them() -> None:
    text = '{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1.5e300, "d": [0, -1, 2.5], "e": true}'
    assert loads(text) == {"a": 2**63 - 1, "b": -(2**63), "c": 1.5e300, "d": [0, -1, 2.5], "e": True}


def test_parsed_values_are_walked_too() -> None:
    assert find_bad_number({"a": [1, {"b": float("inf")}]}) == ("a.1.b", "inf")
    assert find_bad_number({"a": 10**30}) == ("a", "an integer of 31 digits")
    assert find_bad_number({"ok": [1, 2.0, "x", None, True]}) is None


def test_json_kind_names_each_json_value_as_messages_do() -> None:
    """One wording for "got …" in config.json and server-reply errors (booleans are not numbers)."""
    from distillscope.jsonsafe import json_kind

    kinds = [json_kind(v) for v in (None, True, 0, 1.5, "x", [], [1], {})]
    assert kinds == ["null", "a boolean", "a number", "a number", "text", "a list", "a list", "an object"]
