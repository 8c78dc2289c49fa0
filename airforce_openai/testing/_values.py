"""Type guards for numbers decoded from JSON, where a bool is never a number.

>>> is_int(3), is_int(True), is_number(0.5), is_number(float("nan"))
(True, False, True, False)
"""

from __future__ import annotations

import math
from typing import TypeGuard

__all__ = ["is_int", "is_number"]


def is_int(value: object) -> TypeGuard[int]:
    """True for an int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[float]:
    """True for a finite int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
