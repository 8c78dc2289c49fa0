"""The emulator's HTTP side (``testing/_handler.py``): endpoints, keys, files, model fallback."""

from __future__ import annotations

import json
import socket

import openai
import pytest
from _gateway import PROVIDER_FAILED, REQUIRED_MODELS, error_of, generate, png_size

from airforce_openai.testing import Emulator, Fault, RecordedRequest, httpx

pytest_plugins = ["_gateway_plugin"]  # the module's emulator and its clients


# --- the catalog endpoints --------------------------------------------------------------------


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


# --- authentication ---------------------------------------------------------------------------


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


# --- generation -------------------------------------------------------------------------------


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


def test_response_headers_and_cost(http: httpx.Client) -> None:
    response = generate(http, model="flux-2-dev", n=3)
    assert response.headers["x-cost-cents"] == "1.5"  # 3 x 500 cents per 1,000 images
    assert response.headers["x-request-id"]
    assert response.headers["x-airforce-trace-id"]
    assert generate(http, model="suno-v5", n=2).headers["x-cost-cents"] == "20"


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


# --- the models fallback ----------------------------------------------------------------------


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


# --- the request log --------------------------------------------------------------------------


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
