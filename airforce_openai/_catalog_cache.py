"""The catalog cache, shared by threads and tasks, and the two facades that read it.

Nothing here knows about HTTP: the client hands the cache a ``fetch`` callable. The
decisions (``_claim``, ``_fetching``, ``_waited``) are shared; ``get_sync`` and
``get_async`` only drive them, doing the call or the await, as tenacity's loops do.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

from ._catalog import ImageModel, parse_catalog
from ._exceptions import CatalogFormatError
from ._values import is_number

__all__ = ["AsyncCatalog", "Catalog", "CatalogCache"]

DEFAULT_WAIT_TIMEOUT = 120.0

_Models = dict[str, ImageModel]
_Future = concurrent.futures.Future[_Models]


class _FetchAbandoned(Exception):
    """The caller that was fetching stopped (cancelled or interrupted) before an outcome."""


@dataclass(frozen=True)
class _Wait:
    future: _Future


@dataclass(frozen=True)
class _Fetch:
    future: _Future
    generation: int


class CatalogCache:
    """A parsed catalog kept for ``ttl`` seconds; one fetch at a time over threads and tasks.

    A failed fetch is remembered for ``retry_failed_after`` seconds: callers in that
    window get the same exception at once. Waiting for another caller's fetch gives
    up after ``wait_timeout`` seconds with a ``TimeoutError``.
    """

    def __init__(
        self,
        ttl: float = 300.0,
        *,
        retry_failed_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        for name, value in (
            ("ttl", ttl),
            ("retry_failed_after", retry_failed_after),
            ("wait_timeout", wait_timeout),
        ):
            if not is_number(value) or value < 0:
                raise ValueError(f"{name}={value!r} must be a number of seconds >= 0")
        self._ttl = float(ttl)
        self._retry_failed_after = float(retry_failed_after)
        self._wait_timeout = float(wait_timeout)
        self._clock = clock
        # Held only to read or swap the fields below: never across a fetch or an await.
        self._lock = threading.Lock()
        self._models: _Models | None = None
        self._fetched_at = 0.0
        self._failure: BaseException | None = None
        self._failure_traceback: TracebackType | None = None
        self._failed_at = 0.0
        self._inflight: _Future | None = None
        self._generation = 0

    @property
    def ttl(self) -> float:
        """Seconds a fetched catalog stays fresh."""
        return self._ttl

    def invalidate(self) -> None:
        """Forget the cached catalog and any remembered failure; the next call fetches."""
        with self._lock:
            self._generation += 1
            self._models = None
            self._failure = None
            # A fetch already running still answers its own waiters, but its result
            # predates the invalidation, so it is not cached and new callers start anew.
            self._inflight = None

    def get_sync(self, fetch: Callable[[], object]) -> _Models:
        """The cached catalog, or the one ``fetch()`` returns when stale (shared: do not mutate)."""
        deadline = time.monotonic() + self._wait_timeout
        while True:
            claim = self._claim()
            if isinstance(claim, _Fetch):
                with self._fetching(claim):
                    models = parse_catalog(fetch())
                return self._settle(claim, models)
            if not isinstance(claim, _Wait):
                return claim
            concurrent.futures.wait((claim.future,), max(0.0, deadline - time.monotonic()))
            waited = self._waited(claim)
            if waited is not None:
                return waited

    async def get_async(self, fetch: Callable[[], Awaitable[object]]) -> _Models:
        """The cached catalog, or the one ``await fetch()`` returns when stale (shared)."""
        deadline = time.monotonic() + self._wait_timeout
        while True:
            claim = self._claim()
            if isinstance(claim, _Fetch):
                with self._fetching(claim):
                    models = parse_catalog(await fetch())
                return self._settle(claim, models)
            if not isinstance(claim, _Wait):
                return claim
            with contextlib.suppress(Exception):  # `_waited` reads the outcome
                waiter = asyncio.wrap_future(claim.future)
                await asyncio.wait_for(waiter, max(0.0, deadline - time.monotonic()))
            waited = self._waited(claim)
            if waited is not None:
                return waited

    def _claim(self) -> _Models | _Wait | _Fetch:
        """The fresh catalog, a fetch to wait for or one to make; a remembered failure raises."""
        with self._lock:
            now = self._clock()
            if self._models is not None and now - self._fetched_at < self._ttl:
                return self._models
            if self._failure is not None:
                if now - self._failed_at < self._retry_failed_after:
                    # The original traceback, so re-raising does not grow it on every call.
                    raise self._failure.with_traceback(self._failure_traceback)
                self._failure = None
            if self._inflight is not None:
                return _Wait(self._inflight)
            future: _Future = concurrent.futures.Future()
            # A running future cannot be cancelled, so a waiter that is itself cancelled
            # (asyncio.wrap_future forwards cancellation) cannot cancel the shared fetch.
            future.set_running_or_notify_cancel()
            self._inflight = future
            return _Fetch(future, self._generation)

    def _waited(self, claim: _Wait) -> _Models | None:
        """What the fetch waited on gave: its catalog, its error raised, or None to claim anew."""
        if not claim.future.done():
            raise TimeoutError(
                f"gave up after {self._wait_timeout:g}s waiting for the model catalog"
                " (GET /models) that another caller is fetching"
            )
        if isinstance(claim.future.exception(), _FetchAbandoned):
            return None
        return claim.future.result()  # the fetch's own error, a TimeoutError too, raises here

    @contextlib.contextmanager
    def _fetching(self, claim: _Fetch) -> Iterator[None]:
        """Settle ``claim`` with what the fetch in its block raises.

        A failure is shared with the waiters and remembered; an interruption (cancelled,
        KeyboardInterrupt) sends the waiters to fetch anew.
        """
        try:
            yield
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # The SDK raises the decoder's own error for a JSON-labelled answer that is not JSON.
            error = CatalogFormatError(f"the GET /models answer is not valid JSON: {exc}")
            self._fail(claim, error, remember=True)
            raise error from exc
        except Exception as exc:
            self._fail(claim, exc, remember=True)
            raise
        except BaseException:
            self._fail(claim, _FetchAbandoned(), remember=False)
            raise

    def _settle(self, claim: _Fetch, models: _Models) -> _Models:
        with self._lock:
            if self._inflight is claim.future:
                self._inflight = None
            if claim.generation == self._generation:
                self._models = models
                self._fetched_at = self._clock()
                self._failure = None
        claim.future.set_result(models)
        return models

    def _fail(self, claim: _Fetch, error: Exception, *, remember: bool) -> None:
        with self._lock:
            if self._inflight is claim.future:
                self._inflight = None
            if remember and claim.generation == self._generation:
                self._failure = error
                self._failure_traceback = error.__traceback__
                self._failed_at = self._clock()
        claim.future.set_exception(error)


class Catalog:
    """The image models the gateway lists, cached; `client.catalog` on `af.OpenAI`.

    Every method fetches when the cache is stale, and raises what the fetch raised:
    ``CatalogFormatError`` for an answer with no usable ``data`` list, the SDK's own
    errors for a failed request.
    """

    def __init__(self, cache: CatalogCache, fetch: Callable[[], object]) -> None:
        self._cache = cache
        self._fetch = fetch

    def models(self) -> _Models:
        """Every listed entry by id (chat, audio and video models too)."""
        return dict(self._cache.get_sync(self._fetch))

    def image_models(self) -> list[ImageModel]:
        """The entries detected as image models, in catalog order."""
        return _image_models(self._cache.get_sync(self._fetch))

    def get(self, model_id: str) -> ImageModel | None:
        """The entry of any listed model, or ``None`` when the catalog does not list it."""
        return self._cache.get_sync(self._fetch).get(model_id)

    def refresh(self) -> None:
        """Drop the cached catalog and fetch it again now."""
        self._cache.invalidate()
        self._cache.get_sync(self._fetch)


class AsyncCatalog:
    """The image models the gateway lists, cached; `client.catalog` on `af.AsyncOpenAI`.

    Every method is awaited and raises as :class:`Catalog`'s do.
    """

    def __init__(self, cache: CatalogCache, fetch: Callable[[], Awaitable[object]]) -> None:
        self._cache = cache
        self._fetch = fetch

    async def models(self) -> _Models:
        """Every listed entry by id (chat, audio and video models too)."""
        return dict(await self._cache.get_async(self._fetch))

    async def image_models(self) -> list[ImageModel]:
        """The entries detected as image models, in catalog order."""
        return _image_models(await self._cache.get_async(self._fetch))

    async def get(self, model_id: str) -> ImageModel | None:
        """The entry of any listed model, or ``None`` when the catalog does not list it."""
        return (await self._cache.get_async(self._fetch)).get(model_id)

    async def refresh(self) -> None:
        """Drop the cached catalog and fetch it again now."""
        self._cache.invalidate()
        await self._cache.get_async(self._fetch)


def _image_models(models: _Models) -> list[ImageModel]:
    return [model for model in models.values() if model.is_image]
