"""pytest fixtures for code that uses ``airforce_openai``: a loopback gateway and its clients.

    def test_otter(airforce_client):
        assert airforce_client.images.generate(model="flux-2-dev", prompt="an otter").data

The plugin is registered through the ``pytest11`` entry point, so installing the
package is enough. Every fixture is function-scoped and nothing starts until a
test asks for one:

``airforce_emulator``
    A running :class:`airforce_openai.testing.Emulator` on 127.0.0.1, stopped
    after the test. Override it in a ``conftest.py`` to change the catalog or the
    latency; the client fixtures use whatever it returns.
``airforce_client``
    An ``airforce_openai.OpenAI`` bound to ``airforce_emulator`` (its ``base_url``
    and ``api_key``, every other setting at its default), closed after the test.
``airforce_async_client``
    The same as an ``airforce_openai.AsyncOpenAI``. It is an async fixture: it
    needs pytest-asyncio (either mode) or anyio's pytest plugin.

To record and replay real traffic instead, give pytest-recording the package's
settings: ``@pytest.fixture def vcr_config(): return airforce_openai.testing.vcr_config()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import airforce_openai
    from airforce_openai.testing import Emulator

__all__ = ["airforce_async_client", "airforce_client", "airforce_emulator"]


def _async_fixture_decorator() -> Callable[..., Any]:
    # pytest-asyncio's decorator works in its strict and auto modes alike; without
    # it, a plain fixture is what anyio's plugin expects.
    try:
        from pytest_asyncio import fixture
    except ImportError:
        return pytest.fixture
    return fixture


_async_fixture = _async_fixture_decorator()


@pytest.fixture
def airforce_emulator() -> Iterator[Emulator]:
    """A running loopback api.airforce emulator, stopped after the test."""
    from airforce_openai.testing import Emulator

    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def airforce_client(airforce_emulator: Emulator) -> Iterator[airforce_openai.OpenAI]:
    """An ``airforce_openai.OpenAI`` bound to ``airforce_emulator``, closed after the test."""
    import airforce_openai

    with airforce_openai.OpenAI(
        api_key=airforce_emulator.api_key, base_url=airforce_emulator.base_url
    ) as client:
        yield client


@_async_fixture
async def airforce_async_client(
    airforce_emulator: Emulator,
) -> AsyncIterator[airforce_openai.AsyncOpenAI]:
    """An ``airforce_openai.AsyncOpenAI`` bound to ``airforce_emulator``, closed after the test."""
    import airforce_openai

    async with airforce_openai.AsyncOpenAI(
        api_key=airforce_emulator.api_key, base_url=airforce_emulator.base_url
    ) as client:
        yield client
