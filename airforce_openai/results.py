"""Save what a generation returned: decode ``b64_json`` or download ``url``, name files by content.

    >>> response = client.images.generate(model="flux-2-dev", prompt="an otter")
    >>> save_images(response, "out")            # [PosixPath('out/image-0.jpg')]

Files are named ``{prefix}-{index}{ext}``, ``index`` counting the response's
items from 0 and ``ext`` the format sniffed from the bytes (``.png``,
``.jpg``, ``.webp``, ``.gif``, ``.mp3``, ``.mp4``...; ``.bin`` when unknown),
never what a URL or a label claims: the gateway's links all end in
``/image.jpeg`` whatever they serve. An existing file is never overwritten:
the first free name of ``image-0-1.png``, ``image-0-2.png``... is used instead.

An item is saved from its ``b64_json`` when it has one, else from its ``url``.
URLs are fetched with a client of their own (never the client that talks to
the gateway, and with any ``Authorization`` header removed), only over http or
https (a ``data:`` URL is decoded in place), with a timeout for each network
operation, a size cap enforced while reading, and redirects followed only to
http or https. Items that cannot be saved (no data: the gateway returns
``url: null`` when it could not re-host a file; an undecodable ``b64_json``;
a failed download) do not stop the others: once every item has been tried,
:class:`ImageUnavailableError` names each failed index and why, with the
paths that were written in ``.paths``.
"""

from __future__ import annotations

import base64
import binascii
import os
import pathlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import unquote_to_bytes, urlsplit

import anyio
import anyio.to_thread
from openai.types import ImagesResponse

from ._compat import httpx
from ._exceptions import ImageUnavailableError
from ._version import __version__
from .formats import sniff

__all__ = ["DEFAULT_MAX_BYTES", "asave_images", "save_images"]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
"""The largest download :func:`save_images` accepts, in bytes."""
DEFAULT_TIMEOUT = 60.0
"""Seconds allowed for each network operation of a download (connect, each read...)."""
DEFAULT_CONCURRENCY = 8
"""How many downloads :func:`asave_images` runs at once."""

UNKNOWN_EXTENSION = ".bin"
MAX_REDIRECTS = 10
# Bounds the search for a free file name; thousands of results with the same
# prefix in one directory means the caller should pick another prefix.
_MAX_NAME_ATTEMPTS = 1000
_DOWNLOAD_SCHEMES = ("http", "https")
# Credentials meant for the gateway that must never reach a file host, even
# when the caller hands over a client that carries them.
_CREDENTIAL_HEADERS = ("authorization", "openai-organization", "openai-project", "api-key")
_USER_AGENT = f"airforce-openai/{__version__}"


class _ResultItem(Protocol):
    @property
    def url(self) -> str | None: ...

    @property
    def b64_json(self) -> str | None: ...


class _Result(Protocol):
    @property
    def data(self) -> Sequence[_ResultItem] | None: ...


SavableResponse = ImagesResponse | _Result | Mapping[str, Any]
"""An ``ImagesResponse``, any object with ``.data`` items that have ``.url``/``.b64_json``,
or a dict of the same shape."""


_MISSING = object()


class _ItemFailed(Exception):
    """Why one item could not be saved (collected, then reported together)."""


@dataclass(frozen=True)
class _Download:
    """An item whose bytes are behind an http(s) URL."""

    url: str
    host: str


def save_images(
    response: SavableResponse,
    directory: str | os.PathLike[str],
    *,
    prefix: str = "image",
    http_client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[pathlib.Path]:
    """Write every item of a generation result to ``directory``; return the paths in order.

    ``http_client`` is used as given (and left open) for downloads, minus any
    ``Authorization`` header; by default a client is created for the call and
    closed after it. ``timeout`` bounds each network operation (connect, each
    read), ``max_bytes`` the size of each download. Raises
    :class:`ImageUnavailableError` after saving the others if any item fails.
    """
    _check_options(prefix=prefix, timeout=timeout, max_bytes=max_bytes, concurrency=1)
    items = _items(response)
    folder = _prepare_directory(directory)
    paths: list[pathlib.Path | None] = [None] * len(items)
    failures: dict[int, str] = {}

    clients = _LazyClient(http_client, lambda: httpx.Client(**_client_options(timeout)))
    try:
        for index, item in enumerate(items):
            try:
                source = _source(item)
                if isinstance(source, _Download):
                    content = _fetch(clients.get(), source, timeout=timeout, max_bytes=max_bytes)
                else:
                    content = source
            except _ItemFailed as exc:
                failures[index] = str(exc)
                continue
            paths[index] = _write(folder, f"{prefix}-{index}", content)
    finally:
        if clients.created is not None:
            clients.created.close()
    return _finish(paths, failures)


async def asave_images(
    response: SavableResponse,
    directory: str | os.PathLike[str],
    *,
    prefix: str = "image",
    http_client: httpx.AsyncClient | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> list[pathlib.Path]:
    """Like :func:`save_images`, downloading up to ``concurrency`` items at once."""
    _check_options(prefix=prefix, timeout=timeout, max_bytes=max_bytes, concurrency=concurrency)
    items = _items(response)
    folder = await anyio.to_thread.run_sync(_prepare_directory, directory)
    paths: list[pathlib.Path | None] = [None] * len(items)
    failures: dict[int, str] = {}
    # Unexpected errors (a full disk...) are kept per item and the first one
    # re-raised once the others are done, rather than cancelling them.
    errors: dict[int, Exception] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    clients = _LazyClient(http_client, lambda: httpx.AsyncClient(**_client_options(timeout)))

    async def save_one(index: int, item: object) -> None:
        try:
            source = _source(item)
            if isinstance(source, _Download):
                async with limiter:
                    content = await _afetch(
                        clients.get(), source, timeout=timeout, max_bytes=max_bytes
                    )
            else:
                content = source
            paths[index] = await anyio.to_thread.run_sync(
                _write, folder, f"{prefix}-{index}", content
            )
        except _ItemFailed as exc:
            failures[index] = str(exc)
        except Exception as exc:
            errors[index] = exc

    try:
        async with anyio.create_task_group() as group:
            for index, item in enumerate(items):
                group.start_soon(save_one, index, item)
    finally:
        if clients.created is not None:
            await clients.created.aclose()
    if errors:
        raise errors[min(errors)]
    return _finish(paths, failures)


# ---------------------------------------------------------------------------
# What to save


def _items(response: object) -> list[object]:
    if isinstance(response, Mapping):
        data = response.get("data", _MISSING)
    else:
        data = getattr(response, "data", _MISSING)
    if data is None:
        return []
    if data is _MISSING or isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        shown = "no data" if data is _MISSING else f"data of type {type(data).__name__}"
        raise TypeError(
            "response must be an ImagesResponse, or an object or dict with a 'data' list; "
            f"got {type(response).__name__} with {shown}"
        )
    return list(data)


def _field(item: object, name: str) -> object:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _source(item: object) -> bytes | _Download:
    """The bytes of an item, or where to download them; ``_ItemFailed`` when it has neither."""
    b64 = _field(item, "b64_json")
    if b64 is not None and b64 != "":
        if not isinstance(b64, str):
            raise _ItemFailed(f"b64_json is a {type(b64).__name__}, not a string")
        return _decode_base64(b64, what="b64_json")
    url = _field(item, "url")
    if url is None or url == "":
        raise _ItemFailed(
            "no url or b64_json in the response (the gateway sends url: null when it "
            "could not re-host the file)"
        )
    if not isinstance(url, str):
        raise _ItemFailed(f"url is a {type(url).__name__}, not a string")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise _ItemFailed(f"url is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme == "data":
        return _decode_data_url(url.strip())
    if scheme not in _DOWNLOAD_SCHEMES:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise _ItemFailed(f"url has {shown}; only http and https URLs are downloaded")
    if not parts.hostname:
        raise _ItemFailed(f"url {url!r} has no host")
    return _Download(url=url.strip(), host=parts.hostname)


def _decode_base64(text: str, *, what: str) -> bytes:
    if text.startswith("data:"):
        return _decode_data_url(text)
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        content = _decode_base64_leniently(text, what=what)
    if not content:
        raise _ItemFailed(f"{what} is empty")
    return content


def _decode_base64_leniently(text: str, *, what: str) -> bytes:
    # Line breaks, missing padding and the URL-safe alphabet all occur in the wild.
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    altchars = b"-_" if ("-" in compact or "_" in compact) else None
    try:
        return base64.b64decode(compact, altchars=altchars, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _ItemFailed(f"{what} is not valid base64 ({exc})") from None


def _decode_data_url(url: str) -> bytes:
    header, comma, payload = url.partition(",")
    if not comma:
        raise _ItemFailed("url is a data: URL without a ',' before its data")
    if header.lower().endswith(";base64"):
        text = unquote_to_bytes(payload).decode("ascii", errors="replace")
        return _decode_base64(text, what="the data: URL")
    content = unquote_to_bytes(payload)
    if not content:
        raise _ItemFailed("url is an empty data: URL")
    return content


# ---------------------------------------------------------------------------
# Downloading


_ClientT = TypeVar("_ClientT", httpx.Client, httpx.AsyncClient)


class _LazyClient(Generic[_ClientT]):
    """The caller's client, or one made on first use, which the caller of ``created`` closes."""

    def __init__(self, given: _ClientT | None, factory: Callable[[], _ClientT]) -> None:
        self._client: _ClientT | None = given
        self._factory: Callable[[], _ClientT] = factory
        self.created: _ClientT | None = None

    def get(self) -> _ClientT:
        if self._client is None:
            self._client = self.created = self._factory()
        return self._client


def _client_options(timeout: float) -> dict[str, Any]:
    return {
        "timeout": timeout,
        "follow_redirects": False,
        "headers": {"User-Agent": _USER_AGENT},
    }


def _request(client: httpx.Client | httpx.AsyncClient, url: str, timeout: float) -> httpx.Request:
    request = client.build_request("GET", url, timeout=timeout)
    for name in _CREDENTIAL_HEADERS:
        request.headers.pop(name, None)
    return request


def _fetch(client: httpx.Client, source: _Download, *, timeout: float, max_bytes: int) -> bytes:
    url = source.url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            request = _request(client, url, timeout)
            # auth=None: the client's own auth (if any) is not for this host.
            response = client.send(request, stream=True, follow_redirects=False, auth=None)
            try:
                target = _redirect_target(response)
                if target is not None:
                    url = target
                    continue
                _check_response(response, max_bytes)
                buffer = _CappedBuffer(max_bytes)
                for chunk in response.iter_bytes():
                    buffer.add(chunk)
                return buffer.content()
            finally:
                response.close()
    except _ItemFailed as exc:
        raise _ItemFailed(f"download from {source.host} failed: {exc}") from None
    except httpx.TimeoutException:
        raise _ItemFailed(_timed_out(source, timeout)) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _ItemFailed(_network_failure(source, exc)) from None
    raise _ItemFailed(f"download from {source.host} failed: more than {MAX_REDIRECTS} redirects")


async def _afetch(
    client: httpx.AsyncClient, source: _Download, *, timeout: float, max_bytes: int
) -> bytes:
    url = source.url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            request = _request(client, url, timeout)
            response = await client.send(request, stream=True, follow_redirects=False, auth=None)
            try:
                target = _redirect_target(response)
                if target is not None:
                    url = target
                    continue
                _check_response(response, max_bytes)
                buffer = _CappedBuffer(max_bytes)
                chunks: AsyncIterator[bytes] = response.aiter_bytes()
                async for chunk in chunks:
                    buffer.add(chunk)
                return buffer.content()
            finally:
                await response.aclose()
    except _ItemFailed as exc:
        raise _ItemFailed(f"download from {source.host} failed: {exc}") from None
    except httpx.TimeoutException:
        raise _ItemFailed(_timed_out(source, timeout)) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _ItemFailed(_network_failure(source, exc)) from None
    raise _ItemFailed(f"download from {source.host} failed: more than {MAX_REDIRECTS} redirects")


def _redirect_target(response: httpx.Response) -> str | None:
    """Where a redirect points, when it is one; ``_ItemFailed`` if it leaves http(s)."""
    if not response.has_redirect_location:
        return None
    location = response.headers["location"]
    try:
        target = response.url.join(location)
    except httpx.InvalidURL as exc:
        raise _ItemFailed(f"redirected to an invalid URL ({exc})") from None
    if target.scheme not in _DOWNLOAD_SCHEMES:
        raise _ItemFailed(
            f"redirected to a {target.scheme or 'scheme-less'!r} URL; "
            "only http and https are followed"
        )
    return str(target)


def _check_response(response: httpx.Response, max_bytes: int) -> None:
    if not response.is_success:
        reason = response.reason_phrase
        raise _ItemFailed(f"HTTP {response.status_code}{f' {reason}' if reason else ''}")
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise _ItemFailed(f"the file is {int(declared)} bytes, more than max_bytes={max_bytes}")


class _CappedBuffer:
    """Collects a download, refusing to hold more than ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._max_bytes:
            raise _ItemFailed(
                f"the file is larger than max_bytes={self._max_bytes} (stopped reading)"
            )
        self._chunks.append(chunk)

    def content(self) -> bytes:
        if self._size == 0:
            raise _ItemFailed("the file host sent an empty body")
        return b"".join(self._chunks)


def _timed_out(source: _Download, timeout: float) -> str:
    return f"download from {source.host} failed: timed out (timeout={timeout:g} s)"


def _network_failure(source: _Download, exc: Exception) -> str:
    detail = str(exc) or type(exc).__name__
    return f"download from {source.host} failed: {type(exc).__name__}: {detail}"


# ---------------------------------------------------------------------------
# Writing


def _check_options(*, prefix: str, timeout: float, max_bytes: int, concurrency: int) -> None:
    if not isinstance(prefix, str) or not prefix or prefix in (".", ".."):
        raise ValueError(f"prefix must be a non-empty file name, got {prefix!r}")
    separators = {"/", "\\", "\x00", os.sep} | ({os.altsep} if os.altsep else set())
    if any(sep in prefix for sep in separators):
        raise ValueError(f"prefix must be a file name without a directory part, got {prefix!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency <= 0:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")


def _prepare_directory(directory: str | os.PathLike[str]) -> pathlib.Path:
    folder = pathlib.Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"directory {str(folder)!r} exists and is not a directory")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(folder: pathlib.Path, stem: str, content: bytes) -> pathlib.Path:
    """Write ``content`` as ``stem`` + its sniffed extension, under the first free name."""
    media = sniff(content)
    extension = media.extension if media is not None else UNKNOWN_EXTENSION
    for attempt in range(_MAX_NAME_ATTEMPTS):
        path = folder / (f"{stem}{extension}" if attempt == 0 else f"{stem}-{attempt}{extension}")
        try:
            # "x" creates the file or fails: no race can make it overwrite one.
            file = path.open("xb")
        except FileExistsError:
            continue
        try:
            with file:
                file.write(content)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(
        f"no free file name for {stem}{extension} in {str(folder)!r} "
        f"after {_MAX_NAME_ATTEMPTS} attempts; choose another prefix or directory"
    )


def _finish(paths: list[pathlib.Path | None], failures: Mapping[int, str]) -> list[pathlib.Path]:
    if not failures:
        return [path for path in paths if path is not None]
    indexes = sorted(failures)
    lines = "\n".join(f"  - item {index}: {failures[index]}" for index in indexes)
    saved = len(paths) - len(indexes)
    noun = "item" if len(indexes) == 1 else "items"
    message = (
        f"{len(indexes)} of {len(paths)} result {noun} could not be saved "
        f"(indexes {', '.join(map(str, indexes))}); {saved} saved:\n{lines}"
    )
    raise ImageUnavailableError(message, indexes=indexes, paths=paths)
