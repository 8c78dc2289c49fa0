"""Batch generation: order, failures in their slots, bounded concurrency, cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai._batch import Progress, generate_many, generate_many_sync
from airforce_openai.testing import Emulator, Fault

FAULT_HEADER = "X-Emulator-Fault"  # the emulator applies the faults it names to that request


def _requests(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"model": "flux-2-dev", "prompt": f"image {i}", **extra} for i in range(count)]


def _failing(status: int) -> dict[str, Any]:
    return {
        "model": "flux-2-dev",
        "prompt": "doomed",
        "extra_headers": {FAULT_HEADER: Fault.status(status).to_header()},
    }


class _InFlight:
    """Counts the generate calls running at once on a client (the server is real)."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


@pytest.fixture
def slow_emulator() -> Iterator[Emulator]:
    with Emulator(latency=0.05) as emu:
        yield emu


def test_exported_from_the_package() -> None:
    assert af.generate_many is generate_many
    assert af.generate_many_sync is generate_many_sync


# --------------------------------------------------------------------------- async


async def test_results_in_order_with_failures_in_their_slots(
    aclient: af.AsyncOpenAI, emulator: Emulator
) -> None:
    requests = [*_requests(2), _failing(400), *_requests(1), _failing(402)]
    results = await generate_many(aclient, requests, concurrency=3)
    assert len(results) == 5
    assert isinstance(results[2], openai.BadRequestError)
    assert isinstance(results[4], openai.APIStatusError) and results[4].status_code == 402
    for index in (0, 1, 3):
        assert isinstance(results[index], ImagesResponse)
    # Each response answers its own request: the emulator says which prompt it drew.
    prompts = sorted(r.json["prompt"] for r in emulator.generation_requests())
    assert prompts == sorted(["image 0", "image 1", "image 0", "doomed", "doomed"])


async def test_capability_errors_land_in_their_slot(aclient: af.AsyncOpenAI) -> None:
    requests = [*_requests(1), {"model": "flux-2-dev", "prompt": "x", "n": 9}]
    results = await generate_many(aclient, requests)
    assert isinstance(results[0], ImagesResponse)
    assert isinstance(results[1], af.CapabilityError)


async def test_concurrency_is_bounded(slow_emulator: Emulator) -> None:
    counter = _InFlight()
    async with af.AsyncOpenAI(
        api_key=slow_emulator.api_key, base_url=slow_emulator.base_url, max_retries=0
    ) as client:
        real = client.images.generate

        async def counted(**kwargs: Any) -> Any:
            counter.enter()
            try:
                return await real(**kwargs)
            finally:
                counter.leave()

        client.images.generate = counted  # type: ignore[method-assign]
        results = await generate_many(client, _requests(10), concurrency=3)
    assert all(isinstance(r, ImagesResponse) for r in results)
    assert counter.most == 3
    assert len(slow_emulator.generation_requests()) == 10


async def test_progress_is_reported_after_each_request(aclient: af.AsyncOpenAI) -> None:
    seen: list[Progress] = []
    requests = [*_requests(3), _failing(400)]
    await generate_many(aclient, requests, concurrency=2, on_progress=seen.append)
    assert [p.done for p in seen] == [1, 2, 3, 4]
    assert {p.total for p in seen} == {4}
    assert sorted(p.latest_index for p in seen) == [0, 1, 2, 3]
    assert seen[-1].failed == 1
    assert seen[-1].succeeded == 3
    failed_at = next(p for p in seen if p.latest_index == 3)
    assert failed_at.failed >= 1


async def test_empty_batch(aclient: af.AsyncOpenAI) -> None:
    assert await generate_many(aclient, []) == []


@pytest.mark.parametrize("concurrency", [0, -1, True, 2.0, "4"])
async def test_concurrency_must_be_a_positive_int(
    aclient: af.AsyncOpenAI, emulator: Emulator, concurrency: Any
) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await generate_many(aclient, _requests(1), concurrency=concurrency)
    assert emulator.generation_requests() == []


@pytest.mark.parametrize(
    ("requests", "error", "match"),
    [
        ("a prompt", TypeError, "sequence of mappings"),
        ({"prompt": "x"}, TypeError, "sequence of mappings"),
        ([{"prompt": "x"}, "y"], TypeError, r"requests\[1\] must be a mapping"),
        ([{"prompt": "x"}, {1: "y"}], TypeError, r"requests\[1\] has a key"),
        ([{"model": "flux-2-dev"}], ValueError, r"requests\[0\] has no 'prompt'"),
    ],
)
async def test_requests_are_checked_before_anything_is_sent(
    aclient: af.AsyncOpenAI, emulator: Emulator, requests: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        await generate_many(aclient, requests)
    assert emulator.generation_requests() == []


async def test_wrong_client_kind_is_a_type_error(client: af.OpenAI) -> None:
    with pytest.raises(TypeError, match="generate_many_sync"):
        await generate_many(client, _requests(1))  # type: ignore[arg-type]


async def test_cancelling_the_batch_cancels_requests_in_flight() -> None:
    with Emulator(latency=5.0) as emu:
        async with af.AsyncOpenAI(
            api_key=emu.api_key, base_url=emu.base_url, max_retries=0
        ) as client:
            await client.catalog.image_models()
            task = asyncio.ensure_future(generate_many(client, _requests(6), concurrency=3))
            for _ in range(200):
                if len(emu.generation_requests()) == 3:
                    break
                await asyncio.sleep(0.01)
            assert len(emu.generation_requests()) == 3
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert others == []
            assert len(emu.generation_requests()) == 3  # nothing new was started


async def test_a_failing_progress_callback_stops_the_batch(slow_emulator: Emulator) -> None:
    def explode(progress: Progress) -> None:
        raise RuntimeError(f"callback failed at {progress.done}")

    async with af.AsyncOpenAI(
        api_key=slow_emulator.api_key, base_url=slow_emulator.base_url, max_retries=0
    ) as client:
        with pytest.raises(RuntimeError, match="callback failed at 1"):
            await generate_many(client, _requests(8), concurrency=2, on_progress=explode)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == []
    assert len(slow_emulator.generation_requests()) < 8


# --------------------------------------------------------------------------- sync


def test_sync_results_in_order_with_failures(client: af.OpenAI, emulator: Emulator) -> None:
    requests = [*_requests(2), _failing(400), *_requests(1)]
    results = generate_many_sync(client, requests, concurrency=2)
    assert [type(r) for r in results] == [
        ImagesResponse,
        ImagesResponse,
        openai.BadRequestError,
        ImagesResponse,
    ]
    assert len(emulator.generation_requests()) == 4


def test_sync_concurrency_is_bounded_and_progress_is_in_the_caller_thread(
    slow_emulator: Emulator,
) -> None:
    counter = _InFlight()
    threads: set[int] = set()
    seen: list[Progress] = []

    def record(progress: Progress) -> None:
        threads.add(threading.get_ident())
        seen.append(progress)

    with af.OpenAI(
        api_key=slow_emulator.api_key, base_url=slow_emulator.base_url, max_retries=0
    ) as client:
        real = client.images.generate

        def counted(**kwargs: Any) -> Any:
            counter.enter()
            try:
                return real(**kwargs)
            finally:
                counter.leave()

        client.images.generate = counted  # type: ignore[method-assign]
        results = generate_many_sync(client, _requests(9), concurrency=3, on_progress=record)
    assert all(isinstance(r, ImagesResponse) for r in results)
    assert counter.most == 3
    assert threads == {threading.get_ident()}
    assert [p.done for p in seen] == list(range(1, 10))


def test_sync_checks_arguments(client: af.OpenAI, aclient: af.AsyncOpenAI) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        generate_many_sync(client, _requests(1), concurrency=0)
    with pytest.raises(TypeError, match=r"requests\[0\]"):
        generate_many_sync(client, [None])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="await generate_many"):
        generate_many_sync(aclient, _requests(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_progress"):
        generate_many_sync(client, _requests(1), on_progress=3)  # type: ignore[arg-type]
    assert generate_many_sync(client, []) == []
