"""Fixtures for the emulator's tests: one emulator per test module, made fresh for each test.

    pytest_plugins = ["_gateway_plugin"]

``served`` is the module's running emulator; ``emu`` is the same one emptied for the test (no
requests, faults or latency; the default catalog); ``http`` and ``sdk`` are clients of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from airforce_openai.testing import Emulator, httpx


@pytest.fixture(scope="module")
def served() -> Iterator[Emulator]:
    # One per module: starting one per test would add seconds to the suite.
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emu(served: Emulator) -> Emulator:
    served.clear()
    served.clear_faults()
    served.set_catalog(None)
    served.latency = 0.0
    return served


@pytest.fixture
def sdk(emu: Emulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=emu.base_url, api_key=emu.api_key, max_retries=0, timeout=10
    ) as client:
        yield client


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    with httpx.Client(base_url=emu.base_url, headers=headers, timeout=10) as client:
        yield client
