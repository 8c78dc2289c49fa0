"""Tests for airforce_openai._hooks: checking the validation mode, enforcing a report."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import airforce_openai as af
from airforce_openai._validation import ValidationReport, check_mode, enforce, refuse_unsendable

HARD = af.Violation("n", 9, 4, "flux-2-dev: n 9 is above the maximum of 4")
SOFT = af.Violation("seed", 3, None, "nano-banana-2: seed 3 is ignored by this model")
NAN = af.Violation("seed", float("nan"), "a JSON value", "seed is nan; JSON numbers are finite")


def report(
    errors: tuple[af.Violation, ...] = (),
    warns: tuple[af.Violation, ...] = (),
    unsendable: tuple[af.Violation, ...] = (),
) -> ValidationReport:
    return ValidationReport("flux-2-dev", None, unsendable + errors, warns, unsendable)


@pytest.mark.parametrize("mode", ["strict", "warn", "off"])
def test_the_three_modes_are_accepted(mode: str) -> None:
    assert check_mode(mode) == mode


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bogus", "validation='bogus' is not one of 'strict', 'warn', 'off'"),
        ("", "validation='' is not one of"),
        (
            "STRICT",
            "validation='STRICT' is not one of 'strict', 'warn', 'off'; did you mean 'strict'?",
        ),
        (" warn ", "did you mean 'warn'?"),
        (None, "validation=None (NoneType) is not one of 'strict', 'warn', 'off'"),
        (True, "validation=True (bool) is not one of"),
        (0, "validation=0 (int)"),
        (["strict"], "validation=['strict'] (list)"),
        ({"mode": "strict"}, "validation={'mode': 'strict'} (dict)"),
    ],
)
def test_a_bad_mode_is_named_with_what_is_allowed(mode: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_mode(mode)
    assert message in str(caught.value)


def test_a_str_subclass_equal_to_a_mode_is_accepted() -> None:
    class Mode(str):
        pass

    assert check_mode(Mode("warn")) == "warn"


def test_strict_raises_every_error_and_keeps_warnings_quiet() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        with pytest.raises(af.CapabilityError) as caught:
            enforce(report((HARD,), (SOFT,)), "strict")
    assert caught.value.violations == [HARD]
    assert caught.value.model == "flux-2-dev"


def test_strict_warns_for_soft_rules_only() -> None:
    with pytest.warns(af.CapabilityWarning, match="seed 3 is ignored"):
        enforce(report((), (SOFT,)), "strict")


def test_warn_turns_errors_into_warnings() -> None:
    with pytest.warns(af.CapabilityWarning) as caught:
        enforce(report((HARD,), (SOFT,)), "warn")
    assert [str(w.message) for w in caught] == [HARD.message, SOFT.message]


def test_off_does_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        enforce(report((HARD,), (SOFT,)), "off")


@pytest.mark.parametrize("mode", ["strict", "warn", "off"])
def test_values_json_cannot_carry_are_refused_in_every_mode(mode: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        with pytest.raises(af.CapabilityError) as caught:
            enforce(report((HARD,), (SOFT,), (NAN,)), mode)
    # strict lists everything; warn and off list only what cannot be sent at all.
    expected = [NAN, HARD] if mode == "strict" else [NAN]
    assert caught.value.violations == expected


def test_refuse_unsendable_names_the_path_and_the_model() -> None:
    body = {"model": "flux-2-dev", "prompt": "x", "vendor_knob": [1, 2, float("inf")]}
    with pytest.raises(af.CapabilityError) as caught:
        refuse_unsendable(body, {"vendor_knob": body["vendor_knob"]})
    error = caught.value
    assert error.model == "flux-2-dev"
    assert [v.param for v in error.violations] == ["vendor_knob[2]"]
    assert str(error).startswith("extra_body.vendor_knob[2] is inf")
    assert isinstance(error, ValueError) and isinstance(error, af.AirforceError)


def test_refuse_unsendable_lets_plain_json_through() -> None:
    refuse_unsendable({"model": "flux-2-dev", "prompt": "x", "vendor": [1, {"a": None}]})
    with pytest.raises(af.CapabilityError) as caught:
        refuse_unsendable({"model": 3.5, "seed": float("nan")})
    assert caught.value.model is None
