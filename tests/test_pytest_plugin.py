"""The pytest plugin, seen from a user's test suite: fixtures that work, and nothing when unused."""

from __future__ import annotations

import pytest
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai.testing import Emulator

pytest_plugins = ["pytester"]

# The runs happen in fresh interpreters, so the plugin is loaded from its entry point the
# way a user's pytest loads it, and nothing imported by this suite leaks into them.
_STRICT = ("-p", "no:cacheprovider", "-W", "error::pytest.PytestUnraisableExceptionWarning")

USER_TESTS = """
import threading

import pytest
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai.testing import Emulator

seen = {}


def emulator_threads():
    return [t for t in threading.enumerate() if t.name.startswith("airforce-emulator")]


def test_sync_client(airforce_client, airforce_emulator, tmp_path):
    assert isinstance(airforce_emulator, Emulator) and airforce_emulator.running
    assert isinstance(airforce_client, af.OpenAI)
    assert str(airforce_client.base_url).rstrip("/") == airforce_emulator.base_url
    assert emulator_threads()
    response = airforce_client.images.generate(model="flux-2-dev", prompt="an otter")
    assert isinstance(response, ImagesResponse)
    assert af.save_images(response, tmp_path)[0].suffix == ".png"
    assert len(airforce_emulator.generation_requests()) == 1
    seen["client"], seen["emulator"] = airforce_client, airforce_emulator


@pytest.mark.asyncio
async def test_async_client(airforce_async_client, airforce_emulator):
    assert isinstance(airforce_async_client, af.AsyncOpenAI)
    response = await airforce_async_client.images.generate(
        model="flux-2-dev", prompt="an otter", response_format="b64_json"
    )
    assert response.data[0].b64_json
    assert airforce_emulator.generation_requests()[0].json["prompt"] == "an otter"
    seen["async_client"] = airforce_async_client


def test_each_test_gets_a_fresh_emulator(airforce_emulator):
    assert airforce_emulator is not seen["emulator"]
    assert airforce_emulator.requests == []


def test_everything_was_stopped_and_closed():
    assert seen["client"].is_closed()
    assert seen["async_client"].is_closed()
    assert not seen["emulator"].running
    assert not emulator_threads()
"""

UNUSED_TESTS = """
import sys
import threading


def test_nothing_started_or_imported():
    assert "airforce_openai.testing.pytest_plugin" in sys.modules
    assert not [t for t in threading.enumerate() if t.name.startswith("airforce-emulator")]
    assert "vcr" not in sys.modules
"""


def test_user_tests_using_the_fixtures_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)

    result = pytester.runpytest_subprocess(*_STRICT)

    result.assert_outcomes(passed=4)


def test_fixtures_are_listed_with_their_docs(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", *_STRICT)

    result.stdout.fnmatch_lines(
        [
            "*airforce_emulator*",
            "*running loopback api.airforce emulator*",
            "*airforce_client*",
            "*airforce_async_client*",
        ]
    )


def test_a_run_without_the_fixtures_starts_and_imports_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_unused=UNUSED_TESTS)

    result = pytester.runpytest_subprocess(*_STRICT)

    result.assert_outcomes(passed=1)


def test_a_user_emulator_fixture_overrides_the_plugins(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from airforce_openai.testing import Emulator

        @pytest.fixture
        def airforce_emulator():
            with Emulator(api_key="sk-air-custom", latency=0.01) as emulator:
                yield emulator
        """
    )
    pytester.makepyfile(
        test_custom="""
        def test_client_follows_the_override(airforce_client, airforce_emulator):
            assert airforce_client.api_key == "sk-air-custom"
            assert airforce_emulator.latency == 0.01
            airforce_client.images.generate(model="flux-2-dev", prompt="an otter")
            auth = airforce_emulator.generation_requests()[0].header("authorization")
            assert auth == "Bearer sk-air-custom"
        """
    )

    result = pytester.runpytest_subprocess(*_STRICT)

    result.assert_outcomes(passed=1)


# The plugin is active in this suite too (the package is installed): the suite's own
# ``emulator``/``client`` fixtures are its fixtures under short names (tests/conftest.py).


def test_the_fixtures_in_this_suite(
    airforce_client: af.OpenAI, airforce_emulator: Emulator, emulator: Emulator, client: af.OpenAI
) -> None:
    assert airforce_emulator is emulator
    assert airforce_client.base_url == client.base_url == f"{airforce_emulator.base_url}/"
    response = airforce_client.images.generate(model="flux-2-dev", prompt="an otter")
    assert isinstance(response, ImagesResponse)
    assert len(airforce_emulator.generation_requests()) == 1
    assert client.max_retries == 0  # the suite's tests send each request once


async def test_the_async_fixture_in_this_suite(
    airforce_async_client: af.AsyncOpenAI, airforce_emulator: Emulator
) -> None:
    response = await airforce_async_client.images.generate(model="flux-2-dev", prompt="an otter")
    assert isinstance(response, ImagesResponse)
    assert airforce_emulator.generation_requests()[0].header("authorization") == (
        f"Bearer {airforce_emulator.api_key}"
    )
