"""Tests for airforce_openai._catalog_cache: the single-flight cache and the facades."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from _loopback import QuietHandler, serve

import airforce_openai as af
from airforce_openai._catalog_cache import (
    AsyncCatalog,
    Catalog,
    CatalogCache,
    _FetchAbandoned,
    _Wait,
)

FLUX: dict[str, Any] = {
    "id": "flux-2-dev",
    "output_modalities": ["image"],
    "image_caps": {"max_n": 4, "aspect_ratios": ["1:1", "16:9"]},
    "priceperthousandimages": 300,
}
CHAT: dict[str, Any] = {"id": "gpt-4o-mini", "supports_chat": True, "output_modalities": ["text"]}


def envelope(*entries: object) -> dict[str, Any]:
    return {"object": "list", "data": list(entries)}


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

    async def many_tasks() -> list[dict[str, af.ImageModel]]:
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
    with pytest.raises(af.CatalogFormatError):
        cache.get_sync(fetch)
    with pytest.raises(af.CatalogFormatError):
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
    waited: list[dict[str, af.ImageModel]] = []

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

    old: list[dict[str, af.ImageModel]] = []
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


def test_a_fetch_whose_answer_is_not_json_is_a_remembered_format_error() -> None:
    cache = CatalogCache(clock=FakeClock())
    fetch = CountingFetch()
    fetch.error = json.JSONDecodeError("Expecting value", "<html>", 0)
    with pytest.raises(af.CatalogFormatError, match="not valid JSON") as first:
        cache.get_sync(fetch)
    assert first.value.__cause__ is fetch.error
    with pytest.raises(af.CatalogFormatError) as second:
        cache.get_sync(fetch)
    assert second.value is first.value
    assert fetch.calls == 1


def test_waiting_threads_get_the_very_error_the_fetch_raised() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.2)
    fetch.error = ConnectionError("catalog down")
    results = run_threads([lambda: cache.get_sync(fetch)] * 8)
    assert all(r is fetch.error for r in results), results


async def test_waiting_tasks_get_the_very_error_the_fetch_raised() -> None:
    cache = CatalogCache()
    fetch = CountingFetch(delay=0.05)
    fetch.error = TimeoutError("GET /models timed out")
    results = await asyncio.gather(
        *(cache.get_async(fetch.async_call) for _ in range(8)), return_exceptions=True
    )
    assert all(r is fetch.error for r in results), results


def test_what_a_waiter_makes_of_the_fetch_it_waited_for() -> None:
    cache = CatalogCache(wait_timeout=3)
    future: concurrent.futures.Future[dict[str, af.ImageModel]] = concurrent.futures.Future()
    with pytest.raises(TimeoutError, match="gave up after 3s waiting for the model catalog"):
        cache._waited(_Wait(future))  # still running at the deadline
    future.set_result({})
    assert cache._waited(_Wait(future)) == {}  # done just as the wait ended: the result counts
    abandoned: concurrent.futures.Future[dict[str, af.ImageModel]] = concurrent.futures.Future()
    abandoned.set_exception(_FetchAbandoned())
    assert cache._waited(_Wait(abandoned)) is None  # claim again
    failed: concurrent.futures.Future[dict[str, af.ImageModel]] = concurrent.futures.Future()
    error = TimeoutError("GET /models timed out")
    failed.set_exception(error)
    with pytest.raises(TimeoutError) as info:
        cache._waited(_Wait(failed))
    assert info.value is error


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
