"""Shared fixtures: a clean environment, and the package's own emulator fixtures."""

from __future__ import annotations

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


# The package's own fixtures (airforce_openai.testing.pytest_plugin), under short names. Clients
# here send each request once: the tests about retries ask for them.


@pytest.fixture
def emulator(airforce_emulator: Emulator) -> Emulator:
    return airforce_emulator


@pytest.fixture
def client(airforce_client: af.OpenAI) -> af.OpenAI:
    return airforce_client.with_options(max_retries=0)


@pytest.fixture
def aclient(airforce_async_client: af.AsyncOpenAI) -> af.AsyncOpenAI:
    return airforce_async_client.with_options(max_retries=0)
