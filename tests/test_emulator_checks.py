"""The gateway's checks of a generation request, as the emulator makes them (``_checks.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from _gateway import TINY_PNG_B64, error_of, generate

from airforce_openai.testing import Emulator, httpx

pytest_plugins = ["_gateway_plugin"]  # the module's emulator and its clients


def test_unknown_fields_are_accepted_and_forwarded(emu: Emulator, http: httpx.Client) -> None:
    response = generate(http, upstream_knob={"depth": 3}, style="EDM", custom=True)
    assert response.status_code == 200
    assert emu.generation_requests()[-1].json["upstream_knob"] == {"depth": 3}


def test_input_images_and_inline_data(http: httpx.Client) -> None:
    b64 = {"b64_json": TINY_PNG_B64}
    data_url = f"data:image/png;base64,{TINY_PNG_B64}"
    assert generate(http, model="flux-2-dev", input_images=[b64, {"url": "https://e.x/a.png"}])
    # A model refusing URL inputs still takes inline data, even spelled as a data: URL.
    response = generate(http, model="nano-banana-2", input_images=[b64], image_urls=[data_url])
    assert response.status_code == 200, response.text


def test_a_stated_cap_is_enforced_only_when_stated(http: httpx.Client) -> None:
    many = [{"b64_json": TINY_PNG_B64}] * 6
    for model in ("seedream-4", "suno-v4.5"):
        response = generate(
            http, model=model, n=3, aspect_ratio="5:4", quality="ultra", input_images=many
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 3


BAD_REQUESTS: list[tuple[dict[str, Any], str, str]] = [
    ({"model": "flux-2-dev", "aspect_ratio": "5:4"}, "aspect_ratio", "'5:4'"),
    ({"model": "flux-2-klein-9b", "aspectRatio": "5:4"}, "aspectRatio", "'5:4'"),
    ({"model": "flux-2-dev", "n": 5}, "n", "at most 4"),
    ({"n": 0}, "n", "at least 1"),
    # No document bounds n but max_n; the emulator's own bound keeps a request from running long.
    ({"model": "seedream-4", "n": 1001}, "n", "at most 1000"),
    ({"n": "2"}, "n", "integer"),
    ({"model": "flux-2-dev", "quality": "ultra"}, "quality", "'ultra'"),
    ({"input_images": [{"b64_json": TINY_PNG_B64}]}, "input_images", "text-only"),
    ({"model": "flux-2-dev", "image_urls": ["https://e.x/a.png"] * 5}, "image_urls", "at most 4"),
    (
        {"model": "nano-banana-2", "input_images": [{"url": "https://e.x/a.png"}]},
        "input_images[0]",
        "does not accept image URLs",
    ),
    (
        {"model": "nano-banana-2", "image_urls": ["https://e.x/a.png"]},
        "image_urls[0]",
        "does not accept image URLs",
    ),
    ({"input_images": [{"b64_json": "not base64!"}]}, "input_images[0].b64_json", "base64"),
    ({"input_images": [{}]}, "input_images[0]", "url"),
    ({"input_images": "https://e.x/a.png"}, "input_images", "array"),
    ({"prompt": ""}, "prompt", "empty"),
    ({"prompt": None}, "prompt", "Missing"),
    ({"prompt": 3}, "prompt", "string"),
    ({"model": "gpt-4o-mini"}, "model", "chat model"),
    ({"model": "llama-3.3-70b"}, "model", "chat model"),
    ({"response_format": "png"}, "response_format", "'png'"),
    ({"model": "nano-banana-pro", "resolution": "4096"}, "resolution", "'4096'"),
    ({"seed": "7"}, "seed", "integer"),
    ({"sse": "yes"}, "sse", "boolean"),
    ({"custom": "yes"}, "custom", "boolean"),
    ({"models": ["a", "b", "c", "d"]}, "models", "at most 3"),
    ({"models": "flux-2-dev"}, "models", "array"),
    ({"model": None}, "model", "Missing"),
]


@pytest.mark.parametrize(("overrides", "param", "fragment"), BAD_REQUESTS)
def test_server_side_checks_name_the_field(
    http: httpx.Client, overrides: dict[str, Any], param: str, fragment: str
) -> None:
    body = {"model": "flux-2-klein-4b", "prompt": "an otter", **overrides}
    body = {k: v for k, v in body.items() if not (k == "prompt" and v is None)}
    body = {k: v for k, v in body.items() if not (k == "model" and v is None)}
    response = http.post("/images/generations", json=body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["param"] == param
    assert f"'{param}'" in error["message"]
    assert fragment in error["message"]
