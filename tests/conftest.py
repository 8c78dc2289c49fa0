"""Shared fixtures: a fresh emulator per test and clients bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import airforce_openai as af
from airforce_openai.testing import Emulator

_ENV = (
    "AIRFORCE_API_KEY",
    "AIRFORCE_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_ADMIN_KEY",
    "OPENAI_WEBHOOK_SECRET",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own keys or endpoints."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator) -> Iterator[af.OpenAI]:
    with af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(emulator: Emulator) -> AsyncIterator[af.AsyncOpenAI]:
    async with af.AsyncOpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0
    ) as c:
        yield c
