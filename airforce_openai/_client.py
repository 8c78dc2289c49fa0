"""``OpenAI`` / ``AsyncOpenAI`` pointed at api.airforce.

This is the only module that touches the ``openai`` SDK's underscore members;
if the SDK changes, this file changes. What it adds to the stock clients:

- defaults and credential hygiene (``AIRFORCE_*`` settings only, no OpenAI
  credential or ``x-stainless-*`` header ever sent);
- the request hooks (the capability validator first) run once per generation
  call, before anything is sent;
- the gateway's answers made stock: SSE answers and failures inside 200
  answers become normal responses and status errors, ``retry_after`` in the
  body is honoured, and a generation that went out is never re-sent;
- answers are read within bounds: at most ``max_answer_bytes`` decoded bytes,
  a catalog fetch within its deadline, and the caller's own key never echoed
  back in an error.

    >>> client = OpenAI()                      # AIRFORCE_API_KEY from the environment
    >>> response = client.images.generate(model="flux-2-dev", prompt="an otter")
    >>> len(response.data)
    1
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import copy
import inspect
import json
import os
import ssl
import threading
import warnings
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import openai
from openai._base_client import SyncAPIClient, _merge_mappings
from openai._constants import RAW_RESPONSE_HEADER
from openai._models import FinalRequestOptions
from openai._types import NOT_GIVEN, NotGiven, RequestOptions
from openai.types import ImagesResponse

from ._catalog import ImageModel
from ._catalog_cache import AsyncCatalog, Catalog, CatalogCache
from ._compat import http_packages, httpx
from ._exceptions import CapabilityWarning, OutcomeUnknownError, OutcomeUnknownTimeoutError
from ._failures import MAX_RETRY_AFTER_SECONDS, classify_error_body, redact_body, redact_secret
from ._hooks import ImageRequest, RequestHook
from ._results import record_gateway_host
from ._sse import (
    NotAResult,
    StreamFailure,
    StreamIncomplete,
    StreamResult,
    decode_image_stream,
    read_answer,
)
from ._validation import ValidationMode, check_mode, check_request, enforce, refuse_unsendable
from ._values import is_int, is_number
from ._version import __version__

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["DEFAULT_BASE_URL", "AsyncOpenAI", "OpenAI"]

DEFAULT_BASE_URL = "https://api.airforce/v1"
DEFAULT_CATALOG_TTL = 300.0
DEFAULT_MAX_ANSWER_BYTES = 256 * 1024 * 1024
"""256 MiB: ten large images as base64 fit with room to spare; a runaway answer does not."""

_GENERATIONS_PATH = "images/generations"
# A slow or failing catalog delays a generation once, briefly: then it is sent unchecked.
# This is a deadline for the whole fetch (connect, headers, body), not a per-read timeout.
_CATALOG_TIMEOUT = 10.0
_RAW_HEADER = RAW_RESPONSE_HEADER.lower().encode()
# The longest server-given delay honoured as it is; the stock SDK's own limit on 1.x.
_MAX_SERVER_DELAY = 60.0
_TELEMETRY = b"x-stainless"
_USER_AGENT = f"airforce-openai/{__version__} openai-python/{openai.__version__}"
_UNKNOWN_OUTCOME = (
    "the generation request reached the gateway but {what}; the render may have completed "
    "and been billed, so it was not re-sent. Check your usage before trying again."
)


# ---------------------------------------------------------------------------
# Settings


_KeyT = TypeVar("_KeyT")


def _resolve_api_key(api_key: _KeyT | None) -> _KeyT | str:
    if api_key is not None and api_key != "":
        return api_key
    from_environment = os.environ.get("AIRFORCE_API_KEY")
    if not from_environment:
        raise openai.OpenAIError(
            "Missing API key: pass api_key=... or set the AIRFORCE_API_KEY environment variable. "
            "(OPENAI_API_KEY is never read: it belongs to another service.)"
        )
    return from_environment


def _resolve_base_url(base_url: str | httpx.URL | NotGiven | None) -> str | httpx.URL:
    if base_url is None or isinstance(base_url, NotGiven):
        return os.environ.get("AIRFORCE_BASE_URL") or DEFAULT_BASE_URL
    return base_url


_STOCK_PARAMETERS = frozenset(inspect.signature(openai.OpenAI.__init__).parameters)


def _stock_credentials(
    organization: str | None, project: str | None, admin_api_key: str | None
) -> dict[str, Any]:
    """The credential keywords for the installed SDK's constructor.

    ``project`` arrived in openai 1.20 and ``admin_api_key`` in 2.34; asking for one the
    installed SDK lacks is an error that says so, not a ``TypeError`` from deep inside.
    """
    given = {"organization": organization, "project": project, "admin_api_key": admin_api_key}
    for name, value in given.items():
        if name not in _STOCK_PARAMETERS and value is not None:
            raise openai.OpenAIError(
                f"{name}= is not supported by the installed openai {openai.__version__}; "
                f"upgrade openai to use it"
            )
    return {name: value for name, value in given.items() if name in _STOCK_PARAMETERS}


def _check_max_answer_bytes(value: object) -> int:
    if not is_int(value):
        raise TypeError(
            f"max_answer_bytes={value!r} must be a whole number of bytes "
            f"(the default is {DEFAULT_MAX_ANSWER_BYTES}, 256 MiB)"
        )
    if value <= 0:
        raise ValueError(
            f"max_answer_bytes={value!r} must be a positive number of bytes "
            f"(the default is {DEFAULT_MAX_ANSWER_BYTES}, 256 MiB)"
        )
    return value


def _is_generation(method: str, url: str | httpx.URL) -> bool:
    # Not `isinstance(url, httpx.URL)`: under openai 3.x a request built by an `httpx`
    # client (which the SDK accepts too) carries that package's URL class.
    path = url.partition("?")[0] if isinstance(url, str) else url.path
    return method.upper() == "POST" and path.rstrip("/").endswith(_GENERATIONS_PATH)


def _merged_body(options: FinalRequestOptions) -> dict[str, Any]:
    """The JSON body as the SDK will send it: ``json_data`` with ``extra_body`` on top.

    A body given as raw ``content`` (``client.post(..., content=...)``) is read as JSON.
    """
    json_data: Any = options.json_data
    # `content` (a raw body) arrived in openai 2.x; older options have none.
    content = getattr(options, "content", None)
    if json_data is None and isinstance(content, (bytes, bytearray)):
        json_data = _loads(bytes(content))
    if not isinstance(json_data, Mapping):
        json_data = {}
    return _merge_mappings(json_data, options.extra_json or {})


# ---------------------------------------------------------------------------
# The wire: what leaves, and what comes back


def _wire_request(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` without the SDK's ``x-stainless-*`` headers.

    The SDK reads its own ``X-Stainless-Raw-Response`` header back from
    ``response.request``, so only the copy that goes over the wire is stripped.
    """
    # Raw names: iterating the headers decodes each name, and this runs on every send.
    raw = request.headers.raw
    kept = [(name, value) for name, value in raw if not name.lower().startswith(_TELEMETRY)]
    if len(kept) == len(raw):
        return request
    return type(request)(
        request.method,
        request.url,
        headers=kept,
        stream=request.stream,
        extensions=request.extensions,
    )


# A transport failure while a generation is under way may come after the gateway started
# rendering, and billing, it: a timeout or a broken connection while writing or reading, an
# answer that cannot be decoded, a redirect loop... whatever package raised it (openai 3.x
# also sends through an `httpx` client, besides its own `httpx2`; anyio, ssl and the socket
# layer can surface raw). Only these come before any byte of the request leaves: nothing was
# sent, and the SDK's retries are right.
_NOT_SENT_ERRORS = (
    "ConnectError",
    "ConnectTimeout",
    "PoolTimeout",
    "UnsupportedProtocol",
    "ProxyError",
    "LocalProtocolError",  # the request was refused locally, before the gateway saw it
    "InvalidURL",
)
_RAW_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    anyio.EndOfStream,  # the async transport's word for a connection closed mid-answer
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    ssl.SSLError,
    OSError,  # socket errors a custom transport lets through; TimeoutError is one
)
_RAW_NOT_SENT_ERRORS: tuple[type[BaseException], ...] = (
    ssl.SSLCertVerificationError,
    ConnectionRefusedError,
)


def _is_any(exc: BaseException, name: str) -> bool:
    return any(
        isinstance(cls, type) and isinstance(exc, cls)
        for cls in (getattr(module, name, None) for module in http_packages())
    )


def _outcome_unknown(
    exc: BaseException, request: httpx.Request, *, answered: bool
) -> OutcomeUnknownError | None:
    """The error to raise when a generation request went out and then failed, else None.

    ``answered`` is True once the answer's status line came back: then any failure comes
    after the gateway took the request. Before that, only a transport failure counts; an
    error that is no transport's (a test double's refusal, a user's event hook) is no
    sign that anything left, and reaches the caller unchanged.
    """
    if not answered:
        if isinstance(exc, _RAW_NOT_SENT_ERRORS) or any(
            _is_any(exc, name) for name in _NOT_SENT_ERRORS
        ):
            return None
        if not (isinstance(exc, _RAW_TRANSPORT_ERRORS) or _is_any(exc, "RequestError")):
            return None
    if isinstance(exc, TimeoutError) or _is_any(exc, "TimeoutException"):
        return OutcomeUnknownTimeoutError(
            _UNKNOWN_OUTCOME.format(what="no answer came before the timeout"), request=request
        )
    what = "its answer could not be read" if answered else "the connection failed before the answer"
    return OutcomeUnknownError(_UNKNOWN_OUTCOME.format(what=f"{what} ({exc!r})"), request=request)


# ---------------------------------------------------------------------------
# Reading a generation answer within ``max_answer_bytes``

_GZIP_WBITS = zlib.MAX_WBITS | 16
_WBITS = {"gzip": _GZIP_WBITS, "x-gzip": _GZIP_WBITS, "deflate": zlib.MAX_WBITS}
# The most one decompression step may produce: a few KiB of gzip can inflate to gigabytes,
# so the answer is inflated in pieces and counted as it grows, never in one call.
_INFLATE_PIECE = 1024 * 1024


class _Inflater:
    """One gzip or deflate layer of an answer, inflated in bounded pieces."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._decompressor = zlib.decompressobj(_WBITS[coding])
        self._first = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        first, self._first = self._first, False
        try:
            piece = self._decompressor.decompress(data, _INFLATE_PIECE)
        except zlib.error:
            if not (first and self._coding == "deflate"):
                raise
            # "deflate" means zlib-wrapped, but some servers send raw deflate.
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            piece = self._decompressor.decompress(data, _INFLATE_PIECE)
        while piece:
            yield piece
            tail = self._decompressor.unconsumed_tail
            piece = self._decompressor.decompress(tail, _INFLATE_PIECE)

    def flush(self) -> bytes:
        return self._decompressor.flush()


class _AnswerReader:
    """Collects an answer's decoded body, and stops as soon as it passes ``limit`` bytes.

    gzip and deflate (also stacked) are inflated here, piece by piece; any other
    ``Content-Encoding`` is left to the HTTP package (``own_decoding`` is then False,
    and :meth:`add` takes its decoded pieces rather than the raw bytes). An answer whose
    ``Content-Length`` is already past the limit is refused at once.
    """

    def __init__(self, response: httpx.Response, limit: int) -> None:
        header = response.headers.get("content-encoding", "")
        codings = [c.strip().lower() for c in header.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self.own_decoding = all(c in _WBITS for c in codings)
        # The last coding applied is the first undone.
        self._layers = [_Inflater(c) for c in reversed(codings)] if self.own_decoding else []
        self._response = response
        self._limit = limit
        self._size = 0
        self._parts: list[bytes] = []
        # The length on the wire is the decoded length only when nothing is encoded.
        announced = "" if codings else response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > limit:
            raise self._too_large(f"it announced {_size_text(int(announced))}")

    def add(self, chunk: bytes) -> None:
        """The next chunk: raw when ``own_decoding``, else as the HTTP package decoded it."""
        if not self.own_decoding:
            self._add_decoded(chunk)
            return
        for piece in self._through(chunk, 0):
            self._add_decoded(piece)

    def _add_decoded(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            raise self._too_large(f"reading stopped after {_size_text(self._size)}")
        self._parts.append(piece)

    def finish(self) -> None:
        """Flush the layers, then store the body as ``response.read()`` itself would."""
        for index, layer in enumerate(self._layers):
            tail = layer.flush()
            for piece in self._through(tail, index + 1):
                self._add_decoded(piece)
        # From here on the response reads as if it had been read the usual way
        # (`.content`, `.text`, `.json()`, `read()`, `iter_bytes()`).
        cast(Any, self._response)._content = b"".join(self._parts)

    def _through(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[index].feed(data):
            yield from self._through(piece, index + 1)

    def _too_large(self, detail: str) -> OutcomeUnknownError:
        self._parts.clear()
        return _too_large(self._response, self._limit, detail)


def _too_large(response: httpx.Response, limit: int, detail: str) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        _UNKNOWN_OUTCOME.format(
            what=f"its answer is larger than max_answer_bytes={limit} "
            f"({_size_text(limit)}): {detail}"
        ),
        request=response.request,
    )


def _size_text(size: int) -> str:
    return f"{size} bytes" if size < 1024 * 1024 else f"{size} bytes, {size / 2**20:.1f} MiB"


# A twin of `_aread_within`: one iterates the answer, the other iterates it with `async for`.
def _read_within(response: httpx.Response, limit: int) -> None:
    """Read ``response`` (decoded) into memory, or raise once it passes ``limit`` bytes."""
    if response.is_stream_consumed:  # built from bytes: it is in memory already
        response.close()
        _check_in_memory(response, limit)
        return
    try:
        reader = _AnswerReader(response, limit)
        for chunk in response.iter_raw() if reader.own_decoding else response.iter_bytes():
            reader.add(chunk)
        reader.finish()
    finally:
        response.close()


async def _aread_within(response: httpx.Response, limit: int) -> None:
    """:func:`_read_within` for an async response."""
    if response.is_stream_consumed:
        await response.aclose()
        _check_in_memory(response, limit)
        return
    try:
        reader = _AnswerReader(response, limit)
        async for chunk in response.aiter_raw() if reader.own_decoding else response.aiter_bytes():
            reader.add(chunk)
        reader.finish()
    finally:
        await response.aclose()


def _check_in_memory(response: httpx.Response, limit: int) -> None:
    if len(response.content) > limit:
        raise _too_large(response, limit, f"it holds {_size_text(len(response.content))}")


def _release(response: httpx.Response) -> None:
    # The bytes of an answer that has been replaced, and is read no more.
    vars(response).pop("_content", None)


# ---------------------------------------------------------------------------
# Making a generation answer stock


def _replace_response(
    response: httpx.Response,
    *,
    status: int,
    content: bytes,
    retry_after: float | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = httpx.Headers(
        [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-type", "content-length", "content-encoding")
        ]
    )
    headers["content-type"] = content_type
    headers["content-length"] = str(len(content))
    has_header = "retry-after" in headers or "retry-after-ms" in headers
    if retry_after is not None and not has_header and 0 <= retry_after <= MAX_RETRY_AFTER_SECONDS:
        headers["retry-after-ms"] = f"{retry_after * 1000:.0f}"
    replaced = httpx.Response(
        status,
        headers=headers,
        content=content,
        request=response.request,
        extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")},
    )
    with contextlib.suppress(RuntimeError):  # no elapsed time on a hand-built response
        replaced.elapsed = response.elapsed
    return replaced


class _ParsedJson:
    """``response.json`` for an answer already parsed: the first call takes that parse.

    The SDK reads a result with ``response.json()``; a 10 MB answer is parsed once, here,
    and not again there. Later calls (or calls with arguments) parse as usual.
    """

    __slots__ = ("_body", "_content")

    def __init__(self, content: bytes, body: dict[str, Any]) -> None:
        self._content = content
        self._body: dict[str, Any] | None = body

    def __call__(self, **kwargs: Any) -> Any:
        body, self._body = self._body, None
        if body is None or kwargs:
            return json.loads(self._content, **kwargs)
        return body


def _normalise_generation(response: httpx.Response) -> httpx.Response:
    """Turn a (fully read) generation answer into what the stock SDK understands.

    A result comes back as a result (an ``sse: true`` stream as its JSON); a failure,
    reported as an error status or inside a 200, becomes an error response with the status
    it stands for, so the SDK retries it or raises the matching status error, with the
    caller's own key taken out of it. A 200 that is neither (not JSON, not an object, no
    ``data`` list, a stream that ends without a result) is an unknown outcome: the gateway
    took the request and said it succeeded, so it may be billed, and it is not re-sent.
    """
    content = response.content
    if not response.is_success:
        return _error_answer(response, content)
    outcome: StreamResult | StreamFailure | StreamIncomplete | NotAResult
    if "text/event-stream" in response.headers.get("content-type", "").lower():
        outcome = decode_image_stream(content)
        if isinstance(outcome, StreamResult):
            replaced = _replace_response(
                response, status=response.status_code, content=outcome.payload
            )
            if outcome.body is None:
                # A large event, classified by a scan: read it in full now (the SDK would),
                # once the stream's own bytes, as large, are let go.
                del content
                _release(response)
                outcome = read_answer(outcome.payload)
            response = replaced
    else:
        outcome = read_answer(content)
    if isinstance(outcome, StreamResult) and outcome.body is not None:
        cast(Any, response).json = _ParsedJson(outcome.payload, outcome.body)
        return response
    if isinstance(outcome, StreamFailure):
        failure = classify_error_body(outcome.body)
        return _replace_response(
            response,
            status=failure.status,
            content=_error_json(failure.body, response.request),
            retry_after=failure.retry_after,
        )
    if isinstance(outcome, StreamIncomplete):
        what = f"the event stream ended without a result ({outcome.reason})"
    else:
        reason = outcome.reason if isinstance(outcome, NotAResult) else "no result"
        what = f"its {response.status_code} answer is not a result ({reason})"
    raise OutcomeUnknownError(_UNKNOWN_OUTCOME.format(what=what), request=response.request)


def _error_answer(response: httpx.Response, content: bytes) -> httpx.Response:
    """An error status, its body normalised (and without the caller's key)."""
    body = _loads(content)
    if body is None:
        secret = _sent_key(response.request)
        text = content.decode("utf-8", errors="replace")
        redacted = redact_secret(text, secret)
        if redacted == text:
            return response
        return _replace_response(
            response,
            status=response.status_code,
            content=redacted.encode(),
            content_type=response.headers.get("content-type", "text/plain"),
        )
    failure = classify_error_body(body, http_status=response.status_code)
    return _replace_response(
        response,
        status=response.status_code,
        content=_error_json(failure.body, response.request),
        retry_after=failure.retry_after,
    )


def _error_json(body: dict[str, Any], request: httpx.Request) -> bytes:
    return json.dumps(redact_body(body, _sent_key(request))).encode()


def _sent_key(request: httpx.Request) -> str:
    """The key this request carried (whatever the client's key setting is: a callable...)."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def _loads(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _user_stream(request: httpx.Request, stream: bool) -> bool:
    """True when the caller asked the SDK for its own event stream (``stream=True``)."""
    return stream and request.headers.get(RAW_RESPONSE_HEADER) != "stream"


# ---------------------------------------------------------------------------
# Where the SDK sends


_SDK_HAS_SEND_HOOK = hasattr(SyncAPIClient, "_send_request")
"""openai >= 2.31 sends through ``_send_request``, and lets an ``OpenAIError`` raised there
reach the caller unretried. Older lines call their http client's ``send`` directly and
retry whatever it raises: there, :func:`_route_sends` puts the clients' send path in."""

_CARRIED_ERROR = "airforce_openai.error"


def _route_sends(client: OpenAI | AsyncOpenAI) -> None:
    """On an SDK without ``_send_request``, route its http client's ``send`` through ours."""
    if _SDK_HAS_SEND_HOOK:
        return
    routed = cast(Any, client)
    if isinstance(client, OpenAI):
        routed._client = _SyncSendRoute(routed._client, client._send_request)
    else:
        routed._client = _AsyncSendRoute(routed._client, client._send_request)


def _http_client_of(client: OpenAI | AsyncOpenAI) -> Any:
    """The http client the user gave or the SDK built, without a send route around it."""
    http_client = cast(Any, client)._client
    return getattr(http_client, "routed_client", http_client)


def _unretried_error_response(request: httpx.Request, error: OutcomeUnknownError) -> httpx.Response:
    """An answer the old SDKs raise as a status error without retrying; it carries ``error``.

    ``_make_status_error`` hands ``error`` itself to the caller.
    """
    return httpx.Response(
        502,
        headers={"x-should-retry": "false"},
        json={"error": {"message": str(error), "type": "outcome_unknown"}},
        request=request,
        extensions={_CARRIED_ERROR: error},
    )


class _SendRoute:
    """The SDK's http client, whose ``send`` goes through the client's ``_send_request`` first."""

    def __init__(self, routed_client: Any, send: Callable[..., Any]) -> None:
        self.routed_client = routed_client
        self._send = send

    def __getattr__(self, name: str) -> Any:
        return getattr(self.routed_client, name)


# Two subclasses: the SDK calls one `send` and awaits the other.
class _SyncSendRoute(_SendRoute):
    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            response: httpx.Response = self._send(request, **kwargs)
        except OutcomeUnknownError as error:
            return _unretried_error_response(request, error)
        return response


class _AsyncSendRoute(_SendRoute):
    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            response: httpx.Response = await self._send(request, **kwargs)
        except OutcomeUnknownError as error:
            return _unretried_error_response(request, error)
        return response


class _Sending:
    """The steps around one send through the SDK; the clients' ``_send_request`` drive them.

    ``with`` it around the send and the read: a failure after a generation went out
    becomes an ``OutcomeUnknownError`` there (see :func:`_outcome_unknown`).
    """

    __slots__ = ("_answered", "_generation", "_request", "_stream", "wire_request", "wire_stream")

    def __init__(self, request: httpx.Request, stream: bool) -> None:
        self._request = request
        self._stream = stream
        self._generation = _is_generation(request.method, request.url)
        self._answered = False
        self.wire_request = _wire_request(request)
        # A generation's answer is always streamed off the wire and read by the driver,
        # within `max_answer_bytes`; left to the HTTP package, it would be read whole.
        self.wire_stream = stream or self._generation

    def must_read(self, response: httpx.Response) -> bool:
        """True when ``response`` answers a generation, for the driver to read (bounded)."""
        response.request = self._request
        self._answered = self._generation and not _user_stream(self._request, self._stream)
        return self._answered

    def __enter__(self) -> _Sending:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if not self._generation or not isinstance(exc, Exception):
            return
        if isinstance(exc, openai.OpenAIError):
            return  # already the right error: the SDK's, or ours (an answer too large)
        unknown = _outcome_unknown(exc, self._request, answered=self._answered)
        if unknown is not None:
            raise unknown from exc


# ---------------------------------------------------------------------------
# The catalog's deadline


class _CatalogTimeoutError(openai.APITimeoutError):
    """The catalog did not arrive within its deadline (an ``openai.APITimeoutError``)."""

    def __init__(self, seconds: float, *, request: httpx.Request) -> None:
        # APITimeoutError's own __init__ takes no message.
        openai.APIConnectionError.__init__(
            self,
            message=f"the model catalog did not arrive within {seconds:g} seconds",
            request=request,
        )


class _DeadlinePassed(Exception):
    """:func:`_call_within` gave up waiting."""


_T = TypeVar("_T")


def _call_within(seconds: float, call: Callable[[], _T]) -> _T:
    """``call()``, or :class:`_DeadlinePassed` once ``seconds`` have passed.

    A blocking read cannot be interrupted, and a server that trickles a byte just
    before each read timeout never trips one; so ``call`` runs in a helper thread
    (with the caller's context), and the caller stops waiting at the deadline. The
    abandoned call ends on its own, at its next read timeout or when the server stops.
    """
    future: concurrent.futures.Future[_T] = concurrent.futures.Future()
    context = contextvars.copy_context()

    def run() -> None:
        try:
            result = context.run(call)
        except BaseException as exc:  # handed to the caller as it is
            future.set_exception(exc)
        else:
            future.set_result(result)

    threading.Thread(target=run, name="airforce-openai-catalog", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        if future.done():
            raise  # the call itself timed out
        raise _DeadlinePassed from None


# ---------------------------------------------------------------------------
# What the two clients share


class _AirforceClientMixin:
    """Settings, hooks and wire behaviour common to the sync and async clients."""

    _validation: ValidationMode
    _catalog_cache: CatalogCache
    _request_hooks: list[RequestHook]
    _max_answer_bytes: int
    _base_url: httpx.URL
    timeout: Any

    # Each client's own typed signature stands in its class, for mypy; this is the one body.
    def __init__(
        self,
        *,
        api_key: Any = None,
        base_url: str | httpx.URL | NotGiven | None = NOT_GIVEN,
        validation: ValidationMode = "strict",
        catalog_ttl: float = DEFAULT_CATALOG_TTL,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        organization: str | None = None,
        project: str | None = None,
        admin_api_key: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        _catalog_cache: CatalogCache | None = None,
        _request_hooks: tuple[RequestHook, ...] = (),
        **kwargs: Any,
    ) -> None:
        """Build a client: every keyword of the stock client, plus ``validation``,
        ``catalog_ttl`` and ``max_answer_bytes``.

        The key comes from ``api_key`` then ``AIRFORCE_API_KEY``; the base URL from
        ``base_url``, then ``AIRFORCE_BASE_URL``, then ``DEFAULT_BASE_URL``.
        ``OPENAI_*`` environment variables are never read. A generation answer larger than
        ``max_answer_bytes`` (decoded; default 256 MiB) is not read past that size: the call
        raises ``af.OutcomeUnknownError``.
        """
        credentials = _stock_credentials(organization, project, admin_api_key)
        super().__init__(  # type: ignore[call-arg]
            api_key=_resolve_api_key(api_key),
            base_url=_resolve_base_url(base_url),
            default_headers=default_headers,
            **credentials,
            **kwargs,
        )
        if catalog_ttl < 0:
            raise ValueError(f"catalog_ttl={catalog_ttl!r} must be a number of seconds >= 0")
        self._max_answer_bytes = _check_max_answer_bytes(max_answer_bytes)
        self._validation = check_mode(validation)
        self._catalog_cache = _catalog_cache or CatalogCache(ttl=catalog_ttl)
        self._request_hooks = list(_request_hooks)
        # The stock constructor fills these from OPENAI_ORG_ID, OPENAI_PROJECT_ID,
        # OPENAI_ADMIN_KEY and OPENAI_CUSTOM_HEADERS: credentials for another service.
        client = cast(Any, self)
        for name, value in credentials.items():
            setattr(client, name, value)
        client._custom_headers = dict(default_headers or {})
        client._ambient_authorizations = frozenset()
        client.catalog = client._catalog_facade(self._catalog_cache, client._fetch_catalog)
        _route_sends(client)

    @property
    def validation(self) -> ValidationMode:
        """How capability violations are handled: ``"strict"``, ``"warn"`` or ``"off"``."""
        return self._validation

    @property
    def catalog_ttl(self) -> float:
        """Seconds a fetched catalog stays fresh."""
        return self._catalog_cache.ttl

    @property
    def max_answer_bytes(self) -> int:
        """The most bytes a generation answer may hold, decoded; past it, reading stops."""
        return self._max_answer_bytes

    @property
    def request_hooks(self) -> tuple[RequestHook, ...]:
        """The user hooks run after the validator, in order."""
        return tuple(self._request_hooks)

    def add_request_hook(self, hook: RequestHook) -> RequestHook:
        """Run ``hook(request)`` before every generation request, after the validator.

        ``request`` is an ``af.ImageRequest``; an exception the hook raises aborts
        the send and reaches the caller unchanged. Returns ``hook``, so it can be
        used as a decorator. Copies made by ``copy()``/``with_options()`` keep it.
        """
        if not callable(hook):
            raise TypeError(f"add_request_hook() takes a callable, not {type(hook).__name__}")
        self._request_hooks.append(hook)
        return hook

    def remove_request_hook(self, hook: RequestHook) -> None:
        """Stop running ``hook``; a ValueError if it was not registered."""
        self._request_hooks.remove(hook)

    @property
    def user_agent(self) -> str:
        return _USER_AGENT

    def platform_headers(self) -> dict[str, str]:
        # The SDK's platform telemetry (x-stainless-os, -arch, -runtime...) is not sent.
        return {}

    def _build_headers(self, options: FinalRequestOptions, **kwargs: Any) -> httpx.Headers:
        # Later 1.x lines pass `retries_taken=`, earlier ones do not: pass on what is given.
        headers: httpx.Headers = super()._build_headers(options, **kwargs)  # type: ignore[misc]
        # Telemetry never leaves; the raw-response marker is the SDK's own bookkeeping,
        # read back from `response.request`, so it is stripped only on the wire. Built
        # anew from the raw pairs: deleting names one by one costs twice as much.
        return httpx.Headers(
            [
                (name, value)
                for name, value in headers.raw
                if not name.lower().startswith(_TELEMETRY) or name.lower() == _RAW_HEADER
            ]
        )

    def copy(
        self,
        *,
        validation: ValidationMode | NotGiven = NOT_GIVEN,
        catalog_ttl: float | NotGiven = NOT_GIVEN,
        max_answer_bytes: int | NotGiven = NOT_GIVEN,
        **kwargs: Any,
    ) -> Self:
        """A new client with the same settings, hooks and catalog, but for those given.

        Takes every keyword of ``openai.OpenAI.copy``, plus ``validation``, ``catalog_ttl``
        and ``max_answer_bytes``. The catalog is shared while the key and base URL stay the
        same.
        """
        extra = self._copy_kwargs(kwargs, validation, catalog_ttl)
        extra["max_answer_bytes"] = (
            self._max_answer_bytes if isinstance(max_answer_bytes, NotGiven) else max_answer_bytes
        )
        kwargs["http_client"] = kwargs.get("http_client") or _http_client_of(cast(Any, self))
        copied: Self = super().copy(_extra_kwargs=extra, **kwargs)  # type: ignore[misc]
        return copied

    with_options = copy

    def _copy_kwargs(
        self,
        kwargs: dict[str, Any],
        validation: ValidationMode | NotGiven,
        catalog_ttl: float | NotGiven,
    ) -> dict[str, Any]:
        extra = dict(kwargs.pop("_extra_kwargs", None) or {})
        extra["validation"] = self._validation if isinstance(validation, NotGiven) else validation
        ttl = self.catalog_ttl if isinstance(catalog_ttl, NotGiven) else catalog_ttl
        extra["catalog_ttl"] = ttl
        same_catalog = (
            kwargs.get("api_key") is None
            and kwargs.get("base_url") in (None, NOT_GIVEN)
            and ttl == self.catalog_ttl
        )
        if same_catalog:
            # with_options() is often called per request: reuse the fetched catalog.
            extra["_catalog_cache"] = self._catalog_cache
        extra["_request_hooks"] = tuple(self._request_hooks)
        return extra

    def _catalog_deadline(self) -> float:
        """``_CATALOG_TIMEOUT`` seconds, or the client's own timeout when it is shorter."""
        timeout = self.timeout
        return min(float(timeout), _CATALOG_TIMEOUT) if is_number(timeout) else _CATALOG_TIMEOUT

    def _catalog_options(self) -> RequestOptions:
        """One try; no read waits longer than the deadline (which bounds the whole fetch)."""
        return {"max_retries": 0, "timeout": self._catalog_deadline()}

    def _catalog_timeout_error(self, seconds: float) -> openai.APITimeoutError:
        url = cast(Any, self).base_url.join("models")
        return _CatalogTimeoutError(seconds, request=httpx.Request("GET", url))

    def _run_checks(
        self, options: FinalRequestOptions, models: Mapping[str, ImageModel] | None
    ) -> Iterator[tuple[RequestHook, Awaitable[object]]]:
        """Enforce the validation mode on the generation in ``options``, then run the hooks.

        ``models`` is None when the catalog was not consulted (``"off"``, or it could not be
        read): then only what can never be sent is refused. Yields what a hook returned
        that is awaitable, with the hook: the async client awaits it before the next hook
        runs, the sync client refuses it.
        """
        body = _merged_body(options)
        model_info = None
        if models is None:
            refuse_unsendable(body, options.extra_json)
        else:
            report = check_request(body, models)
            enforce(report, self._validation)
            model_info = report.model_info
        for hook in self._request_hooks:
            result = hook(ImageRequest(body=copy.deepcopy(body), model_info=model_info))
            if inspect.isawaitable(result):
                yield hook, result

    def _note_catalog_failure(self, exc: BaseException) -> None:
        warnings.warn(
            f"the model catalog could not be fetched ({exc}); the request was sent unchecked",
            CapabilityWarning,
            stacklevel=4,
        )

    def _make_status_error(
        self, err_msg: str, *, body: object, response: httpx.Response
    ) -> openai.APIStatusError:
        carried = response.extensions.get(_CARRIED_ERROR)
        if isinstance(carried, OutcomeUnknownError):
            # An old SDK's send path answered instead of raising (see `_route_sends`).
            return cast(openai.APIStatusError, carried)  # raised as it is
        error: openai.APIStatusError = super()._make_status_error(  # type: ignore[misc]
            err_msg, body=body, response=response
        )
        return error

    def _calculate_retry_timeout(
        self,
        remaining_retries: int,
        options: FinalRequestOptions,
        response_headers: httpx.Headers | None = None,
    ) -> float:
        try:
            delay = cast(Any, self)._parse_retry_after_header(response_headers)
        except (ValueError, OverflowError, OSError, TypeError):
            # openai 1.x raises on some Retry-After dates ("year 99999 is out of range"):
            # such a header says nothing usable, so the SDK's own backoff applies.
            delay = None
            response_headers = None
        # The gateway says `retry_after: 0` and means it; the stock SDK treats 0 as unset.
        # Past `_MAX_SERVER_DELAY`, or not a number of seconds at all (negative, NaN,
        # infinite), it is the SDK's call: its own backoff, or giving up.
        if (
            delay is not None
            and 0 <= delay <= _MAX_SERVER_DELAY
            and _is_generation(options.method, options.url)
        ):
            return float(delay)
        stock: float = super()._calculate_retry_timeout(  # type: ignore[misc]
            remaining_retries, options, response_headers
        )
        return stock

    def _process_response_data(
        self, *, data: object, cast_to: Any, response: httpx.Response
    ) -> Any:
        # Every parse path (plain, with_raw_response, with_streaming_response) ends here.
        parsed = super()._process_response_data(  # type: ignore[misc]
            data=data, cast_to=cast_to, response=response
        )
        if isinstance(parsed, ImagesResponse):
            # Recorded for `save_images`, which trusts downloads from the gateway's own host.
            # `_base_url`, not the `base_url` property, which costs a microsecond on 3.x.
            record_gateway_host(parsed, self._base_url)
        return parsed


# ---------------------------------------------------------------------------
# The clients


class OpenAI(_AirforceClientMixin, openai.OpenAI):
    """An ``openai.OpenAI`` for api.airforce that checks requests before they are billed.

    >>> client = airforce_openai.OpenAI()      # reads AIRFORCE_API_KEY
    >>> response = client.images.generate(model="flux-2-dev", prompt="an otter",
    ...                                   extra_body=af.image_params(aspect_ratio="16:9"))
    >>> response.data[0].url
    'http://.../image.jpeg'
    """

    catalog: Catalog
    """The gateway's model catalog, fetched on first use and cached for ``catalog_ttl`` seconds."""
    _catalog_facade = Catalog

    if TYPE_CHECKING:  # twins of AsyncOpenAI's: the key and http client types differ

        def __init__(
            self,
            *,
            api_key: str | Callable[[], str] | None = None,
            base_url: str | httpx.URL | NotGiven | None = NOT_GIVEN,
            validation: ValidationMode = "strict",
            catalog_ttl: float = DEFAULT_CATALOG_TTL,
            max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
            organization: str | None = None,
            project: str | None = None,
            admin_api_key: str | None = None,
            default_headers: Mapping[str, str] | None = None,
            http_client: httpx.Client | None = None,
            _catalog_cache: CatalogCache | None = None,
            _request_hooks: tuple[RequestHook, ...] = (),
            **kwargs: Any,
        ) -> None: ...

    def _fetch_catalog(self) -> object:
        seconds = self._catalog_deadline()
        options = self._catalog_options()
        try:
            return _call_within(
                seconds, lambda: self.get("models", cast_to=object, options=options)
            )
        except _DeadlinePassed:
            raise self._catalog_timeout_error(seconds) from None

    # `request`, `_before_generation` and `_send_request` are twins of AsyncOpenAI's: the SDK
    # calls these and awaits those. The steps are shared (`_run_checks`, `_Sending`).
    def request(self, cast_to: Any, options: FinalRequestOptions, **kwargs: Any) -> Any:
        if _is_generation(options.method, options.url):
            self._before_generation(options)
        return super().request(cast_to, options, **kwargs)

    def _before_generation(self, options: FinalRequestOptions) -> None:
        models = None
        if self._validation != "off":
            try:
                models = self._catalog_cache.get_sync(self._fetch_catalog)
            except Exception as exc:
                self._note_catalog_failure(exc)
        for hook, result in self._run_checks(options, models):
            _close_awaitable(result)
            raise TypeError(
                f"request hook {hook!r} is a coroutine function; register it on af.AsyncOpenAI"
            )

    def _send_request(
        self, request: httpx.Request, *, stream: bool, **kwargs: Any
    ) -> httpx.Response:
        send = super()._send_request if _SDK_HAS_SEND_HOOK else _http_client_of(self).send
        with _Sending(request, stream) as sending:
            response = send(sending.wire_request, stream=sending.wire_stream, **kwargs)
            if not sending.must_read(response):
                return response
            _read_within(response, self._max_answer_bytes)
        return _normalise_generation(response)


class AsyncOpenAI(_AirforceClientMixin, openai.AsyncOpenAI):
    """An ``openai.AsyncOpenAI`` for api.airforce that checks requests before they are billed.

    >>> async def main() -> None:
    ...     async with airforce_openai.AsyncOpenAI() as client:
    ...         response = await client.images.generate(model="flux-2-dev", prompt="an otter")
    ...         print(len(response.data))
    >>> asyncio.run(main())
    1
    """

    catalog: AsyncCatalog
    """The gateway's model catalog; every method is awaited."""
    _catalog_facade = AsyncCatalog

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            api_key: str | Callable[[], Awaitable[str]] | None = None,
            base_url: str | httpx.URL | NotGiven | None = NOT_GIVEN,
            validation: ValidationMode = "strict",
            catalog_ttl: float = DEFAULT_CATALOG_TTL,
            max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
            organization: str | None = None,
            project: str | None = None,
            admin_api_key: str | None = None,
            default_headers: Mapping[str, str] | None = None,
            http_client: httpx.AsyncClient | None = None,
            _catalog_cache: CatalogCache | None = None,
            _request_hooks: tuple[RequestHook, ...] = (),
            **kwargs: Any,
        ) -> None: ...

    async def _fetch_catalog(self) -> object:
        seconds = self._catalog_deadline()
        with anyio.move_on_after(seconds):
            return await self.get("models", cast_to=object, options=self._catalog_options())
        raise self._catalog_timeout_error(seconds)

    async def request(self, cast_to: Any, options: FinalRequestOptions, **kwargs: Any) -> Any:
        if _is_generation(options.method, options.url):
            await self._before_generation(options)
        return await super().request(cast_to, options, **kwargs)

    async def _before_generation(self, options: FinalRequestOptions) -> None:
        models = None
        if self._validation != "off":
            try:
                models = await self._catalog_cache.get_async(self._fetch_catalog)
            except Exception as exc:
                self._note_catalog_failure(exc)
        for _, result in self._run_checks(options, models):
            await result

    async def _send_request(
        self, request: httpx.Request, *, stream: bool, **kwargs: Any
    ) -> httpx.Response:
        send = super()._send_request if _SDK_HAS_SEND_HOOK else _http_client_of(self).send
        with _Sending(request, stream) as sending:
            response = await send(sending.wire_request, stream=sending.wire_stream, **kwargs)
            if not sending.must_read(response):
                return response
            await _aread_within(response, self._max_answer_bytes)
        return _normalise_generation(response)


def _close_awaitable(result: Awaitable[Any]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
