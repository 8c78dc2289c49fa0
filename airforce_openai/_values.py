"""Small pure checks on loose JSON values, shared by every module that reads them.

>>> is_int(True), is_int(3), lenient_number(" 2.5 "), lenient_number("nan")
(False, True, 2.5, None)
"""

from __future__ import annotations

import math
from typing import TypeGuard

__all__ = ["is_int", "is_number", "lenient_number", "shorten"]


def is_int(value: object) -> TypeGuard[int]:
    """True for an ``int`` that is not a ``bool``: JSON's ``true`` is never a count."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """True for an ``int`` or ``float`` that is not a ``bool``; NaN and infinity included."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def lenient_number(value: object) -> float | None:
    """A finite number from a number or a numeric string, else ``None``.

    Gateways write prices and delays both ways (``5``, ``"5"``, ``" 5.0 "``); a bool, NaN,
    infinity or anything else is no number at all.
    """
    if not (is_number(value) or isinstance(value, str)):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):  # not numeric, or an int too large for a float
        return None
    return number if math.isfinite(number) else None


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when it was cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
