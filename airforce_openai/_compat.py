"""Which ``openai`` SDK is installed, and the HTTP package it sends through.

The SDK's 1.x and 2.x lines send through ``httpx``; 3.x sends through ``httpx2``,
its successor with the same API. Every other module takes the transport names
from here, so nothing else needs to know which line is installed::

    >>> from airforce_openai._compat import httpx
    >>> http_client = httpx.Client(transport=httpx.MockTransport(handler))  # what the SDK takes

Differences in the SDK's own internals are handled in ``_client.py``, the one
module that touches them, each in one named function.

For type checking, mypy follows the ``httpx2`` branch unless told otherwise:
``mypy --always-false SENDS_WITH_HTTPX2`` checks the package against openai 1.x/2.x.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType

import openai

__all__ = ["OPENAI_VERSION", "SENDS_WITH_HTTPX2", "http_packages", "httpx"]


def _parse_version(text: str) -> tuple[int, int, int]:
    numbers = [int(part) for part in re.findall(r"\d+", text)[:3]]
    numbers += [0] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


OPENAI_VERSION = _parse_version(openai.__version__)
"""The installed SDK's version as ``(major, minor, patch)``."""

SENDS_WITH_HTTPX2 = OPENAI_VERSION[0] >= 3
"""True when the installed SDK sends through ``httpx2`` (openai 3.x), False for ``httpx``."""

if SENDS_WITH_HTTPX2:
    import httpx2 as httpx
else:
    import httpx  # type: ignore[no-redef, unused-ignore]


def http_packages() -> tuple[ModuleType, ...]:
    """The HTTP packages whose errors can reach the SDK's send path.

    The SDK's own, plus ``httpx`` when it is loaded next to ``httpx2``: openai 3.x also
    accepts an ``httpx`` client, and each package raises its own exception classes.
    """
    legacy = sys.modules.get("httpx")
    return (httpx,) if legacy is None or legacy is httpx else (httpx, legacy)
