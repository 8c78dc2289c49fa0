"""The compatibility seam: which SDK line is installed and the HTTP package it sends through."""

from __future__ import annotations

import sys

import openai
import pytest

import airforce_openai as af
import airforce_openai.testing
from airforce_openai import _compat
from airforce_openai._compat import _parse_version, httpx


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("3.57.0", (3, 57, 0)),
        ("1.55.3", (1, 55, 3)),
        ("2.0.0b1", (2, 0, 0)),
        ("3.1", (3, 1, 0)),
        ("4.0.0rc2", (4, 0, 0)),
    ],
)
def test_versions_are_parsed(text: str, parsed: tuple[int, int, int]) -> None:
    assert _parse_version(text) == parsed


def test_the_installed_line_decides_the_http_package() -> None:
    assert _parse_version(openai.__version__) == _compat.OPENAI_VERSION
    expected = "httpx2" if _compat.OPENAI_VERSION[0] >= 3 else "httpx"
    assert httpx.__name__ == expected
    assert _compat.SENDS_WITH_HTTPX2 is (expected == "httpx2")


def test_the_stock_client_sends_through_that_package() -> None:
    stock = openai.OpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    assert isinstance(stock._client, httpx.Client)
    stock.close()


def test_the_testing_kit_exports_the_same_package() -> None:
    assert airforce_openai.testing.httpx is httpx
    assert "httpx" in airforce_openai.testing.__all__


def test_an_http_client_of_that_package_is_accepted() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"created": 1, "data": [{"url": "https://x/i.png"}]})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http_client:
        client = af.OpenAI(
            api_key="sk-air-x",
            base_url="http://127.0.0.1:9/v1",
            http_client=http_client,
            validation="off",
        )
        response = client.images.generate(model="flux-2-dev", prompt="an otter")
        client.copy().images.generate(model="flux-2-dev", prompt="again")
    assert response.data and response.data[0].url == "https://x/i.png"
    assert seen == ["/v1/images/generations"] * 2


def test_the_packages_whose_errors_reach_the_send_path() -> None:
    packages = _compat.http_packages()
    assert packages[0] is httpx
    assert len(set(packages)) == len(packages)
    legacy = sys.modules.get("httpx")
    if legacy is not None and legacy is not httpx:
        # openai 3.x also takes an `httpx` client: its errors count too.
        assert legacy in packages
