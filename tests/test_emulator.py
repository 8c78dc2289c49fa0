"""The gateway emulator: its contract, checked through the stock openai SDK and raw HTTP."""

from __future__ import annotations

import base64
import io
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from airforce_openai.testing import Emulator, Fault, RecordedRequest, httpx, serve_forever
from airforce_openai.testing._catalog_data import default_catalog
from airforce_openai.testing._emulator import FAULT_HEADER, main

ROOT = Path(__file__).resolve().parents[1]
TINY_PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhg"
    "GAWjR9awAAAABJRU5ErkJggg=="
)
PROVIDER_FAILED = "Image generation failed, provider returned status 503"


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _reset(emu: Emulator) -> None:
    emu.clear()
    emu.clear_faults()
    emu.set_catalog(None)
    emu.latency = 0.0


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


def generate(
    http: httpx.Client, fault: str | None = None, timeout: float = 10, **body: Any
) -> httpx.Response:
    body.setdefault("model", "flux-2-klein-4b")
    body.setdefault("prompt", "a sea otter")
    headers = {FAULT_HEADER: fault} if fault is not None else {}
    return http.post("/images/generations", json=body, headers=headers, timeout=timeout)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:3] == b"\xff\xd8\xff", data[:3]
    offset = 2
    while data[offset + 1] != 0xC0:
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        offset += 2 + length
    height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
    return width, height


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    error: dict[str, Any] = body["error"]
    return error


def data_events(text: str) -> list[str]:
    """The data of each event in a stream, in order (comments and event names dropped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].strip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            events.append("\n".join(data))
    return events


# --- the catalog ----------------------------------------------------------------------------

REQUIRED_MODELS = {
    "flux-2-klein-4b",
    "flux-2-klein-9b",
    "flux-2-dev",
    "nano-banana-2",
    "nano-banana-2-search",
    "nano-banana-pro",
    "suno-v4.5",
    "suno-v5",
    "gpt-4o-mini",
    "wan-2.2",
}


def test_models_are_public(emu: Emulator) -> None:
    for headers in ({}, {"Authorization": "Bearer sk-air-wrong"}):
        response = httpx.get(f"{emu.base_url}/models", headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "max-age=60"
        body = response.json()
        assert body["object"] == "list"
        assert {m["id"] for m in body["data"]} >= REQUIRED_MODELS


def test_models_through_the_sdk(sdk: openai.OpenAI) -> None:
    assert {m.id for m in sdk.models.list()} >= REQUIRED_MODELS
    assert sdk.models.retrieve("flux-2-dev").owned_by == "black-forest-labs"
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("flux-9")
    assert "flux-9" in str(caught.value)


def test_default_catalog_embodies_the_live_drift() -> None:
    entries = {m["id"]: m for m in default_catalog()}
    assert set(entries) >= REQUIRED_MODELS
    flux_ratios = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
    for model_id in ("flux-2-klein-4b", "flux-2-klein-9b", "flux-2-dev"):
        assert entries[model_id]["image_caps"]["aspect_ratios"] == flux_ratios
    for model_id in ("nano-banana-2", "nano-banana-2-search", "nano-banana-pro"):
        caps = entries[model_id]["image_caps"]
        assert caps["aspect_ratios"] == ["1:1", "16:9", "9:16", "4:3"]
        assert caps["resolutions"] == ["512", "1024", "2048"]
    for model_id in ("suno-v4.5", "suno-v5"):
        assert entries[model_id]["media_type"] == "audio"
        assert entries[model_id]["output_modalities"] == ["audio"]
    assert entries["gpt-4o-mini"]["supports_chat"] is True
    assert entries["gpt-4o-mini"]["output_modalities"] == ["text"]
    assert entries["wan-2.2"]["media_type"] == "video"
    values = list(entries.values())
    # Old and partial shapes, as the live catalog has them.
    assert any(m.get("media_type") == "image" and "output_modalities" not in m for m in values)
    assert any(
        m.get("supports_images") is True and "media_type" not in m and "output_modalities" not in m
        for m in values
    )
    assert any("image_caps" in m and m["image_caps"] is None for m in values)
    assert any("image_caps" not in m and m.get("media_type") == "audio" for m in values)
    caps = [m["image_caps"] for m in values if isinstance(m.get("image_caps"), dict)]
    assert any(c.get("max_input_images") == 0 for c in caps)
    assert any(c.get("supports_url_input") is False for c in caps)
    assert any(c.get("supports_seed") is False for c in caps)
    assert any(c.get("qualities") for c in caps)
    assert entries["flux-2-dev"]["priceperthousandimages"] == 500


def test_default_catalog_is_a_fresh_copy() -> None:
    first = default_catalog()
    first[0]["image_caps"]["aspect_ratios"].append("5:4")
    first[0]["id"] = "changed"
    second = default_catalog()
    assert second[0]["id"] == "flux-2-klein-4b"
    assert "5:4" not in second[0]["image_caps"]["aspect_ratios"]
    # Entries never share lists, even within one copy.
    second[0]["image_caps"]["aspect_ratios"].append("5:4")
    assert "5:4" not in second[1]["image_caps"]["aspect_ratios"]


def test_set_catalog_accepts_every_shape(emu: Emulator, http: httpx.Client, tmp_path: Path) -> None:
    entry = {"id": "only-model", "output_modalities": ["image"], "image_caps": {"max_n": 1}}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"object": "list", "data": [entry]}))
    for source in ([entry], {"data": [entry]}, path, str(path)):
        emu.set_catalog(source)
        assert [m["id"] for m in http.get("/models").json()["data"]] == ["only-model"]
        assert generate(http, model="only-model").status_code == 200
        assert generate(http, model="flux-2-dev").json()["error"]["code"] == "unknown_model"
    emu.set_catalog(None)
    assert "flux-2-dev" in {m["id"] for m in emu.catalog}


def test_catalog_property_is_a_copy(emu: Emulator, http: httpx.Client) -> None:
    emu.catalog[0]["id"] = "changed"
    assert http.get("/models").json()["data"][0]["id"] == "flux-2-klein-4b"


def test_a_broken_catalog_is_served_as_given(emu: Emulator, http: httpx.Client) -> None:
    emu.set_catalog({"object": "list", "data": "not a list"})
    assert http.get("/models").json() == {"object": "list", "data": "not a list"}
    assert emu.catalog == []
    # A broken listing does not stop generation: any model goes, unchecked.
    assert generate(http, model="any-model", n=7, aspect_ratio="5:4").status_code == 200
    drifted = [None, 7, {"id": None}, {"id": "flux-2-dev", "media_type": "image"}]
    emu.set_catalog(drifted)  # type: ignore[arg-type]
    assert http.get("/models").json()["data"] == drifted
    assert generate(http, model="flux-2-dev").status_code == 200
    assert generate(http, model="any-model").json()["error"]["code"] == "unknown_model"


def test_bad_catalogs_name_the_culprit(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot be served as JSON"):
        Emulator(catalog=[{"id": "a", "created": object()}])
    missing = tmp_path / "missing.json"
    with pytest.raises(ValueError, match=r"missing\.json"):
        Emulator(catalog=missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json.*not valid JSON"):
        Emulator(catalog=broken)
    with pytest.raises(TypeError, match="int"):
        Emulator(catalog=42)  # type: ignore[arg-type]


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-air-wrong"}, {"Authorization": "sk-air-emulator-0000"}],
)
@pytest.mark.parametrize("path", ["/images/generations", "/chat/completions"])
def test_a_missing_or_wrong_key_is_401(emu: Emulator, headers: dict[str, str], path: str) -> None:
    body = {"model": "flux-2-dev", "prompt": "x", "messages": [{"role": "user", "content": "x"}]}
    response = httpx.post(f"{emu.base_url}{path}", json=body, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "Invalid API key",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def test_the_sdk_sees_a_wrong_key_as_authentication_error(emu: Emulator) -> None:
    client = openai.OpenAI(base_url=emu.base_url, api_key="sk-air-wrong", max_retries=0)
    with client, pytest.raises(openai.AuthenticationError) as caught:
        client.images.generate(model="flux-2-dev", prompt="x")
    assert caught.value.code == "invalid_api_key"


def test_a_custom_key() -> None:
    with Emulator(api_key="sk-air-custom") as emulator:
        url = f"{emulator.base_url}/images/generations"
        body = {"model": "flux-2-dev", "prompt": "x"}
        ok = httpx.post(url, json=body, headers={"Authorization": "Bearer sk-air-custom"})
        assert ok.status_code == 200
        default = {"Authorization": "Bearer sk-air-emulator-0000"}
        assert httpx.post(url, json=body, headers=default).status_code == 401


# --- generation -----------------------------------------------------------------------------


def test_url_mode_serves_real_files_without_auth(emu: Emulator, sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="flux-2-dev", prompt="an otter", n=2, extra_body={"aspect_ratio": "16:9"}
    )
    assert result.data is not None and len(result.data) == 2
    for item in result.data:
        assert item.url is not None and item.b64_json is None
        assert item.url.startswith(f"{emu.url}/files/")
        assert item.url.endswith("/image.jpeg")
        download = httpx.get(item.url, timeout=10)
        assert download.status_code == 200
        assert download.headers["content-type"] == "image/jpeg"  # the name and type lie
        assert png_size(download.content) == (64, 36)  # the bytes are the truth
    gets = [r for r in emu.requests if r.path.startswith("/files/")]
    assert len(gets) == 2
    assert all(r.method == "GET" and "authorization" not in r.headers for r in gets)


def test_the_unused_field_is_an_explicit_null(http: httpx.Client) -> None:
    for response_format, unused in (("url", "b64_json"), ("b64_json", "url")):
        body = generate(http, response_format=response_format).json()
        assert isinstance(body["created"], int)
        item = body["data"][0]
        assert unused in item and item[unused] is None
        assert isinstance(item[response_format], str)


def test_b64_mode_nano_banana_answers_jpeg(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="nano-banana-2", prompt="an otter", size="1024x512", response_format="b64_json"
    )
    assert result.data is not None
    item = result.data[0]
    assert item.url is None and item.b64_json is not None
    assert jpeg_size(base64.b64decode(item.b64_json)) == (64, 32)


@pytest.mark.parametrize(
    ("extra", "size"),
    [
        ({}, (64, 64)),
        ({"aspect_ratio": "9:21"}, (27, 64)),
        ({"aspectRatio": "4:3"}, (64, 48)),
        ({"size": "16x16"}, (16, 16)),
        ({"size": "1792x1024"}, (64, 37)),
        ({"size": "1024x1024", "aspect_ratio": "21:9"}, (64, 27)),
        ({"size": "auto"}, (64, 64)),
    ],
)
def test_pixel_dimensions(http: httpx.Client, extra: dict[str, Any], size: tuple[int, int]) -> None:
    body = generate(http, response_format="b64_json", **extra).json()
    assert png_size(base64.b64decode(body["data"][0]["b64_json"])) == size


@pytest.mark.parametrize(
    ("model", "magic"),
    [
        ("flux-2-dev", b"\x89PNG"),
        ("nano-banana-pro", b"\xff\xd8\xff"),
        ("seedream-4", b"RIFF"),
        ("suno-v5", b"ID3"),
        ("wan-2.2", b"\x00\x00\x00\x1cftyp"),
    ],
)
def test_each_model_answers_its_format(http: httpx.Client, model: str, magic: bytes) -> None:
    response = generate(http, model=model, response_format="b64_json")
    assert response.status_code == 200, response.text
    assert base64.b64decode(response.json()["data"][0]["b64_json"]).startswith(magic)


def file_of(http: httpx.Client, **body: Any) -> bytes:
    response = generate(http, response_format="b64_json", **body)
    assert response.status_code == 200, response.text
    return base64.b64decode(response.json()["data"][0]["b64_json"])


def test_output_is_deterministic(http: httpx.Client) -> None:
    first = file_of(http, model="flux-2-dev", prompt="otter", seed=7)
    assert file_of(http, model="flux-2-dev", prompt="otter", seed=7) == first
    assert file_of(http, model="flux-2-dev", prompt="otter", seed=8) != first
    assert file_of(http, model="flux-2-dev", prompt="beaver", seed=7) != first
    assert file_of(http, model="flux-2-klein-9b", prompt="otter", seed=7) != first
    items = generate(http, model="flux-2-dev", n=2, response_format="b64_json").json()["data"]
    assert items[0]["b64_json"] != items[1]["b64_json"]


def test_a_model_without_seed_support_ignores_the_seed(http: httpx.Client) -> None:
    one = file_of(http, model="nano-banana-2", prompt="otter", seed=1)
    assert file_of(http, model="nano-banana-2", prompt="otter", seed=2) == one


def test_response_headers_and_cost(http: httpx.Client) -> None:
    response = generate(http, model="flux-2-dev", n=3)
    assert response.headers["x-cost-cents"] == "1.5"  # 3 x 500 cents per 1,000 images
    assert response.headers["x-request-id"]
    assert response.headers["x-airforce-trace-id"]
    assert generate(http, model="suno-v5", n=2).headers["x-cost-cents"] == "20"


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


def test_an_unknown_model_is_unknown_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.generate(model="flux-9", prompt="x")
    assert caught.value.code == "unknown_model"
    assert "flux-9" in str(caught.value)


def test_an_invalid_body_is_400(http: httpx.Client) -> None:
    for content in (b"{not json", b"[1, 2]"):
        response = http.post(
            "/images/generations", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_json"


def test_the_stock_sdk_returns_sse_as_text(sdk: openai.OpenAI) -> None:
    # What the live gateway does to an unadapted client: the event stream comes back as a str.
    result: Any = sdk.images.generate(model="flux-2-dev", prompt="x", extra_body={"sse": True})
    assert isinstance(result, str)
    assert result.startswith("data: {")


def test_a_chat_completion_echoes_the_last_user_message(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "draw an otter"}]},
        ],
    )
    assert completion.choices[0].message.content == "draw an otter"
    assert completion.model == "gpt-4o-mini"
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    with pytest.raises(openai.BadRequestError, match="not a chat model"):
        sdk.chat.completions.create(model="flux-2-dev", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="Unknown model"):
        sdk.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nothing"), ("POST", "/v1/images/edits"), ("GET", "/v1/images/generations")],
)
def test_anything_else_is_404(emu: Emulator, method: str, path: str) -> None:
    response = httpx.request(method, f"{emu.url}{path}", timeout=10)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert path in error_of(response)["message"]


def test_a_body_over_the_limit_is_413(emu: Emulator) -> None:
    request = (
        b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, "the server closed without answering"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")


# --- the models fallback --------------------------------------------------------------------


def test_models_fallback_skips_unknown_ids(http: httpx.Client) -> None:
    response = generate(http, model="flux-9", models=["nope", "flux-2-klein-9b"])
    assert response.status_code == 200
    assert response.headers["x-emulator-model"] == "flux-2-klein-9b"
    assert response.headers["x-cost-cents"] == "0.3"  # billed for the model that answered
    only_fallbacks = http.post(
        "/images/generations", json={"prompt": "x", "models": ["nano-banana-pro"]}
    )
    assert only_fallbacks.headers["x-emulator-model"] == "nano-banana-pro"


def test_a_provider_failure_moves_to_the_next_model(emu: Emulator, sdk: openai.OpenAI) -> None:
    emu.inject(Fault.provider_failure(), model="flux-2-dev")
    raw = sdk.images.with_raw_response.generate(
        model="flux-2-dev", prompt="x", extra_body={"models": ["flux-2-dev", "nano-banana-pro"]}
    )
    assert raw.headers["x-emulator-model"] == "nano-banana-pro"
    again = sdk.images.with_raw_response.generate(
        model="flux-2-dev", prompt="x", extra_body={"models": ["flux-2-dev", "nano-banana-pro"]}
    )
    assert again.headers["x-emulator-model"] == "flux-2-dev"  # the fault was used up


def test_every_provider_failing_is_503(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.provider_failure(), times=None)
    response = generate(http, models=["flux-2-dev", "nano-banana-pro"])
    assert response.status_code == 503
    assert error_of(response)["message"] == PROVIDER_FAILED


def test_provider_failure_in_the_header(http: httpx.Client) -> None:
    models = ["flux-2-klein-4b", "flux-2-dev", "nano-banana-pro"]
    first = generate(http, fault="provider_failure", models=models)
    assert first.headers["x-emulator-model"] == "flux-2-dev"
    named = generate(http, fault="provider_failure:flux-2-klein-4b,flux-2-dev", models=models)
    assert named.headers["x-emulator-model"] == "nano-banana-pro"
    assert generate(http, fault="provider_failure").status_code == 503


# --- SSE ------------------------------------------------------------------------------------


def test_sse_documented_shape(http: httpx.Client) -> None:
    response = generate(http, sse=True)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    text = response.text
    assert text.startswith("data: {") and text.endswith("\n\ndata: [DONE]\n\n")
    assert "\r" not in text
    events = data_events(text)
    assert len(events) == 2
    assert json.loads(events[0])["data"][0]["url"].endswith("/image.jpeg")


def sse_text(http: httpx.Client, *variants: str, **fault: Any) -> str:
    header = Fault.sse(*variants, **fault).to_header()  # type: ignore[arg-type]
    response = generate(http, fault=header, sse=True)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    return response.text


def test_sse_crlf(http: httpx.Client) -> None:
    text = sse_text(http, "crlf")
    assert "\r\n\r\n" in text
    assert text.count("\n") == text.count("\r\n")
    assert data_events(text)[-1] == "[DONE]"


def test_sse_event_lines(http: httpx.Client) -> None:
    lines = sse_text(http, "event_lines").split("\n")
    data_lines = [i for i, line in enumerate(lines) if line.startswith("data:")]
    assert len(data_lines) == 2
    assert all(lines[i - 1] == "event: message" for i in data_lines)


def test_sse_comments_and_keepalive(http: httpx.Client) -> None:
    text = sse_text(http, "comments", "keepalive")
    assert any(line.startswith(": ping") for line in text.split("\n"))
    events = data_events(text)
    assert events[:2] == [": keepalive", ": keepalive"]
    assert "data" in json.loads(events[2])
    assert events[3] == "[DONE]"


def test_sse_progress(http: httpx.Client) -> None:
    events = data_events(sse_text(http, "progress"))
    assert [json.loads(e) for e in events[:3]] == [
        {"progress": 0.25},
        {"progress": 0.5},
        {"progress": 0.75},
    ]
    assert "data" in json.loads(events[3])


def test_sse_no_done(http: httpx.Client) -> None:
    events = data_events(sse_text(http, "no_done"))
    assert len(events) == 1 and "data" in json.loads(events[0])


def test_sse_error_string(http: httpx.Client) -> None:
    events = data_events(sse_text(http, "error_string"))
    assert json.loads(events[0]) == {"error": PROVIDER_FAILED}
    assert all("data" not in json.loads(e) for e in events if e != "[DONE]")


def test_sse_error_object_with_a_configurable_code(http: httpx.Client) -> None:
    default = json.loads(data_events(sse_text(http, "error_object"))[0])["error"]
    assert default["code"] == 429 and default["retry_after"] == 0 and default["message"]
    custom = json.loads(data_events(sse_text(http, "error_object", error_code=503))[0])["error"]
    assert custom["code"] == 503 and custom["message"] == PROVIDER_FAILED


def test_sse_cut_mid_event(http: httpx.Client) -> None:
    received = b""
    header = Fault.sse("cut_mid_event").to_header()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream(
            "POST",
            "/images/generations",
            json={"model": "flux-2-dev", "prompt": "x", "sse": True},
            headers={FAULT_HEADER: header},
        ) as response,
    ):
        for chunk in response.iter_bytes():
            received += chunk
    assert received.startswith(b"data: {")
    assert b"[DONE]" not in received
    assert not received.endswith(b"\n\n")


def test_sse_keepalive_only(http: httpx.Client) -> None:
    events = data_events(sse_text(http, "keepalive_only"))
    assert events == [": keepalive", ": keepalive"]


def test_sse_variants_combine(http: httpx.Client) -> None:
    text = sse_text(http, "crlf", "event_lines", "keepalive", "progress")
    assert text.count("\n") == text.count("\r\n")
    assert text.count("event: message") == 7
    events = data_events(text)
    assert events[:2] == [": keepalive", ": keepalive"]
    assert json.loads(events[2]) == {"progress": 0.25}
    assert "data" in json.loads(events[5])
    assert events[6] == "[DONE]"


def test_an_sse_fault_streams_even_unasked(http: httpx.Client) -> None:
    response = generate(http, fault="sse:crlf,progress")
    assert response.headers["content-type"] == "text/event-stream"
    assert json.loads(data_events(response.text)[0]) == {"progress": 0.25}


# --- error faults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (429, "rate_limit_exceeded", openai.RateLimitError),
        (402, "insufficient_balance", openai.APIStatusError),
        (403, "free_tier_gated", openai.PermissionDeniedError),
        (404, "model_not_found", openai.NotFoundError),
        (502, "bad_gateway", openai.InternalServerError),
        (503, "provider_unavailable", openai.InternalServerError),
    ],
)
def test_status_faults_reach_the_sdk(
    emu: Emulator, sdk: openai.OpenAI, status: int, code: str, error: type[openai.APIStatusError]
) -> None:
    emu.inject(Fault.status(status))
    with pytest.raises(error) as caught:
        sdk.images.generate(model="flux-2-dev", prompt="x")
    assert caught.value.status_code == status
    assert caught.value.code == code
    assert sdk.images.generate(model="flux-2-dev", prompt="x").data  # used up


def test_status_503_default_message(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(503))
    assert error_of(generate(http))["message"] == PROVIDER_FAILED


def test_retry_after_in_body_and_header(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(429, retry_after=1.5, retry_after_header=2))
    response = generate(http)
    assert response.status_code == 429
    assert response.json()["retry_after"] == 1.5
    assert response.headers["retry-after"] == "2"
    emu.inject(Fault.status(429))
    plain = generate(http)
    assert "retry-after" not in plain.headers and "retry_after" not in plain.json()


def test_string_error_shape(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(503, shape="string", retry_after=0))
    response = generate(http)
    assert response.status_code == 503
    assert response.json() == {
        "error": PROVIDER_FAILED,
        "message": PROVIDER_FAILED,
        "retry_after": 0,
    }


def test_custom_error_code_and_message(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(429, error_code="account_temporarily_locked", message="Locked"))
    error = error_of(generate(http))
    assert (error["code"], error["message"]) == ("account_temporarily_locked", "Locked")


def test_error_in_200(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.error_in_200())
    response = generate(http)
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["error"]["code"] == 503 and body["error"]["message"] == PROVIDER_FAILED
    emu.inject(Fault.error_in_200(429, shape="string", retry_after=2))
    body = generate(http).json()
    assert set(body) == {"error", "message", "retry_after"} and isinstance(body["error"], str)


# --- file and connection faults -------------------------------------------------------------


def test_null_url(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.null_url(), times=2)
    assert generate(http, n=2).json()["data"] == [{"url": None, "b64_json": None}] * 2
    assert generate(http, response_format="b64_json").json()["data"][0]["b64_json"] is None


def test_file_404(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.file_404())
    url = generate(http).json()["data"][0]["url"]
    assert url.endswith("/image.jpeg")
    assert httpx.get(url, timeout=10).status_code == 404


def test_file_hang(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.file_hang(30))
    url = generate(http).json()["data"][0]["url"]
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.2)


def test_drop_connection(emu: Emulator, sdk: openai.OpenAI) -> None:
    emu.inject(Fault.drop_connection())
    with pytest.raises(openai.APIConnectionError):
        sdk.images.generate(model="flux-2-dev", prompt="dropped")
    (request,) = emu.generation_requests()
    assert request.json["prompt"] == "dropped"  # the whole body was read first


def test_drop_connection_raw(http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        generate(http, fault="drop_connection")


def test_hang(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.hang(30))
    with pytest.raises(httpx.ReadTimeout):
        generate(http, timeout=0.2)
    assert len(emu.generation_requests()) == 1


def test_delay_then_a_normal_answer(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.delay(30))
    with pytest.raises(httpx.ReadTimeout):
        generate(http, timeout=0.2)
    emu.inject(Fault.delay(0.01))
    assert generate(http).status_code == 200


def test_latency_delays_generation_only() -> None:
    with Emulator(latency=30) as emulator:
        assert httpx.get(f"{emulator.base_url}/models", timeout=5).status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{emulator.base_url}/images/generations",
                json={"model": "flux-2-dev", "prompt": "x"},
                headers={"Authorization": f"Bearer {emulator.api_key}"},
                timeout=0.2,
            )


# --- how faults are applied -----------------------------------------------------------------


def test_inject_for_one_model(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(429), model="flux-2-dev")
    assert generate(http, model="nano-banana-pro").status_code == 200
    assert generate(http, model="flux-2-dev").status_code == 429
    assert generate(http, model="flux-2-dev").status_code == 200


def test_inject_times(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(502), times=2)
    assert [generate(http).status_code for _ in range(3)] == [502, 502, 200]
    emu.inject(Fault.status(502), times=None)
    assert [generate(http).status_code for _ in range(3)] == [502, 502, 502]
    emu.clear_faults()
    assert generate(http).status_code == 200
    assert len(emu.generation_requests()) == 7  # faulted requests are recorded too


def test_faults_only_hit_generations(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(500))
    assert http.get("/models").status_code == 200
    assert generate(http).status_code == 500


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("status:429", 429),
        ('{"kind": "status", "http_status": 402}', 402),
        ('[{"kind": "delay", "seconds": 0.01}, {"kind": "status", "http_status": 403}]', 403),
        ("delay:0.01; status:503", 503),
        ("error_in_200", 200),
        ("null_url", 200),
    ],
)
def test_fault_header(http: httpx.Client, header: str, status: int) -> None:
    assert generate(http, fault=header).status_code == status
    assert generate(http).json()["data"][0]["url"]  # only that request


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("bogus", "unknown fault 'bogus'"),
        ("status:abc", "status:abc"),
        ("delay", "delay"),
        ("null_url:1", "no arguments"),
        ("sse:sparkles", "sparkles"),
        ('{"kind": "status"', "not valid JSON"),
        ('{"kind": "status", "http_status": 429, "colour": 1}', "colour"),
    ],
)
def test_a_bad_fault_header_is_400(http: httpx.Client, header: str, fragment: str) -> None:
    response = generate(http, fault=header)
    assert response.status_code == 400
    error = error_of(response)
    assert error["param"] == FAULT_HEADER
    assert fragment in error["message"]


FAULTS = [
    Fault.delay(0.5),
    Fault.status(429, shape="string", error_code="x", message="m", retry_after=1),
    Fault.status(429, retry_after_header="Wed, 21 Oct 2026 07:28:00 GMT"),
    Fault.error_in_200(503),
    Fault.sse("crlf", "progress", error_code=503),
    Fault.null_url(),
    Fault.file_404(),
    Fault.file_hang(1),
    Fault.drop_connection(),
    Fault.hang(2),
    Fault.provider_failure("a", "b"),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.kind for f in FAULTS])
def test_faults_round_trip_through_the_header(fault: Fault) -> None:
    assert Fault.parse_header(fault.to_header()) == (fault,)
    assert Fault.from_dict(json.loads(json.dumps(fault.to_dict()))) == fault


def test_bad_faults_name_the_culprit(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="sparkles"):
        Fault.sse("sparkles")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="error_string and error_object"):
        Fault.sse("error_string", "error_object")
    with pytest.raises(ValueError, match="seconds"):
        Fault.delay(-1)
    with pytest.raises(ValueError, match="http_status"):
        Fault.status(42)
    with pytest.raises(ValueError, match="shape"):
        Fault.status(429, shape="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        emu.inject(Fault.null_url(), times=0)
    with pytest.raises(TypeError, match="Fault"):
        emu.inject("null_url")  # type: ignore[arg-type]


# --- the request log ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("sk-air-live-7f3a9c2e", "Bearer sk-air-...REDACTED"),
        ("team-key/7f3a+9c2e", "Bearer ...REDACTED"),
    ],
)
def test_the_request_log_repr_masks_credentials_but_keeps_them_for_tests(
    key: str, shown: str
) -> None:
    with (
        Emulator(api_key=key) as emulator,
        openai.OpenAI(base_url=emulator.base_url, api_key=key, max_retries=0, timeout=10) as client,
    ):
        client.images.generate(
            model="flux-2-dev", prompt="x", extra_headers={"X-Api-Key": key, "X-Custom": "Yes"}
        )
        log = emulator.requests
    (sent,) = log
    assert sent.header("Authorization") == f"Bearer {key}"  # tests can still check it
    assert sent.headers["x-api-key"] == key
    for text in (repr(log), repr(sent), str(sent), f"{log}"):
        assert key not in text
        assert key[8:] not in text  # not even its tail
    assert f"'authorization': '{shown}'" in repr(sent)
    assert f"'x-api-key': '{shown.removeprefix('Bearer ')}'" in repr(sent)
    assert "'x-custom': 'Yes'" in repr(sent)  # the other headers are shown as sent
    assert repr(sent).startswith("RecordedRequest(method='POST', path='/v1/images/generations'")


def test_requests_are_recorded_as_they_arrived(emu: Emulator, http: httpx.Client) -> None:
    http.get("/models")
    http.post(
        "/images/generations?trace=1",
        json={"model": "flux-2-dev", "prompt": "x", "seed": 3},
        headers={"X-Custom": "Yes"},
    )
    http.post("/images/generations", content=b"not json")
    models, generation, broken = emu.requests
    assert isinstance(generation, RecordedRequest)
    assert (models.method, models.path, models.json, models.body) == (
        "GET",
        "/v1/models",
        None,
        b"",
    )
    assert (generation.method, generation.path) == ("POST", "/v1/images/generations")
    assert generation.query == "trace=1"
    assert generation.headers["x-custom"] == "Yes"
    assert generation.header("X-CUSTOM") == "Yes"
    assert generation.headers["authorization"] == f"Bearer {emu.api_key}"
    assert all(name == name.lower() for name in generation.headers)
    assert (
        json.loads(generation.body)
        == generation.json
        == {
            "model": "flux-2-dev",
            "prompt": "x",
            "seed": 3,
        }
    )
    assert (broken.body, broken.json) == (b"not json", None)
    assert emu.generation_requests() == [generation, broken]
    emu.clear()
    assert emu.requests == []


# --- lifecycle ------------------------------------------------------------------------------


def test_start_and_stop_are_idempotent() -> None:
    emulator = Emulator()
    assert not emulator.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.base_url
    emulator.start()
    url = emulator.base_url
    assert emulator.start() is emulator and emulator.base_url == url
    assert httpx.get(f"{url}/models", timeout=5).status_code == 200
    emulator.stop()
    emulator.stop()
    assert not emulator.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/models", timeout=5)
    with emulator:  # it can start again
        assert httpx.get(f"{emulator.base_url}/models", timeout=5).status_code == 200


def test_bad_settings_name_the_culprit() -> None:
    with pytest.raises(ValueError, match="latency"):
        Emulator(latency=-1)
    with pytest.raises(ValueError, match="port"):
        Emulator(port=70000)
    with pytest.raises(ValueError, match="api_key"):
        Emulator(api_key="")


def test_stop_ends_requests_in_flight() -> None:
    threads_before = set(threading.enumerate())
    emulator = Emulator().start()
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    outcomes: queue.Queue[BaseException | int] = queue.Queue()

    def call(fault: str) -> None:
        try:
            response = httpx.post(
                f"{emulator.base_url}/images/generations",
                json={"model": "flux-2-dev", "prompt": "x"},
                headers={**headers, FAULT_HEADER: fault},
                timeout=60,
            )
            outcomes.put(response.status_code)
        except BaseException as exc:
            outcomes.put(exc)

    # An idle keep-alive connection, too: its handler thread waits for a next request.
    idle = httpx.Client(timeout=60)
    assert idle.get(f"{emulator.base_url}/models").status_code == 200
    callers = [threading.Thread(target=call, args=(f,)) for f in ("hang:60", "delay:60")]
    for caller in callers:
        caller.start()
    for _ in range(500):
        if len(emulator.generation_requests()) == 2:
            break
        threading.Event().wait(0.01)
    assert len(emulator.generation_requests()) == 2
    stopper = threading.Thread(target=emulator.stop)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive(), "stop() did not return"
    for caller in callers:
        caller.join(10)
        assert not caller.is_alive(), "a request in flight was not ended"
    for _ in callers:
        assert isinstance(outcomes.get_nowait(), httpx.TransportError)
    idle.close()
    # stop() waited for every handler: none is left sleeping out its fault.
    assert [t for t in threading.enumerate() if t not in threads_before] == []


# --- running standalone ---------------------------------------------------------------------


def test_serve_forever_prints_how_to_connect() -> None:
    out = io.StringIO()
    stop = threading.Event()
    emulator = Emulator()
    runner = threading.Thread(
        target=serve_forever, args=(emulator,), kwargs={"out": out, "stop": stop}
    )
    runner.start()
    for _ in range(500):
        if "AIRFORCE_API_KEY" in out.getvalue():
            break
        threading.Event().wait(0.01)
    text = out.getvalue()
    assert f"export AIRFORCE_BASE_URL={emulator.base_url}" in text
    assert "export AIRFORCE_API_KEY=sk-air-emulator-0000" in text
    stop.set()
    runner.join(10)
    assert not runner.is_alive() and not emulator.running


def test_main_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--latency", "-1"])
    assert caught.value.code == 2
    assert "latency" in capsys.readouterr().err


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_python_dash_m_serves_until_stopped(stop_signal: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "airforce_openai.testing",
        "--port",
        "0",
        "--api-key",
        "sk-air-x",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def read_lines() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    try:
        base_url = None
        for _ in range(10):
            line = lines.get(timeout=30)
            if line.startswith("export AIRFORCE_BASE_URL="):
                base_url = line.split("=", 1)[1].strip()
                break
        assert base_url is not None and base_url.startswith("http://127.0.0.1:")
        models = httpx.get(f"{base_url}/models", timeout=10)
        assert models.status_code == 200 and models.json()["object"] == "list"
        denied = httpx.post(f"{base_url}/images/generations", json={}, timeout=10)
        assert denied.status_code == 401
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_emulator_needs_neither_http_package() -> None:
    # It must serve every openai line, whichever of httpx / httpx2 that line sends through.
    script = (
        "import sys, json, urllib.request\n"
        "sys.modules['httpx'] = sys.modules['httpx2'] = None\n"
        "from airforce_openai.testing import Emulator\n"
        "with Emulator() as emu:\n"
        "    with urllib.request.urlopen(emu.base_url + '/models', timeout=10) as answer:\n"
        "        print(len(json.load(answer)['data']))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout) > 0
