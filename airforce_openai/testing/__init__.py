"""Test helpers: a loopback emulator of the api.airforce gateway, with faults on demand.

>>> with Emulator() as emu:
...     client = airforce_openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key)
"""

from __future__ import annotations

from ._emulator import Emulator, Fault, RecordedRequest, serve_forever
from ._vcr import vcr_config

__all__ = ["Emulator", "Fault", "RecordedRequest", "serve_forever", "vcr_config"]
