"""The validator hook: bad requests fail locally, on every call path, before anything is sent."""

from __future__ import annotations

import asyncio
import datetime
import inspect
import json
import re
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import openai
import pytest

import airforce_openai as af
from airforce_openai.testing import Emulator, httpx
from airforce_openai.testing._catalog import entry_kind
from airforce_openai.testing._catalog_data import default_catalog
from airforce_openai.testing._checks import RULES

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
            "resolutions": ["512", "1024", "2048"],
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
    # The rules the gateway documents beyond the caps (see testing/_checks.py RULES).
    ("response-format", {"response_format": "png"}, "response_format 'png'", {"response_format"}),
    (
        "response-format-type",
        {"extra_body": {"response_format": 1}},
        "not one of url, b64_json",
        {"response_format"},
    ),
    ("size-type", {"size": 1024}, "size must be a string such as '1024x1024'", {"size"}),
    (
        "resolution-not-stated",
        {"model": "nano-banana-pro", "extra_body": {"resolution": "4096"}},
        "nano-banana-pro: resolution '4096' is not one of 512, 1024, 2048",
        {"resolution"},
    ),
    ("resolution-type", {"extra_body": {"resolution": [1024]}}, "resolution must", {"resolution"}),
    ("style-type", {"model": "suno-v5", "extra_body": {"style": ["EDM"]}}, "style must", {"style"}),
    (
        "custom-type",
        {"model": "suno-v5", "extra_body": {"custom": "yes"}},
        "custom must be true or false",
        {"custom"},
    ),
    (
        "instrumental-type",
        {"model": "suno-v5", "extra_body": {"instrumental": 1}},
        "instrumental must be true or false",
        {"instrumental"},
    ),
    ("sse-type", {"extra_body": {"sse": "true"}}, "sse must be true or false", {"sse"}),
    ("seed-float", {"extra_body": {"seed": 1.5}}, "seed must be an integer", {"seed"}),
    (
        "input-item-not-an-object",
        {"extra_body": {"input_images": [URL]}},
        "input_images[0] must be {'url': ...} or {'b64_json': ...}",
        {"input_images"},
    ),
    (
        "input-item-empty",
        {"extra_body": {"input_images": [{}]}},
        "input_images[0] gives neither url nor b64_json",
        {"input_images"},
    ),
    (
        "input-item-both",
        {"extra_body": {"input_images": [DATA, {"url": URL, **DATA}]}},
        "input_images[1] gives both url and b64_json",
        {"input_images"},
    ),
    (
        "input-item-bad-base64",
        {"extra_body": {"input_images": [{"b64_json": "not base64!"}]}},
        "input_images[0].b64_json is not base64 data",
        {"input_images"},
    ),
    (
        "input-item-empty-url",
        {"extra_body": {"input_images": [{"url": ""}]}},
        "input_images[0].url must be a URL",
        {"input_images"},
    ),
    (
        "image-url-not-a-string",
        {"extra_body": {"image_urls": [42]}},
        "image_urls[0] must be a URL string",
        {"image_urls"},
    ),
    (
        "url-input-any-scheme-refused",
        {"model": "nano-banana-pro", "extra_body": {"image_urls": ["ftp://e.x/a.png"]}},
        "image_urls[0] is a URL",
        {"image_urls"},
    ),
    # Values JSON cannot carry, named by their path in the body.
    ("nan-seed", {"extra_body": {"seed": float("nan")}}, "seed is nan", {"seed"}),
    ("nan-n", {"n": float("nan")}, "n is nan", {"n"}),
    (
        "inf-nested",
        {"extra_body": {"vendor_knob": [1, 2, float("inf")]}},
        "vendor_knob[2] is inf",
        {"vendor_knob[2]"},
    ),
    (
        "inf-deep",
        {"extra_body": {"vendor": {"depth": {"x": float("-inf")}}}},
        "vendor.depth.x is -inf",
        {"vendor.depth.x"},
    ),
    ("set-value", {"extra_body": {"tags": {"a", "b"}}}, "tags is a set", {"tags"}),
    (
        "bytes-image",
        {"extra_body": {"input_images": [{"b64_json": b"\x89PNG"}]}},
        "input_images[0].b64_json is bytes",
        {"input_images[0].b64_json"},
    ),
    (
        "datetime-value",
        {"extra_body": {"when": datetime.datetime(2026, 1, 1)}},
        "when is a datetime",
        {"when"},
    ),
    ("object-value", {"extra_body": {"knob": object()}}, "knob is of type object", {"knob"}),
    ("int-key", {"extra_body": {"vendor": {1: "a"}}}, "vendor has the key 1 (int)", {"vendor"}),
    ("top-level-int-key", {"extra_body": {7: "x"}}, "has the key 7 (int)", {"body"}),
    ("surrogate-prompt", {"prompt": "otter \udc80"}, "prompt holds a lone surrogate", {"prompt"}),
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
    # Provider-specific sizes pass through; a stated resolution; unknown keys are forwarded.
    {"model": "flux-2-dev", "prompt": "x", "size": "square_hd", "response_format": "b64_json"},
    {
        "model": "nano-banana-pro",
        "prompt": "x",
        "extra_body": {"resolution": "1024", "vendor": [1, 2.5, None], "sse": False},
    },
]


@pytest.mark.parametrize("case", GOOD)
def test_good_requests_reach_the_gateway_unchanged(
    gateway: Emulator, sync_client: af.OpenAI, case: dict[str, Any]
) -> None:
    gateway.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
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


# --------------------------------------------------------------------------- one rulebook
#
# Every rule the emulated gateway enforces (testing/_checks.py RULES) is also the validator's:
# each bad body below is refused by the emulator with a 400 naming the field (sent with
# validation="off") and by the validator before sending (strict), naming the same field.
# The bodies are generated from the emulator's default catalog, so a cap it states is tried.

PNG_B64 = "iVBORw0KGgo="
DEFAULT_CATALOG = default_catalog()


def _capless_image_model(catalog: list[dict[str, Any]]) -> str:
    return next(e["id"] for e in catalog if entry_kind(e) == "image" and not e.get("image_caps"))


def _cap_cases(entry: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(rule, field, body overrides) for every cap the entry states."""
    model = entry["id"]
    if entry_kind(entry) == "text":
        yield "model.chat", "model", {"model": model}
        return
    caps = entry.get("image_caps") or {}
    if isinstance(caps.get("max_n"), int):
        yield "n.max_n", "n", {"model": model, "n": caps["max_n"] + 1}
    for key, values, bad in (
        ("aspect_ratio", caps.get("aspect_ratios"), "5:4"),
        ("aspectRatio", caps.get("aspect_ratios"), "2:1"),
        ("quality", caps.get("qualities"), "ultra"),
        ("resolution", caps.get("resolutions"), "4096"),
    ):
        if values:
            assert bad not in values
            yield f"{key}.caps", key, {"model": model, key: bad}
    most = caps.get("max_input_images")
    if isinstance(most, int):
        yield (
            "inputs.max",
            "input_images",
            {"model": model, "input_images": [{"b64_json": PNG_B64}] * (most + 1)},
        )
        data_url = f"data:image/png;base64,{PNG_B64}"
        yield "inputs.max", "image_urls", {"model": model, "image_urls": [data_url] * (most + 1)}
    if caps.get("supports_url_input") is False and most != 0:
        yield "inputs.url", "input_images", {"model": model, "input_images": [{"url": URL}]}
        yield "inputs.url", "image_urls", {"model": model, "image_urls": [URL]}


# (rule, field, body overrides) that hold for any model: the body-only rules.
_BODY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("model.type", "model", {"model": 3}),
    ("model.type", "model", {"model": " "}),
    ("model.missing", "model", {"model": None}),
    ("model.unknown", "model", {"model": "flux-9"}),
    ("models.shape", "models", {"models": "flux-2-dev"}),
    ("models.shape", "models", {"models": [3]}),
    ("models.shape", "models", {"models": [""]}),
    ("prompt.missing", "prompt", {"prompt": None}),
    ("prompt.type", "prompt", {"prompt": 3}),
    ("prompt.type", "prompt", {"prompt": ["an", "otter"]}),
    ("prompt.empty", "prompt", {"prompt": " \n"}),
    ("n.type", "n", {"n": "2"}),
    ("n.type", "n", {"n": True}),
    ("n.type", "n", {"n": 1.5}),
    ("n.min", "n", {"n": 0}),
    ("n.min", "n", {"n": -3}),
    ("response_format", "response_format", {"response_format": "png"}),
    ("response_format", "response_format", {"response_format": 1}),
    ("seed.type", "seed", {"seed": "7"}),
    ("seed.type", "seed", {"seed": 1.5}),
    ("seed.type", "seed", {"seed": False}),
    ("size.type", "size", {"size": 1024}),
    ("size.type", "size", {"size": ["1024x1024"]}),
    ("aspect_ratio.type", "aspect_ratio", {"aspect_ratio": 16}),
    ("aspectRatio.type", "aspectRatio", {"aspectRatio": 1.5}),
    ("quality.type", "quality", {"quality": 2}),
    ("resolution.type", "resolution", {"resolution": [1024]}),
    ("resolution.type", "resolution", {"resolution": True}),
    ("style.type", "style", {"style": 3}),
    ("custom.type", "custom", {"custom": "yes"}),
    ("instrumental.type", "instrumental", {"instrumental": 1}),
    ("sse.type", "sse", {"sse": "yes"}),
    ("input_images.shape", "input_images", {"input_images": URL}),
    ("input_images.shape", "input_images", {"input_images": [None]}),
    ("input_images.shape", "input_images", {"input_images": [{}]}),
    ("input_images.shape", "input_images", {"input_images": [{"url": URL, "b64_json": PNG_B64}]}),
    ("input_images.url", "input_images", {"input_images": [{"url": ""}]}),
    ("input_images.url", "input_images", {"input_images": [{"url": 5}]}),
    ("input_images.b64_json", "input_images", {"input_images": [{"b64_json": "not base64!"}]}),
    ("input_images.b64_json", "input_images", {"input_images": [{"b64_json": 12}]}),
    ("image_urls.shape", "image_urls", {"image_urls": URL}),
    ("image_urls.shape", "image_urls", {"image_urls": [3]}),
    ("image_urls.shape", "image_urls", {"image_urls": [""]}),
]


def _rulebook(catalog: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(rule, field, body): one bad body per row, generated from ``catalog`` and RULES."""
    base = {"model": _capless_image_model(catalog), "prompt": "an otter"}
    rows = [(rule, field, {**base, **over}) for rule, field, over in _BODY_CASES]
    rows.append(("models.max", "models", {**base, "models": [base["model"]] * 4}))
    for entry in catalog:
        rows.extend((rule, field, {**base, **over}) for rule, field, over in _cap_cases(entry))
    return [
        (rule, field, {k: v for k, v in body.items() if v is not None})
        for rule, field, body in rows
    ]


RULEBOOK = _rulebook(DEFAULT_CATALOG)


def _field(param: str | None) -> str | None:
    """The top-level field a parameter path names: ``input_images[0].url`` -> ``input_images``."""
    return None if param is None else re.split(r"[\[.]", param, maxsplit=1)[0]


@pytest.fixture(scope="module")
def rule_gateway() -> Iterator[Emulator]:
    with Emulator() as emu:  # the default catalog, the one the rulebook is generated from
        yield emu


@pytest.fixture(scope="module")
def unchecked(rule_gateway: Emulator) -> Iterator[af.OpenAI]:
    with af.OpenAI(
        api_key=rule_gateway.api_key,
        base_url=rule_gateway.base_url,
        validation="off",
        max_retries=0,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def checked(rule_gateway: Emulator) -> Iterator[af.OpenAI]:
    with af.OpenAI(
        api_key=rule_gateway.api_key, base_url=rule_gateway.base_url, max_retries=0
    ) as client:
        yield client


def _post(client: af.OpenAI, body: dict[str, Any]) -> Any:
    return client.post("/images/generations", body=body, cast_to=openai.types.ImagesResponse)


def test_the_rulebook_tries_every_rule_with_distinct_bodies() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    names = {rule.name for rule in RULES if rule.checked_locally}
    tried = {rule for rule, _, _ in RULEBOOK}
    assert tried == names, f"rules no bad body tries: {names - tried}"
    bodies = {json.dumps(body, sort_keys=True) for _, _, body in RULEBOOK}
    assert len(bodies) == len(RULEBOOK) >= 60
    for rule in RULES:
        assert rule.source and rule.local, rule.name
        assert any(doc in rule.source for doc in ("reference.md", "observed.md")), rule.name


@pytest.mark.parametrize(
    ("rule", "field", "body"),
    [pytest.param(*row, id=f"{i}-{row[0]}-{row[1]}") for i, row in enumerate(RULEBOOK)],
)
def test_the_emulator_and_the_validator_refuse_the_same_field(
    rule_gateway: Emulator,
    unchecked: af.OpenAI,
    checked: af.OpenAI,
    rule: str,
    field: str,
    body: dict[str, Any],
) -> None:
    rule_gateway.clear()
    with pytest.raises(openai.BadRequestError) as refused:
        _post(unchecked, body)
    assert refused.value.status_code == 400
    assert _field(refused.value.param) == field, refused.value.message
    assert len(rule_gateway.generation_requests()) == 1  # it was sent, and refused

    with pytest.raises(af.CapabilityError) as caught:
        _post(checked, body)
    assert {_field(v.param) for v in caught.value.violations} == {field}, str(caught.value)
    assert len(rule_gateway.generation_requests()) == 1  # nothing more was sent


@pytest.mark.parametrize(
    "body",
    [
        {"model": "flux-2-dev", "prompt": "x", "size": "square_hd"},
        {"model": "flux-2-dev", "prompt": "x", "size": "1280*720"},
        {"model": "nano-banana-pro", "prompt": "x", "resolution": 2048},
        {"model": "seedream-4", "prompt": "x", "n": 11, "resolution": "4k", "quality": "max"},
        {"model": "nano-banana-2", "prompt": "x", "input_images": [{"url": "DATA:,AAAA"}]},
        {"model": "flux-2-dev", "prompt": "x", "input_images": [{"b64_json": "iVBO\nRw0KGgo="}]},
        {"model": "flux-2-dev", "prompt": "x", "provider_knob": {"any": ["thing", 1.5]}},
    ],
)
def test_what_the_emulator_accepts_the_validator_lets_through(
    rule_gateway: Emulator, checked: af.OpenAI, body: dict[str, Any]
) -> None:
    rule_gateway.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        _post(checked, body)
    (sent,) = rule_gateway.generation_requests()
    assert sent.json == body


def test_a_rule_only_the_gateway_knows_reaches_it(emulator: Emulator) -> None:
    # observed.md: a model whose id carries its resolution refuses a `resolution` field;
    # its entry does not say so, so the validator sends it and the gateway's 400 comes back.
    (rule,) = [rule for rule in RULES if not rule.checked_locally]
    emulator.set_catalog([{"id": "flux-pro-4k", "output_modalities": ["image"]}])
    client = af.OpenAI(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(
            model="flux-pro-4k", prompt="x", extra_body=af.image_params(resolution="1024")
        )
    assert refused.value.param == rule.param == "resolution"
    assert "flux-pro-4k" in refused.value.message
    assert len(emulator.generation_requests()) == 1
    client.images.generate(model="flux-pro-4k", prompt="x")  # without it, it answers
    assert len(emulator.generation_requests()) == 2


def test_the_emulators_own_bound_on_n_is_not_a_gateway_rule(
    rule_gateway: Emulator, checked: af.OpenAI
) -> None:
    rule_gateway.clear()
    body = {"model": "seedream-4", "prompt": "x", "n": 1001}  # seedream-4 states no max_n
    with pytest.raises(openai.BadRequestError) as refused:
        _post(checked, body)  # the validator lets it through: no document bounds it
    assert refused.value.code == "emulator_limit"
    assert "not a rule of the gateway" in refused.value.message
    assert len(rule_gateway.generation_requests()) == 1


# --------------------------------------------------------------------------- unsendable values
#
# A value JSON cannot carry can never be sent, whatever the mode: "strict" and "warn" refuse
# it through the validator; "off", and a catalog that cannot be read, refuse it all the same.

UNSENDABLE: list[tuple[dict[str, Any], str, str]] = [
    ({"vendor_knob": [1, 2, float("nan")]}, "vendor_knob[2]", "extra_body.vendor_knob[2] is nan"),
    ({"vendor": {"depth": float("inf")}}, "vendor.depth", "extra_body.vendor.depth is inf"),
    ({"tags": {"a"}}, "tags", "extra_body.tags is a set"),
    ({"vendor": {1: "a"}}, "vendor", "extra_body.vendor has the key 1 (int)"),
]


@pytest.mark.parametrize(("extra", "param", "message"), UNSENDABLE)
def test_warn_mode_refuses_what_cannot_be_sent(
    gateway: Emulator, extra: dict[str, Any], param: str, message: str
) -> None:
    gateway.clear()
    client = af.OpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, validation="warn", max_retries=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        with pytest.raises(af.CapabilityError) as caught:
            client.images.generate(model="flux-2-dev", prompt="x", n=9, extra_body=extra)
    # Only what cannot be sent is raised; n=9 alone would have been a warning.
    assert [v.param for v in caught.value.violations] == [param]
    assert param in str(caught.value)
    assert gateway.generation_requests() == []


async def test_warn_mode_refuses_what_cannot_be_sent_async(gateway: Emulator) -> None:
    gateway.clear()
    client = af.AsyncOpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, validation="warn", max_retries=0
    )
    with pytest.raises(af.CapabilityError, match=re.escape("vendor_knob[2] is nan")):
        await client.images.generate(
            model="flux-2-dev", prompt="x", extra_body={"vendor_knob": [1, 2, float("nan")]}
        )
    assert gateway.generation_requests() == []


@pytest.mark.parametrize(("extra", "param", "message"), UNSENDABLE)
def test_off_mode_refuses_what_cannot_be_sent(
    gateway: Emulator, extra: dict[str, Any], param: str, message: str
) -> None:
    gateway.clear()
    client = af.OpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, validation="off", max_retries=0
    )
    with pytest.raises(af.CapabilityError) as caught:
        client.images.generate(model="flux-2-dev", prompt="x", extra_body=extra)
    assert [v.param for v in caught.value.violations] == [param]
    assert str(caught.value).startswith(message)
    assert gateway.requests == []  # not even the catalog is read


async def test_off_mode_refuses_what_cannot_be_sent_async(gateway: Emulator) -> None:
    gateway.clear()
    client = af.AsyncOpenAI(
        api_key=gateway.api_key, base_url=gateway.base_url, validation="off", max_retries=0
    )
    with pytest.raises(af.CapabilityError, match=re.escape("extra_body.vendor_knob[2] is nan")):
        await client.images.generate(
            model="flux-2-dev", prompt="x", extra_body={"vendor_knob": [1, 2, float("nan")]}
        )
    assert gateway.requests == []


@pytest.mark.parametrize("mode", ["strict", "warn"])
def test_an_unreadable_catalog_still_refuses_what_cannot_be_sent(
    emulator: Emulator, mode: Any
) -> None:
    emulator.set_catalog({"object": "list", "data": "not a list"})
    client = af.OpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url, validation=mode, max_retries=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", af.CapabilityWarning)
        with pytest.raises(af.CapabilityError, match=re.escape("vendor.depth is inf")):
            client.images.generate(
                model="flux-2-dev", prompt="x", extra_body={"vendor": {"depth": float("inf")}}
            )
    assert emulator.generation_requests() == []


def test_strict_mode_names_the_culprit_on_a_raw_post(
    gateway: Emulator, sync_client: af.OpenAI
) -> None:
    gateway.clear()
    body = {"model": "flux-2-dev", "prompt": "x", "vendor_knob": [1, 2, float("inf")]}
    with pytest.raises(af.CapabilityError) as caught:
        sync_client.post("/images/generations", body=body, cast_to=openai.types.ImagesResponse)
    (violation,) = caught.value.violations
    assert (violation.param, violation.value) == ("vendor_knob[2]", float("inf"))
    assert gateway.generation_requests() == []


# --------------------------------------------------------------------------- invalid options


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bogus", "validation='bogus' is not one of 'strict', 'warn', 'off'"),
        ("Strict", "did you mean 'strict'?"),
        (None, "validation=None (NoneType)"),
        (False, "validation=False (bool)"),
    ],
)
def test_a_bad_validation_mode_is_named_on_every_constructor(
    gateway: Emulator, mode: Any, message: str
) -> None:
    client = af.OpenAI(api_key=gateway.api_key, base_url=gateway.base_url)
    builders: list[Callable[[], object]] = [
        lambda: af.OpenAI(api_key="sk-air-x", validation=mode),
        lambda: af.AsyncOpenAI(api_key="sk-air-x", validation=mode),
        lambda: client.with_options(validation=mode),
        lambda: client.copy(validation=mode),
    ]
    for build in builders:
        with pytest.raises(ValueError) as caught:
            build()
        assert message in str(caught.value)
