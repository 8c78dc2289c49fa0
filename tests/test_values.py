"""The small value checks every module shares: ints, numbers, lenient numbers, shortened text."""

from __future__ import annotations

import pytest

from airforce_openai._values import is_int, is_number, lenient_number, shorten


class Count(int):
    pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, True),
        (-3, True),
        (10**400, True),
        (Count(2), True),
        (True, False),
        (False, False),
        (3.0, False),
        ("3", False),
        (None, False),
    ],
)
def test_is_int(value: object, expected: bool) -> None:
    assert is_int(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, True),
        (2.5, True),
        (10**400, True),
        (float("nan"), True),
        (float("inf"), True),
        (True, False),
        ("2.5", False),
        (None, False),
        ([1], False),
    ],
)
def test_is_number(value: object, expected: bool) -> None:
    assert is_number(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5.0),
        (-1, -1.0),
        (2.5, 2.5),
        ("5", 5.0),
        (" 5.0 ", 5.0),
        ("\t0.25\n", 0.25),
        ("-1e3", -1000.0),
        (10**300, 1e300),
    ],
)
def test_lenient_number_reads_numbers_and_numeric_strings(value: object, expected: float) -> None:
    number = lenient_number(value)
    assert number == expected
    assert type(number) is float


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        float("nan"),
        float("inf"),
        float("-inf"),
        "nan",
        " inf ",
        "1e400",
        10**400,
        "",
        "   ",
        "five",
        "5 s",
        "0x10",
        [5],
        {"seconds": 5},
    ],
)
def test_lenient_number_refuses_everything_else(value: object) -> None:
    assert lenient_number(value) is None


def test_shorten_keeps_text_that_fits() -> None:
    assert shorten("a" * 80) == "a" * 80
    assert shorten("") == ""
    assert shorten("abcdef", limit=6) == "abcdef"


def test_shorten_cuts_to_the_limit_with_an_ellipsis() -> None:
    shortened = shorten("a" * 81)
    assert shortened == "a" * 77 + "..."
    assert len(shortened) == 80
    assert shorten("abcdefg", limit=6) == "abc..."
