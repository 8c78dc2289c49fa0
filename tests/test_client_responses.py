"""Answers as the gateway sends them: SSE, failures inside 200s, retries that never double-bill."""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import openai
import pytest
from _loopback import QuietHandler, serve
from openai._models import FinalRequestOptions

import airforce_openai as af
from airforce_openai._formats import sniff
from airforce_openai.testing import Emulator, Fault, httpx

SSE_VARIANTS: list[tuple[str, ...]] = [
    (),
    ("crlf",),
    ("event_lines",),
    ("comments",),
    ("keepalive",),
    ("progress",),
    ("no_done",),
    ("crlf", "event_lines", "comments", "keepalive", "progress"),
    ("crlf", "no_done"),
]


def _client(emulator: Emulator, **kwargs: Any) -> af.OpenAI:
    kwargs.setdefault("max_retries", 0)
    return af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, **kwargs)


def _aclient(emulator: Emulator, **kwargs: Any) -> af.AsyncOpenAI:
    kwargs.setdefault("max_retries", 0)
    return af.AsyncOpenAI(api_key=emulator.api_key, base_url=emulator.base_url, **kwargs)


def _decodes(response: openai.types.ImagesResponse, tmp_path: Path) -> None:
    assert isinstance(response, openai.types.ImagesResponse)
    paths = af.save_images(response, tmp_path)
    assert paths and all(sniff(p.read_bytes()) is not None for p in paths)


# --- SSE answers -------------------------------------------------------------------


@pytest.mark.parametrize("variant", SSE_VARIANTS, ids=lambda v: "+".join(v) or "documented")
def test_sse_answer_is_a_normal_images_response(
    emulator: Emulator, tmp_path: Path, variant: tuple[str, ...]
) -> None:
    if variant:
        emulator.inject(Fault.sse(*variant))
    client = _client(emulator)
    response = client.images.generate(
        model="flux-2-dev",
        prompt="an otter",
        response_format="b64_json",
        extra_body=af.image_params(sse=True),
    )
    _decodes(response, tmp_path)
    assert emulator.generation_requests()[0].json["sse"] is True  # type: ignore[index]


@pytest.mark.parametrize("variant", SSE_VARIANTS, ids=lambda v: "+".join(v) or "documented")
async def test_sse_answer_is_a_normal_images_response_async(
    emulator: Emulator, tmp_path: Path, variant: tuple[str, ...]
) -> None:
    if variant:
        emulator.inject(Fault.sse(*variant))
    async with _aclient(emulator) as client:
        response = await client.images.generate(
            model="flux-2-dev", prompt="an otter", extra_body=af.image_params(sse=True)
        )
    assert response.data and response.data[0].url


def test_sse_through_raw_and_streaming_responses(emulator: Emulator, tmp_path: Path) -> None:
    client = _client(emulator)
    sse = af.image_params(sse=True)
    raw = client.images.with_raw_response.generate(
        model="flux-2-dev", prompt="x", response_format="b64_json", extra_body=sse
    )
    _decodes(raw.parse(), tmp_path / "raw")
    with client.images.with_streaming_response.generate(
        model="flux-2-dev", prompt="x", response_format="b64_json", extra_body=sse
    ) as streamed:
        _decodes(streamed.parse(), tmp_path / "streamed")


async def test_sse_through_raw_and_streaming_responses_async(emulator: Emulator) -> None:
    async with _aclient(emulator) as client:
        sse = af.image_params(sse=True)
        raw = await client.images.with_raw_response.generate(
            model="flux-2-dev", prompt="x", extra_body=sse
        )
        assert isinstance(raw.parse(), openai.types.ImagesResponse)
        async with client.images.with_streaming_response.generate(
            model="flux-2-dev", prompt="x", extra_body=sse
        ) as streamed:
            assert isinstance(await streamed.parse(), openai.types.ImagesResponse)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.sse("error_string"), openai.InternalServerError),
        (Fault.sse("crlf", "keepalive", "error_string"), openai.InternalServerError),
        (Fault.sse("error_object", error_code=429), openai.RateLimitError),
        (Fault.sse("error_object", error_code=400), openai.BadRequestError),
    ],
)
def test_sse_error_event_raises_the_stock_status_error(
    emulator: Emulator, fault: Fault, error: type[openai.APIStatusError]
) -> None:
    emulator.inject(fault)
    with pytest.raises(error) as info:
        _client(emulator).images.generate(
            model="flux-2-dev", prompt="x", extra_body=af.image_params(sse=True)
        )
    assert info.value.message  # the gateway's text is in the error


async def test_sse_error_event_async(emulator: Emulator) -> None:
    emulator.inject(Fault.sse("error_string"))
    async with _aclient(emulator) as client:
        with pytest.raises(openai.InternalServerError, match="503"):
            await client.images.generate(
                model="flux-2-dev", prompt="x", extra_body=af.image_params(sse=True)
            )


@pytest.mark.parametrize("variant", ["cut_mid_event", "keepalive_only"])
def test_sse_stream_without_result_is_an_unknown_outcome(emulator: Emulator, variant: str) -> None:
    emulator.inject(Fault.sse(variant), times=None)
    client = _client(emulator, max_retries=3)
    with pytest.raises(af.OutcomeUnknownError, match="billed") as info:
        client.images.generate(model="flux-2-dev", prompt="x", extra_body=af.image_params(sse=True))
    assert isinstance(info.value, openai.APIConnectionError)
    assert len(emulator.generation_requests()) == 1  # never re-sent


async def test_sse_stream_without_result_async(emulator: Emulator) -> None:
    emulator.inject(Fault.sse("cut_mid_event"), times=None)
    async with _aclient(emulator, max_retries=3) as client:
        with pytest.raises(af.OutcomeUnknownError, match="billed"):
            await client.images.generate(
                model="flux-2-dev", prompt="x", extra_body=af.image_params(sse=True)
            )
    assert len(emulator.generation_requests()) == 1


@pytest.mark.skipif(
    "stream" not in inspect.signature(openai.resources.Images.generate).parameters,
    reason="this openai SDK cannot stream image generations",
)
def test_sdk_stream_true_is_left_to_the_sdk(emulator: Emulator) -> None:
    emulator.inject(Fault.sse("progress"))
    client = _client(emulator)
    stream = client.images.generate(model="flux-2-dev", prompt="x", stream=True)
    assert isinstance(stream, openai.Stream)
    stream.close()


# --- Failures inside 200 JSON answers ----------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.error_in_200(503), openai.InternalServerError),
        (Fault.error_in_200(503, shape="string"), openai.InternalServerError),
        (Fault.error_in_200(429), openai.RateLimitError),
        (
            Fault.error_in_200(400, shape="string", message="provider returned status 400"),
            openai.BadRequestError,
        ),
        # No code and no status anywhere: a bad gateway, by the documented fallback.
        (
            Fault.error_in_200(400, shape="string", message="Bad request"),
            openai.InternalServerError,
        ),
        (Fault.error_in_200(402), openai.APIStatusError),
    ],
)
def test_error_inside_200_raises_the_stock_status_error(
    emulator: Emulator, fault: Fault, error: type[openai.APIStatusError]
) -> None:
    emulator.inject(fault)
    with pytest.raises(error) as info:
        _client(emulator).images.generate(model="flux-2-dev", prompt="x")
    assert info.value.status_code != 200


async def test_error_inside_200_async(emulator: Emulator) -> None:
    emulator.inject(Fault.error_in_200(429))
    async with _aclient(emulator) as client:
        with pytest.raises(openai.RateLimitError):
            await client.images.generate(model="flux-2-dev", prompt="x")


def test_string_error_shape_keeps_its_message(emulator: Emulator) -> None:
    emulator.inject(Fault.status(402, shape="string"))
    with pytest.raises(openai.APIStatusError) as info:
        _client(emulator).images.generate(model="flux-2-dev", prompt="x")
    assert info.value.status_code == 402
    assert "balance" in info.value.message.lower()


# --- Retries that never double-bill ------------------------------------------------


def test_503_is_retried_max_retries_times(emulator: Emulator) -> None:
    emulator.inject(Fault.status(503, retry_after=0), times=None)
    with pytest.raises(openai.InternalServerError):
        _client(emulator, max_retries=2).images.generate(model="flux-2-dev", prompt="x")
    assert len(emulator.generation_requests()) == 1 + 2


def test_503_inside_200_is_retried_too(emulator: Emulator) -> None:
    emulator.inject(Fault.error_in_200(503), times=2)
    client = _client(emulator, max_retries=2)
    client.images.generate(model="flux-2-dev", prompt="x", extra_body={"retry_probe": 1})
    assert len(emulator.generation_requests()) == 3


def test_success_after_429s_with_retry_after_zero(emulator: Emulator) -> None:
    emulator.inject(Fault.status(429, retry_after=0), times=2)
    response = _client(emulator, max_retries=3).images.generate(model="flux-2-dev", prompt="x")
    assert response.data
    assert len(emulator.generation_requests()) == 3  # 2 refused (not billed) + 1 success


async def test_retries_async(emulator: Emulator) -> None:
    emulator.inject(Fault.status(429, retry_after=0, shape="string"), times=2)
    async with _aclient(emulator, max_retries=3) as client:
        response = await client.images.generate(model="flux-2-dev", prompt="x")
    assert response.data
    assert len(emulator.generation_requests()) == 3


def test_retry_after_in_the_body_is_honoured(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []
    monkeypatch.setattr("time.sleep", lambda seconds: delays.append(seconds))
    client = _client(emulator, max_retries=2)
    emulator.inject(Fault.status(429, retry_after=7), times=1)
    client.images.generate(model="flux-2-dev", prompt="x")
    emulator.inject(Fault.error_in_200(503, retry_after=3), times=1)
    client.images.generate(model="flux-2-dev", prompt="x")
    assert delays == [7.0, 3.0]


def test_dropped_connection_is_never_resent(emulator: Emulator) -> None:
    emulator.inject(Fault.drop_connection(), times=None)
    with pytest.raises(af.OutcomeUnknownError, match="billed") as info:
        _client(emulator, max_retries=3).images.generate(model="flux-2-dev", prompt="x")
    assert not isinstance(info.value, openai.APITimeoutError)
    assert len(emulator.generation_requests()) == 1


def test_read_timeout_is_never_resent(emulator: Emulator) -> None:
    emulator.inject(Fault.hang(5), times=None)
    client = _client(emulator, max_retries=3, timeout=0.5)
    with pytest.raises(af.OutcomeUnknownTimeoutError) as info:
        client.images.generate(model="flux-2-dev", prompt="x")
    assert isinstance(info.value, openai.APITimeoutError)
    assert len(emulator.generation_requests()) == 1


async def test_dropped_connection_and_timeout_async(emulator: Emulator) -> None:
    async with _aclient(emulator, max_retries=3, timeout=0.5) as client:
        emulator.inject(Fault.drop_connection(), times=1)
        with pytest.raises(af.OutcomeUnknownError):
            await client.images.generate(model="flux-2-dev", prompt="x")
        emulator.inject(Fault.hang(5), times=1)
        with pytest.raises(af.OutcomeUnknownTimeoutError):
            await client.images.generate(model="flux-2-dev", prompt="x")
    assert len(emulator.generation_requests()) == 2


def test_connect_failure_is_retried() -> None:
    attempts: list[str] = []

    def count(request: httpx.Request) -> None:
        attempts.append(request.url.path)

    http = httpx.Client(event_hooks={"request": [count]})
    # Port 9 on loopback: nothing listens, so the connection is refused.
    client = af.OpenAI(
        api_key="sk-air-x",
        base_url="http://127.0.0.1:9/v1",
        max_retries=2,
        validation="off",
        http_client=http,
    )
    with pytest.raises(openai.APIConnectionError) as info:
        client.images.generate(model="flux-2-dev", prompt="x")
    assert not isinstance(info.value, af.OutcomeUnknownError)
    assert attempts == ["/v1/images/generations"] * 3


def test_other_endpoints_keep_stock_retries() -> None:
    # A transport whose first answer on each path is a dropped connection.
    seen: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = seen.get(request.url.path, 0) + 1
        if seen[request.url.path] == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": []})
        return httpx.Response(200, json={"created": 1, "data": [{"url": "https://x/image.jpeg"}]})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        client = af.OpenAI(
            api_key="sk-air-x",
            base_url="http://127.0.0.1:9/v1",
            max_retries=2,
            http_client=http,
            validation="off",
        )
        assert client.models.list().data == []
        with pytest.raises(af.OutcomeUnknownError):
            client.images.generate(model="flux-2-dev", prompt="x")
    assert seen == {"/v1/models": 2, "/v1/images/generations": 1}


# Bodies that a server labels with a Content-Encoding they are not in.
_CORRUPT = {
    "gzip": b"\x1f\x8b\x08\x00 this is not a gzip stream",
    "deflate": b"\x78\x9c this is not a deflate stream",
}


class _CorruptGateway:
    """A loopback host that answers every POST with a 200 whose body cannot be decoded."""

    def __init__(self, encoding: str = "gzip", content_type: str = "application/json") -> None:
        posts: list[str] = []
        body = _CORRUPT[encoding]

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.read_body()
                posts.append(self.path)
                self.reply(body, content_type, headers={"Content-Encoding": encoding})

        self.posts = posts
        self.base_url = ""
        self._handler = Handler
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _CorruptGateway:
        self.base_url = f"{self._stack.enter_context(serve(self._handler))}/v1"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


CORRUPT_ANSWERS = pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("gzip", "application/json"),
        ("deflate", "application/json"),
        ("gzip", "text/event-stream"),
        ("deflate", "text/event-stream"),
    ],
    ids=["gzip", "deflate", "sse-gzip", "sse-deflate"],
)


@CORRUPT_ANSWERS
def test_an_undecodable_answer_is_an_unknown_outcome_sent_once(
    encoding: str, content_type: str
) -> None:
    sse = af.image_params(sse=True) if "event-stream" in content_type else None
    with _CorruptGateway(encoding, content_type) as gateway:
        client = af.OpenAI(
            api_key="sk-air-x", base_url=gateway.base_url, max_retries=2, validation="off"
        )
        with pytest.raises(af.OutcomeUnknownError, match="billed") as info:
            client.images.generate(model="flux-2-dev", prompt="x", extra_body=sse)
        assert "could not be read" in str(info.value)
        with pytest.raises(af.OutcomeUnknownError):
            client.images.with_raw_response.generate(model="flux-2-dev", prompt="x", extra_body=sse)
        with (
            pytest.raises(af.OutcomeUnknownError),
            client.images.with_streaming_response.generate(
                model="flux-2-dev", prompt="x", extra_body=sse
            ) as streamed,
        ):
            streamed.parse()
        client.close()
    assert gateway.posts == ["/v1/images/generations"] * 3


@CORRUPT_ANSWERS
async def test_an_undecodable_answer_is_an_unknown_outcome_sent_once_async(
    encoding: str, content_type: str
) -> None:
    sse = af.image_params(sse=True) if "event-stream" in content_type else None
    with _CorruptGateway(encoding, content_type) as gateway:
        async with af.AsyncOpenAI(
            api_key="sk-air-x", base_url=gateway.base_url, max_retries=2, validation="off"
        ) as client:
            with pytest.raises(af.OutcomeUnknownError, match="billed"):
                await client.images.generate(model="flux-2-dev", prompt="x", extra_body=sse)
            with pytest.raises(af.OutcomeUnknownError):
                await client.images.with_raw_response.generate(
                    model="flux-2-dev", prompt="x", extra_body=sse
                )
            with pytest.raises(af.OutcomeUnknownError):
                async with client.images.with_streaming_response.generate(
                    model="flux-2-dev", prompt="x", extra_body=sse
                ) as streamed:
                    await streamed.parse()
    assert gateway.posts == ["/v1/images/generations"] * 3


# --- What the gateway says in words ------------------------------------------------


def test_a_sentence_about_the_balance_is_a_402_sent_once(emulator: Emulator) -> None:
    emulator.inject(Fault.error_in_200(402, shape="string"), times=None)
    with _client(emulator, max_retries=2) as client, pytest.raises(openai.APIStatusError) as info:
        client.images.generate(model="flux-2-dev", prompt="x")
    assert info.value.status_code == 402
    assert "Insufficient balance" in info.value.message
    assert len(emulator.generation_requests()) == 1  # never retried


async def test_a_sentence_about_the_balance_is_a_402_sent_once_async(emulator: Emulator) -> None:
    emulator.inject(Fault.error_in_200(402, shape="string", message="insufficient credits"))
    async with _aclient(emulator, max_retries=2) as client:
        with pytest.raises(openai.APIStatusError) as info:
            await client.images.generate(model="flux-2-dev", prompt="x")
    assert info.value.status_code == 402
    assert len(emulator.generation_requests()) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, openai.RateLimitError),  # "Rate limit exceeded, please retry later"
        (403, openai.PermissionDeniedError),  # "... not available on the free tier"
        (404, openai.NotFoundError),  # "Model not found"
    ],
)
def test_string_shaped_errors_in_200_get_their_status(
    emulator: Emulator, status: int, error: type[openai.APIStatusError]
) -> None:
    emulator.inject(Fault.error_in_200(status, shape="string"))
    with _client(emulator) as client, pytest.raises(error):
        client.images.generate(model="flux-2-dev", prompt="x")


def test_a_string_rate_limit_is_retried_as_a_429(emulator: Emulator) -> None:
    emulator.inject(Fault.error_in_200(429, shape="string", retry_after=0), times=1)
    with _client(emulator, max_retries=1) as client:
        response = client.images.generate(model="flux-2-dev", prompt="x")
    assert response.data
    assert len(emulator.generation_requests()) == 2


# --- retry_after that is no usable delay ---------------------------------------


ABSURD_DELAYS = [1e306, 1e300, 86_401]  # negative, NaN and text: tests/test_hostile.py


@pytest.mark.parametrize("retry_after", ABSURD_DELAYS)
@pytest.mark.parametrize("where", ["status", "error_in_200"])
def test_an_absurd_retry_after_falls_back_to_the_sdks_backoff(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, retry_after: object, where: str
) -> None:
    delays: list[float] = []
    monkeypatch.setattr("time.sleep", lambda seconds: delays.append(seconds))
    body_fault = Fault.status if where == "status" else Fault.error_in_200
    emulator.inject(body_fault(429, retry_after=cast(Any, retry_after)), times=None)
    with _client(emulator, max_retries=1) as client, pytest.raises(openai.RateLimitError):
        client.images.generate(model="flux-2-dev", prompt="x")
    assert len(emulator.generation_requests()) == 2
    assert len(delays) == 1 and 0 <= delays[0] <= 8  # the SDK's own backoff


@pytest.mark.parametrize("retry_after", ABSURD_DELAYS)
async def test_an_absurd_retry_after_async(emulator: Emulator, retry_after: object) -> None:
    emulator.inject(Fault.status(429, retry_after=cast(Any, retry_after)), times=None)
    async with _aclient(emulator, max_retries=0) as client:
        with pytest.raises(openai.RateLimitError):
            await client.images.generate(model="flux-2-dev", prompt="x")
    assert len(emulator.generation_requests()) == 1


@pytest.mark.parametrize(
    "header",
    [
        ("retry-after", "nan"),
        ("retry-after", "inf"),
        ("retry-after", "-5"),
        ("retry-after", "1e306"),
        ("retry-after", "1e400"),
        ("retry-after-ms", "1e306"),
        ("retry-after-ms", "-inf"),
        ("retry-after", "Mon, 01 Jan 99999 00:00:00 GMT"),
        ("retry-after", "Mon, 01 Jan 9999999999999999999 00:00:00 GMT"),
        ("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ],
)
def test_the_retry_delay_is_always_a_bounded_number(header: tuple[str, str]) -> None:
    client = af.OpenAI(api_key="sk-air-x", base_url="http://127.0.0.1:9/v1", max_retries=2)
    options = FinalRequestOptions(method="post", url="/images/generations")
    for remaining in (2, 1):
        delay = client._calculate_retry_timeout(remaining, options, httpx.Headers([header]))
        assert 0 <= delay <= 60


def test_a_server_delay_within_the_cap_is_honoured_as_given() -> None:
    client = af.OpenAI(api_key="sk-air-x", base_url="http://127.0.0.1:9/v1")
    options = FinalRequestOptions(method="post", url="/images/generations")
    headers = httpx.Headers({"retry-after-ms": "0"})
    assert client._calculate_retry_timeout(2, options, headers) == 0.0
    assert client._calculate_retry_timeout(2, options, httpx.Headers({"retry-after": "42"})) == 42


# --- The caller's own key is never echoed back ---------------------------------------


def _echo(emulator: Emulator) -> str:
    return f"Invalid API key {emulator.api_key}"


@pytest.mark.parametrize(
    "fault",
    [
        lambda msg: Fault.status(401, message=msg),
        lambda msg: Fault.status(401, shape="string", message=msg),
        lambda msg: Fault.error_in_200(401, message=msg),
        lambda msg: Fault.error_in_200(401, shape="string", message=msg),
        lambda msg: Fault.sse("error_object", message=msg, error_code=401),
    ],
    ids=["401-object", "401-string", "200-object", "200-string", "sse-event"],
)
def test_an_echoed_key_is_redacted(emulator: Emulator, fault: Callable[[str], Fault]) -> None:
    emulator.inject(fault(_echo(emulator)))
    with _client(emulator) as client, pytest.raises(openai.AuthenticationError) as info:
        client.images.generate(model="flux-2-dev", prompt="x", extra_body=af.image_params(sse=True))
    error = info.value
    for text in (str(error), error.message, json.dumps(error.body), error.response.text):
        assert emulator.api_key not in text
        assert emulator.api_key[:12] not in text
    assert "sk-air-...REDACTED" in error.message


async def test_an_echoed_key_is_redacted_async(emulator: Emulator) -> None:
    emulator.inject(Fault.error_in_200(401, shape="string", message=_echo(emulator)))
    async with _aclient(emulator) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            await client.images.generate(model="flux-2-dev", prompt="x")
    assert emulator.api_key not in str(info.value)
    assert "sk-air-...REDACTED" in info.value.message
