"""Faults (``testing/_faults.py``): how each one misbehaves, and how they are written down."""

from __future__ import annotations

import json

import openai
import pytest
from _gateway import PROVIDER_FAILED, error_of, generate

from airforce_openai.testing import Emulator, Fault, httpx
from airforce_openai.testing._faults import FAULT_HEADER

pytest_plugins = ["_gateway_plugin"]  # the module's emulator and its clients


# --- error faults -----------------------------------------------------------------------------


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


# --- file and connection faults ---------------------------------------------------------------


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


# --- the header, and the faults as data -------------------------------------------------------


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
