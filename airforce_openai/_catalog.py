"""The model catalog: lenient parsing of ``GET /v1/models`` and a cache shared by threads and tasks.

Nothing here knows about HTTP: the client hands the cache a ``fetch`` callable.

    >>> models = parse_catalog({"data": [{"id": "flux-2-dev", "output_modalities": ["image"]}]})
    >>> models["flux-2-dev"].is_image
    True
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from ._exceptions import CatalogFormatError

__all__ = [
    "AsyncCatalog",
    "Catalog",
    "CatalogCache",
    "CatalogFormatError",
    "ImageCaps",
    "ImageModel",
    "OutputKind",
    "parse_catalog",
]

logger = logging.getLogger("airforce_openai")

OutputKind = Literal["image", "video", "audio", "text", "unknown"]


@dataclass(frozen=True)
class ImageCaps:
    """What a model accepts, as ``image_caps`` states it; ``None`` means the gateway did not say."""

    max_n: int | None = None
    aspect_ratios: tuple[str, ...] | None = None
    qualities: tuple[str, ...] | None = None
    max_input_images: int | None = None
    supports_url_input: bool | None = None
    supports_seed: bool | None = None


@dataclass(frozen=True)
class ImageModel:
    """One catalog entry: its id, capabilities, price and the raw entry as sent."""

    id: str
    caps: ImageCaps = field(default_factory=ImageCaps)
    price_per_image_usd: float | None = None
    output: OutputKind = "unknown"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_image(self) -> bool:
        """True when the entry is detected as an image model."""
        return self.output == "image"

    @property
    def is_text_only(self) -> bool:
        """True when the entry says the model produces only text (a chat model)."""
        return self.output == "text"


# --------------------------------------------------------------------------- parsing

_AUDIO_WORDS = frozenset({"audio", "music", "speech", "sfx"})
_TEXT_WORDS = frozenset({"text", "chat"})
_INT_CAPS = ("max_n", "max_input_images")
_STR_TUPLE_CAPS = ("aspect_ratios", "qualities")
_BOOL_CAPS = ("supports_url_input", "supports_seed")
_TRUE_WORDS = frozenset({"true", "yes", "1"})
_FALSE_WORDS = frozenset({"false", "no", "0"})
_ENVELOPE = "a JSON object {'object': 'list', 'data': [...]}"


class _Hopeless(Exception):
    """A field value that cannot be coerced to what the field means."""


def parse_catalog(payload: object) -> dict[str, ImageModel]:
    """Every model the ``GET /models`` payload lists, by id, in the order listed.

    ``payload`` is the decoded answer, ``{"object": "list", "data": [...]}``, or its text
    when the SDK could not tell it was JSON. Malformed entries are skipped with a warning
    on the ``airforce_openai`` logger; an answer with no usable ``data`` list (a bare list,
    a string, non-JSON text, ``data`` missing or not a list) raises ``CatalogFormatError``.
    """
    entries = _entries(payload)
    models: dict[str, ImageModel] = {}
    for index, entry in enumerate(entries):
        model = _parse_entry(index, entry)
        if model is None:
            continue
        if model.id in models:
            logger.warning(
                "catalog entry %d repeats model id %r; the first entry is kept", index, model.id
            )
            continue
        models[model.id] = model
    return models


def _entries(payload: object) -> list[Any]:
    if isinstance(payload, str):
        # Served with a non-JSON content type, the answer reaches us as text.
        text = payload
        try:
            payload = json.loads(text)
        except ValueError:
            raise CatalogFormatError(
                f"the GET /models answer is not JSON: {_excerpt(text)}; expected {_ENVELOPE}"
            ) from None
    if not isinstance(payload, Mapping):
        raise CatalogFormatError(
            f"the GET /models answer is {_type_name(payload)}, expected {_ENVELOPE}"
        )
    if "data" not in payload:
        raise CatalogFormatError(f"the GET /models answer has no 'data' key; expected {_ENVELOPE}")
    data = payload["data"]
    if not isinstance(data, list):
        raise CatalogFormatError(
            f"the GET /models answer's 'data' is {_type_name(data)}, expected a list of models"
        )
    return data


def _excerpt(text: str, limit: int = 60) -> str:
    shown = " ".join(text.split())
    if not shown:
        return "an empty body"
    return repr(shown if len(shown) <= limit else shown[:limit] + "...")


def _parse_entry(index: int, entry: object) -> ImageModel | None:
    if not isinstance(entry, Mapping):
        logger.warning("catalog entry %d is %s, not an object; skipped", index, _type_name(entry))
        return None
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        logger.warning("catalog entry %d has no string 'id' (got %r); skipped", index, model_id)
        return None
    output = _detect_output(entry)
    try:
        caps = _parse_caps(model_id, entry, output)
    except _Hopeless as exc:
        logger.warning("catalog entry %d (%r): %s; skipped", index, model_id, exc)
        return None
    return ImageModel(
        id=model_id,
        caps=caps,
        price_per_image_usd=_price_per_image_usd(entry),
        output=output,
        raw=dict(entry),
    )


def _detect_output(entry: Mapping[str, Any]) -> OutputKind:
    # The catalog has drifted: newer entries state output_modalities, older ones only
    # media_type or supports_images, so the fields are consulted newest first.
    modalities = _words(entry.get("output_modalities"))
    if "image" in modalities:
        return "image"
    if "video" in modalities:
        return "video"
    if modalities & _AUDIO_WORDS:
        return "audio"
    if modalities and modalities <= _TEXT_WORDS:
        return "text"

    media_type = entry.get("media_type")
    media = media_type.strip().lower() if isinstance(media_type, str) else None
    if media == "image":
        return "image"
    if media == "video":
        return "video"
    if media in _AUDIO_WORDS:
        return "audio"

    if entry.get("supports_images") is True:
        return "image"
    says_otherwise = bool(modalities) or (media is not None and media not in _TEXT_WORDS)
    if entry.get("supports_chat") is True and not says_otherwise:
        return "text"
    return "unknown"


def _words(value: object) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return frozenset()
    return frozenset(item.strip().lower() for item in value if isinstance(item, str))


def _parse_caps(model_id: str, entry: Mapping[str, Any], output: OutputKind) -> ImageCaps:
    raw = _caps_source(entry, output)
    if raw is None:
        return ImageCaps()
    values: dict[str, Any] = {}
    for name, coerce in _CAP_COERCERS:
        value = raw.get(name)
        if value is None:
            continue
        try:
            values[name] = coerce(value)
        except _Hopeless as exc:
            logger.warning("catalog model %r: caps field %r %s; ignored", model_id, name, exc)
    return ImageCaps(**values)


def _caps_source(entry: Mapping[str, Any], output: OutputKind) -> Mapping[str, Any] | None:
    keys = ["image_caps"]
    if output == "video":
        keys += ["video_caps", "audio_caps"]
    elif output == "audio":
        keys += ["audio_caps", "video_caps"]
    for key in keys:
        value = entry.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            # Some serialisers send a nested object as a JSON string.
            try:
                value = json.loads(value)
            except ValueError:
                raise _Hopeless(f"{key!r} is a string that is not a JSON object") from None
        if isinstance(value, Mapping):
            return value
        raise _Hopeless(f"{key!r} is {_type_name(value)}, expected an object")
    return None


def _coerce_int(value: object) -> int:
    number: int
    if isinstance(value, bool):
        raise _Hopeless(f"is a boolean ({value!r}), expected an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            try:
                as_float = float(value.strip())
            except ValueError:
                raise _Hopeless(f"is {value!r}, expected an integer") from None
            if not as_float.is_integer():
                raise _Hopeless(f"is {value!r}, expected an integer") from None
            number = int(as_float)
    else:
        raise _Hopeless(f"is {_type_name(value)} {value!r}, expected an integer")
    if number < 0:
        raise _Hopeless(f"is {value!r}, expected an integer >= 0")
    return number


def _coerce_str_tuple(value: object) -> tuple[str, ...] | None:
    items: Iterable[object]
    if isinstance(value, str):
        # A comma-separated string is how a few older entries list their values.
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise _Hopeless(f"is {_type_name(value)}, expected a list of strings")
    result: list[str] = []
    for item in items:
        if isinstance(item, str):
            text = item.strip()
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            text = str(item)
        else:
            raise _Hopeless(f"holds {_type_name(item)} {item!r}, expected strings")
        if text:
            result.append(text)
    # An empty list states nothing the validator could enforce.
    return tuple(result) or None


def _coerce_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _Hopeless(f"is {_type_name(value)} {value!r}, expected true or false")


_CAP_COERCERS: tuple[tuple[str, Callable[[object], Any]], ...] = (
    *((name, _coerce_int) for name in _INT_CAPS),
    *((name, _coerce_str_tuple) for name in _STR_TUPLE_CAPS),
    *((name, _coerce_bool) for name in _BOOL_CAPS),
)


def _price_per_image_usd(entry: Mapping[str, Any]) -> float | None:
    # Every catalog price is in cents: priceperthousandimages per 1,000 images,
    # price_per_generation_cents per generation.
    per_thousand = _cents(entry.get("priceperthousandimages"))
    if per_thousand is not None:
        return per_thousand / 100 / 1000
    per_generation = _cents(entry.get("price_per_generation_cents"))
    if per_generation is not None:
        return per_generation / 100
    return None


def _cents(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


# --------------------------------------------------------------------------- the cache

DEFAULT_WAIT_TIMEOUT = 120.0


def _decoded(fetch: Callable[[], object]) -> object:
    try:
        return fetch()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _not_json(exc) from exc


async def _adecoded(fetch: Callable[[], Awaitable[object]]) -> object:
    try:
        return await fetch()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _not_json(exc) from exc


def _not_json(exc: ValueError) -> CatalogFormatError:
    # The SDK raises the decoder's own error for a JSON-labelled answer that is not JSON.
    return CatalogFormatError(f"the GET /models answer is not valid JSON: {exc}")


class _FetchAbandoned(Exception):
    """The caller that was fetching stopped (cancelled or interrupted) before an outcome."""


@dataclass(frozen=True)
class _Fresh:
    models: dict[str, ImageModel]


@dataclass(frozen=True)
class _Failed:
    error: BaseException
    traceback: TracebackType | None


@dataclass(frozen=True)
class _Wait:
    future: concurrent.futures.Future[dict[str, ImageModel]]


@dataclass(frozen=True)
class _Fetch:
    future: concurrent.futures.Future[dict[str, ImageModel]]
    generation: int


_Claim = _Fresh | _Failed | _Wait | _Fetch


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
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}={value!r} must be a number of seconds >= 0")
        self._ttl = float(ttl)
        self._retry_failed_after = float(retry_failed_after)
        self._wait_timeout = float(wait_timeout)
        self._clock = clock
        # Held only to read or swap the fields below: never across a fetch or an await.
        self._lock = threading.Lock()
        self._models: dict[str, ImageModel] | None = None
        self._fetched_at = 0.0
        self._failure: BaseException | None = None
        self._failure_traceback: TracebackType | None = None
        self._failed_at = 0.0
        self._inflight: concurrent.futures.Future[dict[str, ImageModel]] | None = None
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

    def get_sync(self, fetch: Callable[[], object]) -> dict[str, ImageModel]:
        """The cached catalog, or the one ``fetch()`` returns when stale (shared: do not mutate)."""
        deadline = time.monotonic() + self._wait_timeout
        while True:
            claim = self._claim()
            if isinstance(claim, _Fresh):
                return claim.models
            if isinstance(claim, _Failed):
                # The original traceback, so re-raising does not grow it on every call.
                raise claim.error.with_traceback(claim.traceback)
            if isinstance(claim, _Fetch):
                return self._fetch_sync(claim, fetch)
            try:
                return claim.future.result(timeout=max(0.0, deadline - time.monotonic()))
            except _FetchAbandoned:
                continue
            except concurrent.futures.TimeoutError:
                if claim.future.done():
                    raise  # the fetch itself failed with a timeout
                raise self._timeout_error() from None

    async def get_async(self, fetch: Callable[[], Awaitable[object]]) -> dict[str, ImageModel]:
        """The cached catalog, or the one ``await fetch()`` returns when stale (shared)."""
        deadline = time.monotonic() + self._wait_timeout
        while True:
            claim = self._claim()
            if isinstance(claim, _Fresh):
                return claim.models
            if isinstance(claim, _Failed):
                # The original traceback, so re-raising does not grow it on every call.
                raise claim.error.with_traceback(claim.traceback)
            if isinstance(claim, _Fetch):
                return await self._fetch_async(claim, fetch)
            waiter = asyncio.wrap_future(claim.future)
            try:
                return await asyncio.wait_for(waiter, max(0.0, deadline - time.monotonic()))
            except _FetchAbandoned:
                continue
            except asyncio.TimeoutError:
                if waiter.done() and not waiter.cancelled():
                    raise  # the fetch itself failed with a timeout
                raise self._timeout_error() from None

    def _claim(self) -> _Claim:
        with self._lock:
            now = self._clock()
            if self._models is not None and now - self._fetched_at < self._ttl:
                return _Fresh(self._models)
            if self._failure is not None:
                if now - self._failed_at < self._retry_failed_after:
                    return _Failed(self._failure, self._failure_traceback)
                self._failure = None
            if self._inflight is not None:
                return _Wait(self._inflight)
            future: concurrent.futures.Future[dict[str, ImageModel]] = concurrent.futures.Future()
            # A running future cannot be cancelled, so a waiter that is itself cancelled
            # (asyncio.wrap_future forwards cancellation) cannot cancel the shared fetch.
            future.set_running_or_notify_cancel()
            self._inflight = future
            return _Fetch(future, self._generation)

    def _fetch_sync(self, claim: _Fetch, fetch: Callable[[], object]) -> dict[str, ImageModel]:
        try:
            models = parse_catalog(_decoded(fetch))
        except Exception as exc:
            self._settle_failure(claim, exc)
            raise
        except BaseException:
            self._abandon(claim)
            raise
        self._settle(claim, models)
        return models

    async def _fetch_async(
        self, claim: _Fetch, fetch: Callable[[], Awaitable[object]]
    ) -> dict[str, ImageModel]:
        try:
            models = parse_catalog(await _adecoded(fetch))
        except Exception as exc:
            self._settle_failure(claim, exc)
            raise
        except BaseException:
            # Cancelled or interrupted: waiters are released to fetch again themselves.
            self._abandon(claim)
            raise
        self._settle(claim, models)
        return models

    def _settle(self, claim: _Fetch, models: dict[str, ImageModel]) -> None:
        with self._lock:
            if self._inflight is claim.future:
                self._inflight = None
            if claim.generation == self._generation:
                self._models = models
                self._fetched_at = self._clock()
                self._failure = None
        claim.future.set_result(models)

    def _settle_failure(self, claim: _Fetch, exc: Exception) -> None:
        with self._lock:
            if self._inflight is claim.future:
                self._inflight = None
            if claim.generation == self._generation:
                self._failure = exc
                self._failure_traceback = exc.__traceback__
                self._failed_at = self._clock()
        claim.future.set_exception(exc)

    def _abandon(self, claim: _Fetch) -> None:
        with self._lock:
            if self._inflight is claim.future:
                self._inflight = None
        claim.future.set_exception(_FetchAbandoned())

    def _timeout_error(self) -> TimeoutError:
        return TimeoutError(
            f"gave up after {self._wait_timeout:g}s waiting for the model catalog"
            " (GET /models) that another caller is fetching"
        )


# --------------------------------------------------------------------------- facades


class Catalog:
    """The image models the gateway lists, cached; `client.catalog` on `af.OpenAI`.

    Every method fetches when the cache is stale, and raises what the fetch raised:
    ``CatalogFormatError`` for an answer with no usable ``data`` list, the SDK's own
    errors for a failed request.
    """

    def __init__(self, cache: CatalogCache, fetch: Callable[[], object]) -> None:
        self._cache = cache
        self._fetch = fetch

    def models(self) -> dict[str, ImageModel]:
        """Every listed entry by id (chat, audio and video models too)."""
        return dict(self._cache.get_sync(self._fetch))

    def image_models(self) -> list[ImageModel]:
        """The entries detected as image models, in catalog order."""
        return [model for model in self._cache.get_sync(self._fetch).values() if model.is_image]

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

    async def models(self) -> dict[str, ImageModel]:
        """Every listed entry by id (chat, audio and video models too)."""
        return dict(await self._cache.get_async(self._fetch))

    async def image_models(self) -> list[ImageModel]:
        """The entries detected as image models, in catalog order."""
        models = await self._cache.get_async(self._fetch)
        return [model for model in models.values() if model.is_image]

    async def get(self, model_id: str) -> ImageModel | None:
        """The entry of any listed model, or ``None`` when the catalog does not list it."""
        return (await self._cache.get_async(self._fetch)).get(model_id)

    async def refresh(self) -> None:
        """Drop the cached catalog and fetch it again now."""
        self._cache.invalidate()
        await self._cache.get_async(self._fetch)
