"""Many generations at once, a bounded number in flight; one failure never stops the others.

    >>> requests = [{"model": "flux-2-dev", "prompt": prompt} for prompt in prompts]
    >>> results = af.generate_many_sync(client, requests, concurrency=16)  # or: await generate_many
    >>> [r for r in results if isinstance(r, BaseException)]  # the failures, in their slots
    []

Each request is the keyword arguments of one ``client.images.generate(...)`` call.
Results come back in the order of the requests: an ``ImagesResponse``, or the
exception that request raised. Cancelling the batch cancels the requests in flight;
a generation cancelled after it was sent may still be billed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai
from openai.types import ImagesResponse

from ._values import is_int

__all__ = ["DEFAULT_CONCURRENCY", "Progress", "generate_many", "generate_many_sync"]

DEFAULT_CONCURRENCY = 8

Result = ImagesResponse | BaseException


@dataclass(frozen=True)
class Progress:
    """Where a batch stands, reported after each request finishes."""

    done: int
    """Requests finished so far, failed ones included."""
    total: int
    """Requests in the batch."""
    failed: int
    """Finished requests that raised."""
    latest_index: int
    """The position in ``requests`` of the request that just finished."""

    @property
    def succeeded(self) -> int:
        """Finished requests that returned a response."""
        return self.done - self.failed


ProgressCallback = Callable[[Progress], None]


class _Outcomes:
    """Each request's result in its slot, told to ``on_progress``; filled from one thread only."""

    def __init__(self, total: int, on_progress: ProgressCallback | None) -> None:
        self._results: list[Result | None] = [None] * total
        self._done = 0
        self._failed = 0
        self._on_progress = on_progress

    def finished(self, index: int, result: Result) -> None:
        self._results[index] = result
        self._done += 1
        if isinstance(result, BaseException):
            self._failed += 1
        if self._on_progress is not None:
            self._on_progress(Progress(self._done, len(self._results), self._failed, index))

    def results(self) -> list[Result]:
        missing = [index for index, result in enumerate(self._results) if result is None]
        if missing:
            raise RuntimeError(f"requests {missing} finished without a result")  # a bug
        return [result for result in self._results if result is not None]


async def generate_many(
    client: openai.AsyncOpenAI,
    requests: Sequence[Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
) -> list[Result]:
    """Run ``client.images.generate(**request)`` for every request, ``concurrency`` at a time.

    Returns one entry per request, in order: the response, or the exception it raised.
    Arguments are checked before anything is sent. ``on_progress`` runs in the event
    loop after each request; an exception it raises cancels the batch and propagates.
    """
    if not isinstance(client, openai.AsyncOpenAI):
        raise TypeError(
            f"client must be an AsyncOpenAI, not {type(client).__name__}; "
            "use generate_many_sync() with a sync client"
        )
    batch = _check_batch(requests, concurrency, on_progress)
    outcomes = _Outcomes(len(batch), on_progress)
    pending: Iterator[tuple[int, dict[str, Any]]] = iter(enumerate(batch))

    async def worker() -> None:
        # Workers share one iterator: each takes the next request when it is free.
        for index, request in pending:
            result: Result
            try:
                result = await client.images.generate(**request)
            except Exception as exc:
                result = exc
            outcomes.finished(index, result)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(batch)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        if workers:
            # Wait for the cancelled requests to unwind, so no task outlives the call.
            await asyncio.wait(workers)
    return outcomes.results()


def generate_many_sync(
    client: openai.OpenAI,
    requests: Sequence[Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
) -> list[Result]:
    """Like :func:`generate_many`, for a sync client, with a pool of ``concurrency`` threads.

    ``on_progress`` runs in the calling thread. If the call is interrupted (Ctrl-C),
    requests not yet started are dropped; those already sent finish in their threads.
    """
    if not isinstance(client, openai.OpenAI):
        raise TypeError(
            f"client must be an OpenAI (sync) client, not {type(client).__name__}; "
            "use `await generate_many(...)` with an async client"
        )
    batch = _check_batch(requests, concurrency, on_progress)
    if not batch:
        return []
    outcomes = _Outcomes(len(batch), on_progress)
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=min(concurrency, len(batch)), thread_name_prefix="airforce-batch"
    )
    try:
        futures = {
            pool.submit(_generate_sync, client, request): index
            for index, request in enumerate(batch)
        }
        for future in concurrent.futures.as_completed(futures):
            outcomes.finished(futures[future], future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes.results()


def _generate_sync(client: openai.OpenAI, request: dict[str, Any]) -> Result:
    try:
        response: ImagesResponse = client.images.generate(**request)
    except Exception as exc:
        return exc
    return response


def _check_batch(
    requests: object, concurrency: object, on_progress: object
) -> list[dict[str, Any]]:
    """The requests as dicts, once every argument is known to be usable."""
    if not is_int(concurrency) or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    if on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be callable or None, not {type(on_progress).__name__}")
    if isinstance(requests, (str, bytes, Mapping)) or not isinstance(requests, Sequence):
        raise TypeError(
            f"requests must be a sequence of mappings (images.generate keyword arguments), "
            f"not {type(requests).__name__}"
        )
    batch: list[dict[str, Any]] = []
    for index, request in enumerate(requests):
        if not isinstance(request, Mapping):
            raise TypeError(
                f"requests[{index}] must be a mapping of images.generate keyword arguments, "
                f"not {type(request).__name__}"
            )
        keys = [key for key in request if not isinstance(key, str)]
        if keys:
            raise TypeError(f"requests[{index}] has a key that is not a string: {keys[0]!r}")
        if "prompt" not in request:
            raise ValueError(f"requests[{index}] has no 'prompt'")
        batch.append(dict(request))
    return batch
