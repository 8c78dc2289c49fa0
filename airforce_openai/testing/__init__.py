"""Test helpers: a loopback emulator of the api.airforce gateway, with faults on demand.

>>> with Emulator() as emu:
...     client = airforce_openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key)

Names are loaded on first use, so the pytest plugin stays free until a fixture is used.

``httpx`` is the HTTP package the installed ``openai`` SDK sends through (``httpx2``
under openai 3.x, ``httpx`` under 1.x and 2.x), so a test that builds its own
``http_client=`` gets the class the SDK accepts on any line:

>>> from airforce_openai.testing import httpx
>>> transport = httpx.MockTransport(handler)
>>> client = airforce_openai.OpenAI(http_client=httpx.Client(transport=transport))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._compat import httpx as httpx
    from ._checks import RULES as RULES
    from ._emulator import Emulator as Emulator
    from ._emulator import serve_forever as serve_forever
    from ._faults import Fault as Fault
    from ._state import RecordedRequest as RecordedRequest
    from ._vcr import vcr_config as vcr_config

__all__ = ["RULES", "Emulator", "Fault", "RecordedRequest", "httpx", "serve_forever", "vcr_config"]

_HOMES = {
    "RULES": "._checks",
    "Emulator": "._emulator",
    "Fault": "._faults",
    "RecordedRequest": "._state",
    "httpx": ".._compat",
    "serve_forever": "._emulator",
    "vcr_config": "._vcr",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'airforce_openai.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
