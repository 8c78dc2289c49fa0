"""Tests for airforce_openai._catalog: lenient parsing, the single-flight cache and the facades."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import openai
import pytest
from _loopback import QuietHandler, serve

import airforce_openai as af
from airforce_openai import _exceptions
from airforce_openai._catalog import (
    AsyncCatalog,
    Catalog,
    CatalogCache,
    CatalogFormatError,
    ImageCaps,
    ImageModel,
    parse_catalog,
)

FLUX: dict[str, Any] = {
    "id": "flux-2-dev",
    "object": "model",
    "output_modalities": ["image"],
    "image_caps": {
        "max_n": 4,
        "aspect_ratios": ["1:1", "16:9"],
        "qualities": ["standard", "hd"],
        "max_input_images": 4,
        "supports_url_input": True,
        "supports_seed": False,
    },
    "priceperthousandimages": 300,
    "tier": "free",
}
CHAT: dict[str, Any] = {"id": "gpt-4o-mini", "supports_chat": True, "output_modalities": ["text"]}


def envelope(*entries: object) -> dict[str, Any]:
    return {"object": "list", "data": list(entries)}


def one(entry: dict[str, Any]) -> ImageModel:
    return parse_catalog(envelope(entry))[entry["id"]]


# --------------------------------------------------------------------------- parse_catalog


def test_the_envelope_gives_the_models_in_order() -> None:
    entries = [{"id": "b", "supports_images": True}, FLUX, CHAT]
    assert list(parse_catalog(envelope(*entries))) == ["b", "flux-2-dev", "gpt-4o-mini"]


def test_an_envelope_sent_as_text_is_decoded() -> None:
    # A gateway that labels its JSON text/plain: the SDK hands the text over as it is.
    assert list(parse_catalog(json.dumps(envelope(FLUX, CHAT)))) == ["flux-2-dev", "gpt-4o-mini"]


def test_a_full_entry_is_parsed() -> None:
    model = one(FLUX)
    assert model.id == "flux-2-dev"
    assert model.output == "image"
    assert model.is_image and not model.is_text_only
    assert model.caps == ImageCaps(
        max_n=4,
        aspect_ratios=("1:1", "16:9"),
        qualities=("standard", "hd"),
        max_input_images=4,
        supports_url_input=True,
        supports_seed=False,
    )


def test_unknown_fields_are_kept_in_raw() -> None:
    entry = {**FLUX, "brand_new_field": {"nested": [1, 2]}, "status": "degraded"}
    model = one(entry)
    assert model.raw["brand_new_field"] == {"nested": [1, 2]}
    assert model.raw["status"] == "degraded"
    assert model.raw == entry


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"output_modalities": ["image"]}, "image"),
        ({"output_modalities": ["text", "image"]}, "image"),
        ({"output_modalities": ["IMAGE"]}, "image"),
        ({"output_modalities": ["video"]}, "video"),
        ({"output_modalities": ["video", "audio"]}, "video"),
        ({"output_modalities": ["audio"]}, "audio"),
        ({"output_modalities": ["music"]}, "audio"),
        ({"output_modalities": ["speech"]}, "audio"),
        ({"output_modalities": ["sfx"]}, "audio"),
        ({"output_modalities": ["text"], "supports_chat": True}, "text"),
        ({"output_modalities": ["text"]}, "text"),
        # output_modalities wins over the older fields when it says something.
        ({"output_modalities": ["image"], "media_type": "video"}, "image"),
        ({"output_modalities": ["text"], "supports_images": True}, "text"),
        # an empty or useless list falls through to the older fields.
        ({"output_modalities": [], "media_type": "image"}, "image"),
        ({"output_modalities": None, "media_type": "video"}, "video"),
        ({"media_type": "image"}, "image"),
        ({"media_type": "video"}, "video"),
        ({"media_type": "audio"}, "audio"),
        ({"media_type": "speech"}, "audio"),
        ({"media_type": "sfx"}, "audio"),
        ({"media_type": "music"}, "audio"),
        ({"media_type": "image", "supports_chat": True}, "image"),
        ({"supports_images": True}, "image"),
        ({"supports_images": True, "supports_chat": True}, "image"),
        ({"supports_chat": True}, "text"),
        ({"supports_chat": True, "supports_images": False}, "text"),
        ({"supports_chat": True, "media_type": "text"}, "text"),
        ({"media_type": "text"}, "unknown"),
        ({"output_modalities": "image"}, "image"),
        ({"output_modalities": 7, "supports_images": True}, "image"),
        # something else is stated: a chat flag alone does not make it a chat model.
        ({"supports_chat": True, "media_type": "embedding"}, "unknown"),
        ({"supports_chat": True, "output_modalities": ["embedding"]}, "unknown"),
        ({"supports_chat": False}, "unknown"),
        ({}, "unknown"),
        ({"output_modalities": None, "media_type": None, "supports_images": None}, "unknown"),
    ],
)
def test_output_kind_is_detected_across_drifted_shapes(
    entry: dict[str, Any], expected: str
) -> None:
    assert one({"id": "m", **entry}).output == expected


def test_every_field_may_be_null() -> None:
    entry: dict[str, Any] = dict.fromkeys(FLUX)
    entry["id"] = "nulls"
    entry["image_caps"] = {key: None for key in FLUX["image_caps"]}
    model = one(entry)
    assert model.caps == ImageCaps()
    assert model.price_per_image_usd is None
    assert model.output == "unknown"


def test_missing_or_null_caps_give_empty_caps() -> None:
    assert one({"id": "a", "supports_images": True}).caps == ImageCaps()
    assert one({"id": "b", "supports_images": True, "image_caps": None}).caps == ImageCaps()


def test_caps_are_coerced_leniently() -> None:
    model = one(
        {
            "id": "m",
            "image_caps": {
                "max_n": "4",
                "max_input_images": "2.0",
                "aspect_ratios": ("1:1", " 16:9 "),
                "qualities": "standard, hd",
                "supports_url_input": "false",
                "supports_seed": 1,
            },
        }
    )
    assert model.caps == ImageCaps(
        max_n=4,
        aspect_ratios=("1:1", "16:9"),
        qualities=("standard", "hd"),
        max_input_images=2,
        supports_url_input=False,
        supports_seed=True,
    )
    other = one(
        {
            "id": "m",
            "image_caps": {"max_n": 3.0, "supports_seed": " TRUE ", "supports_url_input": 0},
        }
    )
    assert other.caps == ImageCaps(max_n=3, supports_seed=True, supports_url_input=False)


def test_numbers_in_a_list_of_labels_become_strings() -> None:
    assert one({"id": "m", "image_caps": {"qualities": [1024, "2k"]}}).caps.qualities == (
        "1024",
        "2k",
    )


def test_an_empty_list_states_nothing() -> None:
    assert one({"id": "m", "image_caps": {"aspect_ratios": []}}).caps.aspect_ratios is None


def test_caps_sent_as_a_json_string_are_decoded() -> None:
    caps = one({"id": "m", "image_caps": '{"max_n": 2, "aspect_ratios": ["1:1"]}'}).caps
    assert caps.max_n == 2
    assert caps.aspect_ratios == ("1:1",)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_n", "many"),
        ("max_n", True),
        ("max_n", -1),
        ("max_n", 2.5),
        ("max_n", "2.5"),
        ("max_n", [4]),
        ("max_input_images", {"max": 1}),
        ("aspect_ratios", 16),
        ("aspect_ratios", ["1:1", {"w": 16}]),
        ("qualities", [None]),
        ("supports_seed", "sometimes"),
        ("supports_url_input", 7),
    ],
)
def test_a_hopeless_cap_field_becomes_none_and_is_logged(
    field: str, value: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airforce_openai")
    models = parse_catalog(
        envelope({"id": "odd", "image_caps": {"supports_seed": True, field: value}})
    )
    assert "odd" in models  # the model stays listed
    assert getattr(models["odd"].caps, field) is None
    if field != "supports_seed":
        assert models["odd"].caps.supports_seed is True
    messages = [r.getMessage() for r in caplog.records if r.name == "airforce_openai"]
    assert any("odd" in m and field in m for m in messages), messages


def test_video_and_audio_models_fall_back_to_their_own_caps() -> None:
    video = one({"id": "wan", "media_type": "video", "video_caps": {"max_n": 1}})
    audio = one({"id": "suno", "output_modalities": ["audio"], "audio_caps": {"max_n": "2"}})
    assert video.caps.max_n == 1
    assert audio.caps.max_n == 2


def test_image_caps_win_over_video_caps() -> None:
    model = one(
        {"id": "wan", "media_type": "video", "image_caps": {"max_n": 3}, "video_caps": {"max_n": 1}}
    )
    assert model.caps.max_n == 3


def test_an_image_model_ignores_video_caps() -> None:
    model = one({"id": "m", "supports_images": True, "video_caps": {"max_n": 1}})
    assert model.caps.max_n is None


@pytest.mark.parametrize(
    ("entry", "culprit"),
    [
        ("flux-2-dev", "entry 1"),
        (42, "entry 1"),
        (None, "entry 1"),
        ({"object": "model"}, "entry 1"),
        ({"id": None}, "entry 1"),
        ({"id": 17}, "entry 1"),
        ({"id": "  "}, "entry 1"),
        ({"id": "bad-caps", "image_caps": ["max_n", 4]}, "bad-caps"),
        ({"id": "bad-json", "image_caps": "{not json"}, "bad-json"),
        ({"id": "json-list", "image_caps": "[1, 2]"}, "json-list"),
        ({"id": "bad-video", "media_type": "video", "video_caps": 3}, "bad-video"),
    ],
)
def test_a_malformed_entry_is_skipped_with_a_warning(
    entry: object, culprit: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airforce_openai")
    models = parse_catalog(envelope(FLUX, entry, CHAT))
    assert list(models) == ["flux-2-dev", "gpt-4o-mini"]
    records = [r for r in caplog.records if r.name == "airforce_openai"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert culprit in records[0].getMessage()
    assert "skipped" in records[0].getMessage()


def test_a_repeated_id_keeps_the_first_entry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="airforce_openai")
    models = parse_catalog(envelope(FLUX, {"id": "flux-2-dev", "media_type": "video"}))
    assert models["flux-2-dev"].output == "image"
    assert "flux-2-dev" in caplog.text


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ([FLUX, CHAT], "is a list, expected a JSON object"),
        ([], "is a list"),
        ("models", "not JSON: 'models'"),
        ("<html>\n502 Bad Gateway\n</html>", "not JSON: '<html> 502 Bad Gateway </html>'"),
        ("", "not JSON: an empty body"),
        ('"a JSON string"', "is a str"),
        ("x" * 500, "x" * 60 + "...'"),
        (None, "is null"),
        (42, "is an int"),
        ({"object": "list"}, "no 'data' key"),
        ({"object": "list", "data": None}, "'data' is null"),
        ({"object": "list", "data": {"id": "x"}}, "'data' is a dict"),
        ({"object": "list", "data": "flux-2-dev"}, "'data' is a str"),
        (json.dumps({"data": 3}), "'data' is an int"),
    ],
)
def test_an_answer_without_a_data_list_raises(payload: object, needle: str) -> None:
    with pytest.raises(CatalogFormatError, match="the GET /models answer") as excinfo:
        parse_catalog(payload)
    assert needle in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert isinstance(excinfo.value, af.AirforceError)
    assert isinstance(excinfo.value, ValueError)  # as it was before it joined the error tree


def test_the_error_is_part_of_the_documented_tree() -> None:
    assert af.CatalogFormatError is CatalogFormatError
    assert "CatalogFormatError" in af.__all__
    assert issubclass(CatalogFormatError, openai.OpenAIError)
    # The client's "a catalog that cannot be fetched never blocks a request" catches Exception.
    assert issubclass(CatalogFormatError, Exception)
    assert "CatalogFormatError" in (_exceptions.__doc__ or "")


def test_odd_entries_in_a_usable_list_are_still_skipped_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="airforce_openai"):
        models = parse_catalog(envelope("flux-2-dev", None, {"id": 3}, FLUX))
    assert list(models) == ["flux-2-dev"]
    assert len(caplog.records) == 3


def test_an_empty_catalog_is_empty() -> None:
    assert parse_catalog(envelope()) == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"priceperthousandimages": 300}, 0.003),
        ({"priceperthousandimages": 2500}, 0.025),
        ({"priceperthousandimages": "450"}, 0.0045),
        ({"priceperthousandimages": 0}, 0.0),
        ({"price_per_generation_cents": 12}, 0.12),
        ({"price_per_generation_cents": 12, "priceperthousandimages": 300}, 0.003),
        ({"price_per_generation_cents": 12, "priceperthousandimages": None}, 0.12),
        ({"price_per_generation_cents": 12, "priceperthousandimages": "n/a"}, 0.12),
        ({"priceperthousandimages": None}, None),
        ({"priceperthousandimages": "free"}, None),
        ({"priceperthousandimages": True}, None),
        ({"priceperthousandimages": -5}, None),
        ({"priceperthousandimages": float("nan")}, None),
        ({"priceperthousandimages": [300]}, None),
        ({"pricepermilliontokens": 15}, None),
        ({}, None),
    ],
)
def test_price_per_image_is_converted_from_cents(
    fields: dict[str, Any], expected: float | None
) -> None:
    price = one({"id": "m", "supports_images": True, **fields}).price_per_image_usd
    if expected is None:
        assert price is None
    else:
        assert price == pytest.approx(expected)


# --------------------------------------------------------------------------- the cache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingFetch:
    """A fetch that counts its calls and can be made slow or failing."""

    def __init__(self, payload: object = None, *, delay: float = 0.0) -> None:
        self.payload = envelope(FLUX, CHAT) if payload is None else payload
        self.delay = delay
        self.calls = 0
        self.error: Exception | None = None
        self._lock = threading.Lock()

    def __call__(self) -> object:
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.payload

    async def async_call(self) -> object:
        with self._lock:
            self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.payload


def run_threads(targets: list[Callable[[], object]]) -> list[object]:
    """Run each target in its own thread, all released together; return results or exceptions."""
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)

    def worker(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = targets[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_rejects_negative_durations() -> None:
    with pytest.raises(ValueError, match="ttl"):
        CatalogCache(-1)
    with pytest.raises(ValueError, match="retry_failed_after"):
        CatalogCache(retry_failed_after=-0.5)
    with pytest.raises(ValueError, match="wait_timeout"):
        CatalogCache(wait_timeout=-1)


def test_ttl_is_exposed() -> None:
    assert CatalogCache(42).ttl == 42.0
    assert CatalogCache().ttl == 300.0


def test_sixty_four_threads_share_one_fetch() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.2)
    results = run_threads([lambda: cache.get_sync(fetch)] * 64)
    assert fetch.calls == 1
    first = results[0]
    assert isinstance(first, dict), results
    assert all(r is first for r in results)
    assert list(first) == ["flux-2-dev", "gpt-4o-mini"]


async def test_sixty_four_tasks_share_one_fetch() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.05)
    results = await asyncio.gather(*(cache.get_async(fetch.async_call) for _ in range(64)))
    assert fetch.calls == 1
    assert all(r is results[0] for r in results)
    assert results[0]["flux-2-dev"].caps.max_n == 4


def test_threads_tasks_and_event_loops_share_one_fetch() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.2)

    async def many_tasks() -> list[dict[str, ImageModel]]:
        return list(await asyncio.gather(*(cache.get_async(fetch.async_call) for _ in range(8))))

    def in_own_loop() -> object:
        return asyncio.run(many_tasks())

    def sync_call() -> object:
        return cache.get_sync(fetch)

    # Half of the threads each run an event loop with 8 tasks, half call synchronously.
    results = run_threads([in_own_loop if i % 2 else sync_call for i in range(16)])
    assert fetch.calls == 1
    flat: list[object] = []
    for result in results:
        flat.extend(result if isinstance(result, list) else [result])
    assert len(flat) == 8 * 8 + 8
    assert all(r is flat[0] for r in flat), flat


def test_fresh_catalog_is_served_without_fetching_then_refetched_after_ttl() -> None:
    clock = FakeClock()
    cache = CatalogCache(60, clock=clock)
    fetch = CountingFetch()
    first = cache.get_sync(fetch)
    clock.now += 59.9
    assert cache.get_sync(fetch) is first
    assert fetch.calls == 1
    clock.now += 0.1
    second = cache.get_sync(fetch)
    assert fetch.calls == 2
    assert second == first and second is not first


def test_zero_ttl_fetches_every_time() -> None:
    cache = CatalogCache(0, clock=FakeClock())
    fetch = CountingFetch()
    cache.get_sync(fetch)
    cache.get_sync(fetch)
    assert fetch.calls == 2


def test_a_failure_is_remembered_then_retried() -> None:
    clock = FakeClock()
    cache = CatalogCache(retry_failed_after=10, clock=clock)
    fetch = CountingFetch()
    fetch.error = ConnectionError("catalog down")
    with pytest.raises(ConnectionError, match="catalog down") as first:
        cache.get_sync(fetch)
    clock.now += 9.9
    with pytest.raises(ConnectionError) as second:
        cache.get_sync(fetch)
    assert second.value is first.value
    assert fetch.calls == 1
    fetch.error = None
    clock.now += 0.1
    assert "flux-2-dev" in cache.get_sync(fetch)
    assert fetch.calls == 2


def test_a_remembered_failure_does_not_grow_its_traceback() -> None:
    cache = CatalogCache(clock=FakeClock())
    fetch = CountingFetch()
    fetch.error = ConnectionError("down")
    depths = []
    for _ in range(5):
        with pytest.raises(ConnectionError) as excinfo:
            cache.get_sync(fetch)
        depths.append(len(excinfo.traceback))
    assert depths[1] == depths[-1]


def test_a_payload_that_cannot_be_parsed_is_a_remembered_failure() -> None:
    cache = CatalogCache(clock=FakeClock())
    fetch = CountingFetch(payload="<html>502 Bad Gateway</html>")
    with pytest.raises(CatalogFormatError):
        cache.get_sync(fetch)
    with pytest.raises(CatalogFormatError):
        cache.get_sync(fetch)
    assert fetch.calls == 1


def test_every_waiting_thread_gets_the_failure() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.2)
    fetch.error = ConnectionError("catalog down")
    results = run_threads([lambda: cache.get_sync(fetch)] * 32)
    assert fetch.calls == 1
    assert all(isinstance(r, ConnectionError) for r in results), results


async def test_a_remembered_failure_is_raised_to_tasks_without_fetching() -> None:
    cache = CatalogCache(clock=FakeClock())
    fetch = CountingFetch()
    fetch.error = ConnectionError("catalog down")
    for _ in range(3):
        with pytest.raises(ConnectionError, match="catalog down"):
            await cache.get_async(fetch.async_call)
    assert fetch.calls == 1


async def test_every_waiting_task_gets_the_failure() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.05)
    fetch.error = ConnectionError("catalog down")
    results = await asyncio.gather(
        *(cache.get_async(fetch.async_call) for _ in range(32)), return_exceptions=True
    )
    assert fetch.calls == 1
    assert all(isinstance(r, ConnectionError) for r in results), results


def test_invalidate_forgets_the_catalog_and_the_failure() -> None:
    cache = CatalogCache(clock=FakeClock())
    fetch = CountingFetch()
    cache.get_sync(fetch)
    cache.invalidate()
    cache.get_sync(fetch)
    assert fetch.calls == 2
    fetch.error = ConnectionError("down")
    cache.invalidate()
    with pytest.raises(ConnectionError):
        cache.get_sync(fetch)
    fetch.error = None
    cache.invalidate()
    assert "flux-2-dev" in cache.get_sync(fetch)
    assert fetch.calls == 4


def test_a_waiter_gives_up_with_a_timeout_naming_the_catalog() -> None:
    cache = CatalogCache(wait_timeout=0.05)
    release = threading.Event()
    started = threading.Event()

    def blocked_fetch() -> object:
        started.set()
        release.wait(timeout=10)
        return envelope(FLUX)

    owner = threading.Thread(target=cache.get_sync, args=(blocked_fetch,))
    owner.start()
    try:
        assert started.wait(timeout=10)
        with pytest.raises(TimeoutError, match="catalog"):
            cache.get_sync(blocked_fetch)
    finally:
        release.set()
        owner.join(timeout=10)
    assert "flux-2-dev" in cache.get_sync(blocked_fetch)


async def test_an_async_waiter_gives_up_with_a_timeout_naming_the_catalog() -> None:
    cache = CatalogCache(wait_timeout=0.05)
    release = asyncio.Event()

    async def blocked_fetch() -> object:
        await asyncio.wait_for(release.wait(), timeout=10)
        return envelope(FLUX)

    owner = asyncio.ensure_future(cache.get_async(blocked_fetch))
    await asyncio.sleep(0)
    with pytest.raises(TimeoutError, match="catalog"):
        await cache.get_async(blocked_fetch)
    release.set()
    assert "flux-2-dev" in await owner


async def test_a_fetch_that_times_out_is_not_reported_as_a_wait_timeout() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.05)
    fetch.error = TimeoutError("GET /models timed out")
    results = await asyncio.gather(
        *(cache.get_async(fetch.async_call) for _ in range(4)), return_exceptions=True
    )
    assert all(isinstance(r, TimeoutError) and "GET /models" in str(r) for r in results)


def test_a_thread_waiting_on_a_fetch_that_times_out_gets_that_error() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.2)
    fetch.error = TimeoutError("GET /models timed out")
    results = run_threads([lambda: cache.get_sync(fetch)] * 8)
    assert all(isinstance(r, TimeoutError) and "GET /models" in str(r) for r in results)


async def test_a_cancelled_fetching_task_does_not_strand_its_waiters() -> None:
    cache = CatalogCache()
    calls = 0
    gate = asyncio.Event()

    async def fetch() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.wait_for(gate.wait(), timeout=10)  # the first fetch never finishes
        return envelope(FLUX)

    owner = asyncio.ensure_future(cache.get_async(fetch))
    await asyncio.sleep(0)
    waiters = [asyncio.ensure_future(cache.get_async(fetch)) for _ in range(5)]
    await asyncio.sleep(0)
    owner.cancel()
    results = await asyncio.wait_for(asyncio.gather(*waiters), timeout=10)
    assert owner.cancelled()
    assert calls == 2  # one waiter took over; the others shared its fetch
    assert all("flux-2-dev" in r for r in results)


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt in the fetching thread."""


def test_an_interrupted_fetching_thread_does_not_strand_its_waiters() -> None:
    cache = CatalogCache(clock=FakeClock())
    started = threading.Event()
    release = threading.Event()
    calls = 0

    def fetch() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            release.wait(timeout=10)
            raise Interrupted
        return envelope(FLUX)

    interrupted: list[BaseException] = []
    waited: list[dict[str, ImageModel]] = []

    def owner() -> None:
        try:
            cache.get_sync(fetch)
        except Interrupted as exc:
            interrupted.append(exc)

    def waiter() -> None:
        waited.append(cache.get_sync(fetch))

    threads = [threading.Thread(target=owner), threading.Thread(target=waiter)]
    threads[0].start()
    assert started.wait(timeout=10)
    threads[1].start()
    time.sleep(0.1)  # let the waiter start waiting on the fetch in flight
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(interrupted) == 1
    assert "flux-2-dev" in waited[0]  # it took over the fetch instead of hanging
    assert calls == 2


async def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.05)
    owner = asyncio.ensure_future(cache.get_async(fetch.async_call))
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(cache.get_async(fetch.async_call))
    other = asyncio.ensure_future(cache.get_async(fetch.async_call))
    await asyncio.sleep(0)
    waiter.cancel()
    assert "flux-2-dev" in await owner
    assert "flux-2-dev" in await other
    assert waiter.cancelled()
    assert fetch.calls == 1


async def test_a_sync_thread_and_a_task_share_one_fetch() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.2)
    task = asyncio.ensure_future(cache.get_async(fetch.async_call))
    await asyncio.sleep(0)
    from_thread = await asyncio.to_thread(cache.get_sync, fetch)
    assert from_thread is await task
    assert fetch.calls == 1


def test_invalidate_during_a_fetch_starts_a_new_one() -> None:
    cache = CatalogCache(clock=FakeClock())
    release = threading.Event()
    started = threading.Event()
    calls = 0

    def fetch() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            release.wait(timeout=10)
            return envelope({"id": "old", "supports_images": True})
        return envelope({"id": "new", "supports_images": True})

    old: list[dict[str, ImageModel]] = []
    owner = threading.Thread(target=lambda: old.append(cache.get_sync(fetch)))
    owner.start()
    assert started.wait(timeout=10)
    cache.invalidate()
    assert list(cache.get_sync(fetch)) == ["new"]
    release.set()
    owner.join(timeout=10)
    assert list(old[0]) == ["old"]
    # The stale result did not overwrite the newer one.
    assert list(cache.get_sync(fetch)) == ["new"]
    assert calls == 2


# --------------------------------------------------------------------------- facades


def test_catalog_facade() -> None:
    video = {"id": "wan-2.2", "media_type": "video"}
    fetch = CountingFetch(envelope(FLUX, CHAT, video, {"id": "old", "supports_images": True}))
    catalog = Catalog(CatalogCache(clock=FakeClock()), fetch)
    assert list(catalog.models()) == ["flux-2-dev", "gpt-4o-mini", "wan-2.2", "old"]
    assert [m.id for m in catalog.image_models()] == ["flux-2-dev", "old"]
    flux = catalog.get("flux-2-dev")
    assert flux is not None and flux.price_per_image_usd == pytest.approx(0.003)
    chat = catalog.get("gpt-4o-mini")
    assert chat is not None and chat.is_text_only
    assert catalog.get("nope") is None
    assert fetch.calls == 1


def test_catalog_models_is_a_copy() -> None:
    catalog = Catalog(CatalogCache(clock=FakeClock()), CountingFetch())
    catalog.models().clear()
    assert "flux-2-dev" in catalog.models()


def test_catalog_refresh_fetches_again_even_when_fresh() -> None:
    fetch = CountingFetch()
    catalog = Catalog(CatalogCache(clock=FakeClock()), fetch)
    catalog.image_models()
    fetch.payload = envelope({"id": "flux-3", "output_modalities": ["image"]})
    assert catalog.get("flux-3") is None  # still cached
    catalog.refresh()
    assert fetch.calls == 2
    assert catalog.get("flux-3") is not None
    assert fetch.calls == 2


def test_catalog_propagates_fetch_errors() -> None:
    fetch = CountingFetch()
    fetch.error = ConnectionError("catalog down")
    catalog = Catalog(CatalogCache(clock=FakeClock()), fetch)
    with pytest.raises(ConnectionError, match="catalog down"):
        catalog.image_models()
    with pytest.raises(ConnectionError):
        catalog.refresh()


async def test_async_catalog_facade() -> None:
    fetch = CountingFetch(envelope(FLUX, CHAT))
    catalog = AsyncCatalog(CatalogCache(clock=FakeClock()), fetch.async_call)
    assert list(await catalog.models()) == ["flux-2-dev", "gpt-4o-mini"]
    assert [m.id for m in await catalog.image_models()] == ["flux-2-dev"]
    assert (await catalog.get("gpt-4o-mini")) is not None
    assert (await catalog.get("nope")) is None
    assert fetch.calls == 1
    fetch.payload = envelope({"id": "flux-3", "output_modalities": ["image"]})
    await catalog.refresh()
    assert fetch.calls == 2
    assert [m.id for m in await catalog.image_models()] == ["flux-3"]


async def test_async_catalog_propagates_fetch_errors() -> None:
    fetch = CountingFetch()
    fetch.error = ConnectionError("catalog down")
    catalog = AsyncCatalog(CatalogCache(clock=FakeClock()), fetch.async_call)
    with pytest.raises(ConnectionError, match="catalog down"):
        await catalog.get("flux-2-dev")


# ------------------------------------------------------------------ a broken answer over HTTP

TINY_PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhg"
    "GAWjR9awAAAABJRU5ErkJggg=="
)
BROKEN_ANSWERS = {
    "bare list": (json.dumps([FLUX]).encode(), "application/json"),
    "string": (b'"flux-2-dev"', "application/json"),
    "data not a list": (json.dumps({"object": "list", "data": FLUX}).encode(), "application/json"),
    "not JSON": (b"<html>502 Bad Gateway</html>", "text/html"),
    "broken JSON": (b'{"object": "list", "data": [', "application/json"),
    "empty": (b"", "application/json"),
}


class _Gateway(QuietHandler):
    """Lists its models in a broken answer; generates fine, and counts what it was sent."""

    answer: tuple[bytes, str] = (b"", "application/json")
    counts: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        self.counts["GET"] = self.counts.get("GET", 0) + 1
        self.reply(*self.answer)

    def do_POST(self) -> None:
        self.read_body()
        self.counts["POST"] = self.counts.get("POST", 0) + 1
        self.reply(json.dumps({"created": 1, "data": [{"b64_json": TINY_PNG_B64}]}).encode())


@pytest.fixture(params=list(BROKEN_ANSWERS.values()), ids=list(BROKEN_ANSWERS))
def gateway(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, int]]]:
    counts: dict[str, int] = {}
    handler = type("Handler", (_Gateway,), {"answer": request.param, "counts": counts})
    with serve(handler) as origin:
        yield f"{origin}/v1", counts


def test_a_broken_answer_raises_from_every_catalog_method(
    gateway: tuple[str, dict[str, int]],
) -> None:
    base_url, counts = gateway
    with af.OpenAI(api_key="sk-air-test", base_url=base_url, max_retries=0, timeout=5) as client:
        with pytest.raises(af.CatalogFormatError, match="the GET /models answer"):
            client.catalog.image_models()
        with pytest.raises(af.CatalogFormatError):
            client.catalog.get("flux-2-dev")
        with pytest.raises(af.CatalogFormatError):
            client.catalog.refresh()
    assert counts["GET"] == 2  # the failure is remembered; refresh() asks again


async def test_a_broken_answer_raises_from_every_async_catalog_method(
    gateway: tuple[str, dict[str, int]],
) -> None:
    base_url, counts = gateway
    async with af.AsyncOpenAI(
        api_key="sk-air-test", base_url=base_url, max_retries=0, timeout=5
    ) as client:
        with pytest.raises(af.CatalogFormatError, match="the GET /models answer"):
            await client.catalog.image_models()
        with pytest.raises(af.CatalogFormatError):
            await client.catalog.get("flux-2-dev")
        with pytest.raises(af.CatalogFormatError):
            await client.catalog.refresh()
    assert counts["GET"] == 2


def test_a_broken_answer_never_blocks_a_generation(gateway: tuple[str, dict[str, int]]) -> None:
    base_url, counts = gateway
    with (
        af.OpenAI(api_key="sk-air-test", base_url=base_url, max_retries=0, timeout=5) as client,
        pytest.warns(af.CapabilityWarning, match="the GET /models answer"),
    ):
        response = client.images.generate(model="flux-2-dev", prompt="x", n=9)
    assert response.data and response.data[0].b64_json == TINY_PNG_B64
    assert counts == {"GET": 1, "POST": 1}


async def test_a_broken_answer_never_blocks_an_async_generation(
    gateway: tuple[str, dict[str, int]],
) -> None:
    base_url, counts = gateway
    async with af.AsyncOpenAI(
        api_key="sk-air-test", base_url=base_url, max_retries=0, timeout=5
    ) as client:
        with pytest.warns(af.CapabilityWarning, match="the GET /models answer"):
            response = await client.images.generate(model="flux-2-dev", prompt="x", n=9)
    assert response.data and response.data[0].b64_json == TINY_PNG_B64
    assert counts == {"GET": 1, "POST": 1}
