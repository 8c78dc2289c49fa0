"""What the emulator answers with (``testing/_answers.py``): files and event streams."""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
import pytest
from _gateway import PROVIDER_FAILED, data_events, generate, jpeg_size, png_size

from airforce_openai.testing import Fault, httpx
from airforce_openai.testing._faults import FAULT_HEADER

pytest_plugins = ["_gateway_plugin"]  # the module's emulator and its clients


# --- files ------------------------------------------------------------------------------------


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


# --- event streams ----------------------------------------------------------------------------


def test_the_stock_sdk_returns_sse_as_text(sdk: openai.OpenAI) -> None:
    # What the live gateway does to an unadapted client: the event stream comes back as a str.
    result: Any = sdk.images.generate(model="flux-2-dev", prompt="x", extra_body={"sse": True})
    assert isinstance(result, str)
    assert result.startswith("data: {")


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
