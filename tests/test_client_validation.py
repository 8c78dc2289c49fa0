"""The validator hook: bad requests fail locally, on every call path, before anything is sent."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import openai
import pytest

import airforce_openai as af
from airforce_openai.testing import Emulator, httpx

FLUX_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
CATALOG: list[dict[str, Any]] = [
    {
        "id": "flux-2-dev",
        "object": "model",
        "output_modalities": ["image"],
        "image_caps": {
            "max_n": 4,
            "aspect_ratios": FLUX_RATIOS,
            "max_input_images": 4,
            "supports_url_input": True,
            "supports_seed": True,
        },
        "priceperthousandimages": 300,
    },
    {
        # Older shape: media_type instead of output_modalities.
        "id": "nano-banana-pro",
        "media_type": "image",
        "image_caps": {
            "max_n": 2,
            "aspect_ratios": ["1:1", "16:9", "9:16", "4:3"],
            "qualities": ["standard", "hd"],
            "max_input_images": 2,
            "supports_url_input": False,
            "supports_seed": False,
        },
    },
    {
        # Oldest shape: only supports_images.
        "id": "flux-2-klein-4b",
        "supports_images": True,
        "image_caps": {"max_n": 1, "max_input_images": 0},
    },
    {"id": "suno-v5", "media_type": "audio", "output_modalities": ["audio"], "image_caps": None},
    {"id": "gpt-4o-mini", "supports_chat": True, "output_modalities": ["text"]},
]

URL = "https://example.com/ref.png"
DATA = {"b64_json": "iVBORw0KGgo="}


# (id, kwargs for images.generate, message fragment, rejected params)
BAD: list[tuple[str, dict[str, Any], str, set[str]]] = [
    ("unknown-model", {"model": "flux-2-dv"}, "did you mean flux-2-dev", {"model"}),
    ("unknown-model-case", {"model": "FLUX-2-DEV"}, "flux-2-dev", {"model"}),
    ("chat-model", {"model": "gpt-4o-mini"}, "is a chat model", {"model"}),
    ("empty-model", {"model": ""}, "model", {"model"}),
    ("empty-prompt", {"prompt": ""}, "prompt", {"prompt"}),
    ("blank-prompt", {"prompt": "   "}, "prompt", {"prompt"}),
    ("n-above-max", {"n": 5}, "n 5", {"n"}),
    ("n-zero", {"n": 0}, "n 0", {"n"}),
    ("n-above-max-klein", {"model": "flux-2-klein-4b", "n": 2}, "flux-2-klein-4b", {"n"}),
    ("n-wrong-type", {"extra_body": {"n": "2"}}, "n", {"n"}),
    (
        "aspect-ratio",
        {"extra_body": {"aspect_ratio": "5:4"}},
        "flux-2-dev: aspect_ratio '5:4' is not one of 1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21",
        {"aspect_ratio"},
    ),
    (
        "aspect-ratio-legacy-key",
        {"extra_body": {"aspectRatio": "5:4"}},
        "aspectRatio",
        {"aspectRatio"},
    ),
    (
        "aspect-ratio-nano",
        {"model": "nano-banana-pro", "extra_body": {"aspect_ratio": "21:9"}},
        "nano-banana-pro: aspect_ratio '21:9'",
        {"aspect_ratio"},
    ),
    ("aspect-ratio-type", {"extra_body": {"aspect_ratio": 16}}, "aspect_ratio", {"aspect_ratio"}),
    ("quality", {"model": "nano-banana-pro", "quality": "ultra"}, "quality 'ultra'", {"quality"}),
    (
        "too-many-inputs",
        {"extra_body": {"input_images": [DATA] * 5}},
        "input",
        {"input_images"},
    ),
    (
        "inputs-for-text-only-model",
        {"model": "flux-2-klein-4b", "extra_body": {"input_images": [DATA]}},
        "flux-2-klein-4b",
        {"input_images"},
    ),
    (
        "image-urls-for-text-only-model",
        {"model": "flux-2-klein-4b", "extra_body": {"image_urls": [URL]}},
        "flux-2-klein-4b",
        {"image_urls"},
    ),
    (
        "inputs-plus-urls-count",
        {
            "model": "nano-banana-pro",
            "extra_body": {
                "input_images": [DATA, DATA],
                "image_urls": ["data:image/png;base64,iVBORw0KGgo="],
            },
        },
        "nano-banana-pro",
        {"input_images"},
    ),
    (
        "url-input-refused",
        {"model": "nano-banana-pro", "extra_body": {"input_images": [{"url": URL}]}},
        "InputImage.from_path",
        {"input_images"},
    ),
    (
        "image-urls-url-refused",
        {"model": "nano-banana-pro", "extra_body": {"image_urls": [URL]}},
        "InputImage",
        {"image_urls"},
    ),
    (
        "fallback-too-long",
        {"extra_body": {"models": ["flux-2-dev", "nano-banana-pro", "flux-2-klein-4b", "suno-v5"]}},
        "3",
        {"models"},
    ),
    ("fallback-not-a-list", {"extra_body": {"models": "flux-2-dev"}}, "models", {"models"}),
    (
        "fallback-unknown",
        {"extra_body": {"models": ["flux-2-dev", "nano-banana-prp"]}},
        "nano-banana-pro",
        {"models"},
    ),
    ("fallback-chat", {"extra_body": {"models": ["gpt-4o-mini"]}}, "chat model", {"models"}),
    (
        "fallback-does-not-fit",
        {"n": 3, "extra_body": {"models": ["flux-2-dev", "nano-banana-pro"]}},
        "nano-banana-pro",
        {"n"},
    ),
    (
        "all-violations-at-once",
        {
            "n": 9,
            "quality": "ultra",
            "model": "nano-banana-pro",
            "extra_body": {"aspect_ratio": "5:4"},
        },
        "3 problems",
        {"n", "quality", "aspect_ratio"},
    ),
    ("model-not-a-string", {"extra_body": {"model": 123}}, "model", {"model"}),
    ("prompt-not-a-string", {"extra_body": {"prompt": ["a", "b"]}}, "prompt", {"prompt"}),
    ("n-bool", {"extra_body": {"n": True}}, "n", {"n"}),
    ("extra-body-wins", {"n": 1, "extra_body": {"n": 7}}, "n 7", {"n"}),
]


def _kwargs(case: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": "flux-2-dev", "prompt": "an otter"}
    kwargs.update(case)
    return kwargs


def _post_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in kwargs.items() if k != "extra_body"}
    body.update(kwargs.get("extra_body", {}))
    return body


SyncPath = Callable[[af.OpenAI, dict[str, Any]], Any]
AsyncPath = Callable[[af.AsyncOpenAI, dict[str, Any]], Awaitable[Any]]


def _streaming(client: af.OpenAI, kwargs: dict[str, Any]) -> Any:
    with client.images.with_streaming_response.generate(**kwargs) as response:
        return response.parse()


SYNC_PATHS: dict[str, SyncPath] = {
    "generate": lambda c, kw: c.images.generate(**kw),
    "with_raw_response": lambda c, kw: c.images.with_raw_response.generate(**kw),
    "client_with_raw_response": lambda c, kw: c.with_raw_response.images.generate(**kw),
    "with_streaming_response": _streaming,
    "client.post": lambda c, kw: c.post(
        "/images/generations", body=_post_body(kw), cast_to=openai.types.ImagesResponse
    ),
    "with_options": lambda c, kw: c.with_options(timeout=30, max_retries=3).images.generate(**kw),
    "copy": lambda c, kw: c.copy().images.generate(**kw),
    "with_options_http_client": lambda c, kw: _with_own_http_client(c, kw),
}


def _with_own_http_client(client: af.OpenAI, kwargs: dict[str, Any]) -> Any:
    with httpx.Client() as http:
        return client.with_options(http_client=http).images.generate(**kwargs)


async def _astreaming(client: af.AsyncOpenAI, kwargs: dict[str, Any]) -> Any:
    async with client.images.with_streaming_response.generate(**kwargs) as response:
        return await response.parse()


ASYNC_PATHS: dict[str, AsyncPath] = {
    "generate": lambda c, kw: c.images.generate(**kw),
    "with_raw_response": lambda c, kw: c.images.with_raw_response.generate(**kw),
    "with_streaming_response": _astreaming,
    "client.post": lambda c, kw: c.post(
        "/images/generations", body=_post_body(kw), cast_to=openai.types.ImagesResponse
    ),
    "with_options": lambda c, kw: c.with_options(max_retries=3).images.generate(**kw),
    "copy_http_client": lambda c, kw: _acopy_with_own_http_client(c, kw),
}


async def _acopy_with_own_http_client(client: af.AsyncOpenAI, kwargs: dict[str, Any]) -> Any:
    async with httpx.AsyncClient() as http:
        return await client.copy(http_client=http).images.generate(**kwargs)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Emulator]:
    with Emulator(catalog=CATALOG) as emu:
        yield emu


@pytest.fixture
def sync_client(gateway: Emulator) -> Iterator[af.OpenAI]:
    with af.OpenAI(api_key=gateway.api_key, base_url=gateway.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def async_client(gateway: Emulator) -> Any:
    async with af.AsyncOpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, max_retries=0
    ) as c:
        yield c


def _check(err: af.CapabilityError, fragment: str, params: set[str]) -> None:
    assert fragment in str(err)
    assert {v.param for v in err.violations} == params
    assert isinstance(err, openai.OpenAIError) and isinstance(err, ValueError)
    for violation in err.violations:
        assert violation.message in str(err)


def _paths_in_turn(paths: dict[str, Any]) -> list[Any]:
    """Each bad request on one call path, the paths taken in turn.

    Every bad request is proven on a path and every path stops several kinds of bad
    request, without the full product (which builds a client per pair).
    """
    names = list(paths)
    assert len(BAD) >= 2 * len(names)
    return [
        pytest.param(names[i % len(names)], *case[1:], id=f"{case[0]}-{names[i % len(names)]}")
        for i, case in enumerate(BAD)
    ]


@pytest.mark.parametrize(("path", "case", "fragment", "params"), _paths_in_turn(SYNC_PATHS))
def test_bad_request_fails_locally(
    gateway: Emulator,
    sync_client: af.OpenAI,
    path: str,
    case: dict[str, Any],
    fragment: str,
    params: set[str],
) -> None:
    before = len(gateway.generation_requests())
    with pytest.raises(af.CapabilityError) as info:
        SYNC_PATHS[path](sync_client, _kwargs(case))
    _check(info.value, fragment, params)
    assert len(gateway.generation_requests()) == before == 0


@pytest.mark.parametrize(("path", "case", "fragment", "params"), _paths_in_turn(ASYNC_PATHS))
async def test_bad_request_fails_locally_async(
    gateway: Emulator,
    async_client: af.AsyncOpenAI,
    path: str,
    case: dict[str, Any],
    fragment: str,
    params: set[str],
) -> None:
    with pytest.raises(af.CapabilityError) as info:
        await ASYNC_PATHS[path](async_client, _kwargs(case))
    _check(info.value, fragment, params)
    assert gateway.generation_requests() == []


def test_strict_error_is_not_retried_or_wrapped(gateway: Emulator) -> None:
    client = af.OpenAI(api_key=gateway.api_key, base_url=gateway.base_url, max_retries=5)
    with pytest.raises(af.CapabilityError):
        client.images.generate(model="flux-2-dev", prompt="x", n=99)
    assert gateway.generation_requests() == []


GOOD: list[dict[str, Any]] = [
    {
        "model": "flux-2-dev",
        "prompt": "an otter",
        "n": 2,
        "size": "1024x768",
        "extra_body": af.image_params(aspect_ratio="16:9", seed=7, input_images=[{"url": URL}]),
    },
    {
        "model": "nano-banana-pro",
        "prompt": "a fox",
        "quality": "hd",
        "extra_body": {
            "input_images": [DATA],
            "resolution": "2048",
            "vendor_knob": {"deep": [1, 2]},
        },
    },
    # Unstated caps are not enforced: flux states no qualities; suno states no caps at all.
    {"model": "flux-2-dev", "prompt": "x", "quality": "whatever-the-provider-takes"},
    {
        "model": "suno-v5",
        "prompt": "a song",
        "extra_body": af.suno_params(custom=True, instrumental=False, style="EDM"),
    },
    {
        "model": "flux-2-dev",
        "prompt": "x",
        "extra_body": {"models": ["flux-2-dev", "nano-banana-pro"]},
    },
]


@pytest.mark.parametrize("case", GOOD)
def test_good_requests_reach_the_gateway_unchanged(
    gateway: Emulator, sync_client: af.OpenAI, case: dict[str, Any]
) -> None:
    gateway.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sync_client.images.generate(**case)
    (sent,) = gateway.generation_requests()
    assert sent.json == _post_body(case)


async def test_good_request_async(gateway: Emulator, async_client: af.AsyncOpenAI) -> None:
    gateway.clear()
    response = await async_client.images.generate(**GOOD[0])
    assert len(response.data or []) == 2
    (sent,) = gateway.generation_requests()
    assert sent.json == _post_body(GOOD[0])


def test_seed_on_a_model_that_ignores_it_only_warns(
    gateway: Emulator, sync_client: af.OpenAI
) -> None:
    gateway.clear()
    with pytest.warns(af.CapabilityWarning, match="seed"):
        sync_client.images.generate(
            model="nano-banana-pro", prompt="x", extra_body=af.image_params(seed=3)
        )
    assert len(gateway.generation_requests()) == 1


def test_warn_mode_sends_with_a_warning(gateway: Emulator) -> None:
    gateway.clear()
    client = af.OpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, validation="warn", max_retries=0
    )
    with (
        pytest.warns(af.CapabilityWarning, match="aspect_ratio '21:9'"),
        pytest.raises(openai.BadRequestError),
    ):
        # The emulator refuses it as the gateway would: proof that it was sent.
        client.images.generate(
            model="nano-banana-pro", prompt="x", extra_body={"aspect_ratio": "21:9"}
        )
    assert len(gateway.generation_requests()) == 1


def test_off_mode_sends_untouched_without_the_catalog(gateway: Emulator) -> None:
    gateway.clear()
    client = af.OpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, validation="off", max_retries=0
    )
    with pytest.raises(openai.BadRequestError):
        client.images.generate(model="flux-2-dv", prompt="x")
    assert [r.path for r in gateway.requests] == ["/v1/images/generations"]


def test_unreachable_catalog_warns_and_sends(emulator: Emulator) -> None:
    emulator.set_catalog({"object": "list", "data": "not a list"})
    client = af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0)
    with pytest.warns(af.CapabilityWarning, match="catalog"):
        client.images.generate(model="flux-2-dev", prompt="x")
    assert len(emulator.generation_requests()) == 1


def test_catalog_failure_does_not_recurse_or_stampede(emulator: Emulator) -> None:
    emulator.set_catalog({"object": "list", "data": {"not": "a list"}})
    client = af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", af.CapabilityWarning)
        for _ in range(5):
            client.images.generate(model="flux-2-dev", prompt="x")
    catalog_gets = [r for r in emulator.requests if r.path == "/v1/models"]
    assert len(catalog_gets) == 1  # the failure is remembered, not fetched per request
    assert len(emulator.generation_requests()) == 5


def test_user_hook_runs_after_the_validator_and_can_abort(
    gateway: Emulator, sync_client: af.OpenAI
) -> None:
    gateway.clear()
    seen: list[af.ImageRequest] = []

    class Budget(Exception):
        pass

    def hook(request: af.ImageRequest) -> None:
        seen.append(request)
        if request.body.get("n", 1) > 1:
            raise Budget("over budget")

    sync_client.add_request_hook(hook)
    with pytest.raises(af.CapabilityError):
        sync_client.images.generate(model="flux-2-dev", prompt="x", n=9)
    assert seen == []  # the validator refused first
    with pytest.raises(Budget, match="over budget"):
        sync_client.images.generate(model="flux-2-dev", prompt="x", n=2, extra_body={"seed": 1})
    assert gateway.generation_requests() == []
    assert seen[-1].body == {"model": "flux-2-dev", "prompt": "x", "n": 2, "seed": 1}
    assert seen[-1].model_info is not None and seen[-1].model_info.caps.max_n == 4
    sync_client.images.generate(model="flux-2-dev", prompt="x")
    assert len(gateway.generation_requests()) == 1


def test_catalog_is_fetched_once_for_64_threads_and_64_tasks(emulator: Emulator) -> None:
    sync_client = af.OpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url, default_headers={"X-Client": "sync"}
    )
    async_client = af.AsyncOpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url, default_headers={"X-Client": "async"}
    )
    start = threading.Barrier(65, timeout=30)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            sync_client.images.generate(model="flux-2-dev", prompt="thread")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    async def tasks() -> None:
        async def task() -> None:
            await async_client.images.generate(model="flux-2-dev", prompt="task")

        start.wait()
        await asyncio.wait_for(asyncio.gather(*(task() for _ in range(64))), timeout=60)

    threads = [threading.Thread(target=one) for _ in range(64)]
    for thread in threads:
        thread.start()
    asyncio.run(tasks())
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    gets = [r.headers.get("x-client") for r in emulator.requests if r.path == "/v1/models"]
    assert sorted(gets) == ["async", "sync"]
    assert len(emulator.generation_requests()) == 128


def test_catalog_api(client: af.OpenAI) -> None:
    models = client.catalog.image_models()
    assert all(m.is_image for m in models)
    flux = client.catalog.get("flux-2-dev")
    assert flux is not None and flux.caps.aspect_ratios
    assert client.catalog.get("no-such-model") is None
    chat = client.catalog.get("gpt-4o-mini")
    assert chat is not None and chat.is_text_only and chat not in models


async def test_catalog_api_async(aclient: af.AsyncOpenAI, emulator: Emulator) -> None:
    models = await aclient.catalog.image_models()
    assert models and all(m.is_image for m in models)
    assert (await aclient.catalog.get("flux-2-dev")) is not None
    await aclient.catalog.refresh()
    assert [r.path for r in emulator.requests].count("/v1/models") == 2


def test_catalog_is_cached_for_the_ttl_and_refreshable(emulator: Emulator) -> None:
    client = af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, catalog_ttl=300)
    client.images.generate(model="flux-2-dev", prompt="one")
    client.with_options(timeout=10).images.generate(model="flux-2-dev", prompt="two")
    assert [r.path for r in emulator.requests].count("/v1/models") == 1
    client.catalog.refresh()
    assert [r.path for r in emulator.requests].count("/v1/models") == 2
    uncached = af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, catalog_ttl=0)
    uncached.images.generate(model="flux-2-dev", prompt="three")
    uncached.images.generate(model="flux-2-dev", prompt="four")
    assert [r.path for r in emulator.requests].count("/v1/models") == 4


def test_hooks_see_a_copy_of_the_body(gateway: Emulator, sync_client: af.OpenAI) -> None:
    gateway.clear()

    def meddle(request: af.ImageRequest) -> None:
        request.body["input_images"].append({"url": "https://example.com/extra.png"})  # type: ignore[index]

    sync_client.add_request_hook(meddle)
    sync_client.images.generate(
        model="flux-2-dev", prompt="x", extra_body={"input_images": [{"url": URL}]}
    )
    (sent,) = gateway.generation_requests()
    assert sent.json is not None and sent.json["input_images"] == [{"url": URL}]


@pytest.mark.skipif(
    "content" not in inspect.signature(openai.OpenAI.post).parameters,
    reason="this openai SDK has no raw-content post(content=...)",
)
def test_raw_content_bodies_are_checked_too(gateway: Emulator, sync_client: af.OpenAI) -> None:
    gateway.clear()
    bad = json.dumps({"model": "flux-2-dev", "prompt": "x", "n": 9}).encode()
    with pytest.raises(af.CapabilityError, match="n 9"):
        sync_client.post(
            "/images/generations",
            content=bad,
            cast_to=openai.types.ImagesResponse,
            options={"headers": {"Content-Type": "application/json"}},
        )
    assert gateway.generation_requests() == []


def _catalog_failing_transport(failure: str, sent: list[str]) -> httpx.MockTransport:
    """The catalog fails as ``failure`` says; generations succeed."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path.endswith("/models"):
            if failure == "timeout":
                raise httpx.ReadTimeout("catalog too slow", request=request)
            if failure == "status":
                return httpx.Response(503, json={"error": {"message": "deploying"}})
            return httpx.Response(200, text="<html>not json</html>")
        return httpx.Response(200, json={"created": 1, "data": [{"url": "https://x/image.jpeg"}]})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("failure", ["timeout", "status", "malformed"])
def test_a_failing_catalog_never_blocks_a_generation(failure: str) -> None:
    sent: list[str] = []
    http = httpx.Client(transport=_catalog_failing_transport(failure, sent))
    client = af.OpenAI(
        api_key="sk-air-x", base_url="http://127.0.0.1:9/v1", http_client=http, max_retries=0
    )
    with pytest.warns(af.CapabilityWarning, match="catalog could not be fetched"):
        response = client.images.generate(model="flux-2-dev", prompt="x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", af.CapabilityWarning)
        client.images.generate(model="flux-2-dev", prompt="again")
    assert response.data
    # One catalog fetch, remembered as failed; both generations went out.
    assert sent.count("/v1/images/generations") == 2
    assert sent.count("/v1/models") == 1
    http.close()


@pytest.mark.parametrize("failure", ["timeout", "status", "malformed"])
async def test_a_failing_catalog_never_blocks_a_generation_async(failure: str) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return _catalog_failing_transport(failure, sent).handler(request)  # type: ignore[return-value]

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = af.AsyncOpenAI(
            api_key="sk-air-x", base_url="http://127.0.0.1:9/v1", http_client=http, max_retries=0
        )
        with pytest.warns(af.CapabilityWarning, match="catalog could not be fetched"):
            response = await client.images.generate(model="flux-2-dev", prompt="x")
    assert response.data
    assert sent == ["/v1/models", "/v1/images/generations"]
