"""``OpenAI`` / ``AsyncOpenAI`` pointed at api.airforce.

This is the only module that touches the ``openai`` SDK's underscore members;
if the SDK changes, this file changes. What it adds to the stock clients:

- defaults and credential hygiene (``AIRFORCE_*`` settings only, no OpenAI
  credential or ``x-stainless-*`` header ever sent);
- the request hooks (the capability validator first) run once per generation
  call, before anything is sent;
- the gateway's answers made stock: SSE answers and failures inside 200
  answers become normal responses and status errors, ``retry_after`` in the
  body is honoured, and a generation that went out is never re-sent.

    >>> client = OpenAI()                      # AIRFORCE_API_KEY from the environment
    >>> client.images.generate(model="flux-2-dev", prompt="an otter")
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import os
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import openai
from openai._base_client import SyncAPIClient, _merge_mappings
from openai._constants import RAW_RESPONSE_HEADER
from openai._models import FinalRequestOptions
from openai._types import NOT_GIVEN, NotGiven, RequestOptions

from ._compat import httpx
from ._exceptions import CapabilityWarning, OutcomeUnknownError, OutcomeUnknownTimeoutError
from ._version import __version__
from .catalog import AsyncCatalog, Catalog, CatalogCache, ImageModel
from .failures import classify_error_body, failure_in_body
from .hooks import ImageRequest, RequestHook, ValidationMode, check_mode, enforce
from .sse import LARGE_EVENT_BYTES, StreamFailure, StreamResult, decode_image_stream
from .validation import check_request

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["DEFAULT_BASE_URL", "AsyncOpenAI", "OpenAI"]

DEFAULT_BASE_URL = "https://api.airforce/v1"
DEFAULT_CATALOG_TTL = 300.0

_GENERATIONS_PATH = "images/generations"
# A slow or failing catalog delays a generation once, briefly: then it is sent unchecked.
_CATALOG_TIMEOUT = 10.0
_RAW_HEADER = RAW_RESPONSE_HEADER.lower()
_TELEMETRY = "x-stainless"
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


def _user_agent() -> str:
    return f"airforce-openai/{__version__} openai-python/{openai.__version__}"


def _is_generation(method: str, url: str | httpx.URL) -> bool:
    path = url.path if isinstance(url, httpx.URL) else url.partition("?")[0]
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
    if not any(name.startswith(_TELEMETRY) for name in request.headers):
        return request
    kept = [(k, v) for k, v in request.headers.multi_items() if not _is_telemetry(k)]
    return type(request)(
        request.method,
        request.url,
        headers=kept,
        stream=request.stream,
        extensions=request.extensions,
    )


def _is_telemetry(name: str) -> bool:
    return name.lower().startswith(_TELEMETRY)


# Failures that can only happen once the request has been (at least partly) written, so the
# gateway may be rendering, and billing, it. A connect failure or a pool timeout is not here:
# nothing left, and the SDK's retries are right.
_SENT_THEN_TIMED_OUT: tuple[type[BaseException], ...] = (
    httpx.WriteTimeout,  # part of the body is out: the gateway may act on it
    httpx.ReadTimeout,  # all of it is out; the answer is late
)
_SENT_THEN_FAILED: tuple[type[BaseException], ...] = (
    httpx.WriteError,  # the connection broke while the body was going out
    httpx.ReadError,  # ... or while the answer was coming back
    httpx.RemoteProtocolError,  # the gateway hung up or answered garbage
    httpx.DecodingError,  # an answer came, but its body cannot be decoded (bad gzip, ...)
    anyio.EndOfStream,  # the async transport's word for a connection closed mid-answer
)


def _outcome_unknown(exc: BaseException, request: httpx.Request) -> OutcomeUnknownError | None:
    """The error to raise when a generation request went out and then failed, else None."""
    if isinstance(exc, _SENT_THEN_TIMED_OUT):
        return OutcomeUnknownTimeoutError(
            _UNKNOWN_OUTCOME.format(what="no answer came before the timeout"), request=request
        )
    if isinstance(exc, _SENT_THEN_FAILED):
        return OutcomeUnknownError(
            _UNKNOWN_OUTCOME.format(what=f"the connection failed before the answer ({exc!r})"),
            request=request,
        )
    return None


def _replace_response(
    response: httpx.Response,
    *,
    status: int,
    content: bytes,
    retry_after: float | None = None,
) -> httpx.Response:
    headers = httpx.Headers(
        [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-type", "content-length", "content-encoding")
        ]
    )
    headers["content-type"] = "application/json"
    headers["content-length"] = str(len(content))
    has_header = "retry-after" in headers or "retry-after-ms" in headers
    if retry_after is not None and not has_header:
        headers["retry-after-ms"] = str(int(retry_after * 1000))
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


def _normalise_generation(response: httpx.Response) -> httpx.Response:
    """Turn a (fully read) generation answer into what the stock SDK understands.

    An SSE answer becomes its JSON result; a failure reported inside a 200
    answer (JSON or SSE) becomes an error response with the status it stands
    for, so the SDK retries it or raises the matching status error.
    """
    content = response.content
    content_type = response.headers.get("content-type", "").lower()
    if response.is_success:
        if "text/event-stream" in content_type:
            outcome = decode_image_stream(content)
            if isinstance(outcome, StreamResult):
                return _replace_response(
                    response, status=response.status_code, content=outcome.payload
                )
            if isinstance(outcome, StreamFailure):
                failure = classify_error_body(outcome.body)
                return _replace_response(
                    response,
                    status=failure.status,
                    content=json.dumps(failure.body).encode(),
                    retry_after=failure.retry_after,
                )
            raise OutcomeUnknownError(
                _UNKNOWN_OUTCOME.format(
                    what=f"the event stream ended without a result ({outcome.reason})"
                ),
                request=response.request,
            )
        if len(content) > LARGE_EVENT_BYTES or b'"error"' not in content:
            # Errors are small and say "error"; anything else is a result, which the
            # SDK parses anyway. Parsing a 10 MB answer twice would double its cost.
            return response
        body = _loads(content)
        hidden = failure_in_body(body) if body is not None else None
        if hidden is None:
            return response
        return _replace_response(
            response,
            status=hidden.status,
            content=json.dumps(hidden.body).encode(),
            retry_after=hidden.retry_after,
        )
    body = _loads(content)
    if body is None:
        return response
    failure = classify_error_body(body, http_status=response.status_code)
    return _replace_response(
        response,
        status=response.status_code,
        content=json.dumps(failure.body).encode(),
        retry_after=failure.retry_after,
    )


def _loads(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
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


class _SyncSendRoute:
    """The SDK's http client, whose ``send`` goes through ``OpenAI._send_request`` first."""

    def __init__(self, routed_client: Any, send: Callable[..., httpx.Response]) -> None:
        self.routed_client = routed_client
        self._send = send

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            return self._send(request, **kwargs)
        except OutcomeUnknownError as error:
            return _unretried_error_response(request, error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.routed_client, name)


class _AsyncSendRoute:
    """The SDK's async http client, whose ``send`` goes through ``AsyncOpenAI._send_request``."""

    def __init__(self, routed_client: Any, send: Callable[..., Awaitable[httpx.Response]]) -> None:
        self.routed_client = routed_client
        self._send = send

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            return await self._send(request, **kwargs)
        except OutcomeUnknownError as error:
            return _unretried_error_response(request, error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.routed_client, name)


# ---------------------------------------------------------------------------
# What the two clients share


class _AirforceClientMixin:
    """Settings, hooks and wire behaviour common to the sync and async clients."""

    _validation: ValidationMode
    _catalog_cache: CatalogCache
    _request_hooks: list[RequestHook]
    timeout: Any

    def _setup(
        self,
        *,
        validation: object,
        catalog_ttl: float,
        catalog_cache: CatalogCache | None,
        request_hooks: tuple[RequestHook, ...],
        credentials: Mapping[str, str | None],
        default_headers: Mapping[str, str] | None,
    ) -> None:
        if catalog_ttl < 0:
            raise ValueError(f"catalog_ttl={catalog_ttl!r} must be a number of seconds >= 0")
        self._validation = check_mode(validation)
        self._catalog_cache = catalog_cache or CatalogCache(ttl=catalog_ttl)
        self._request_hooks = list(request_hooks)
        # The stock constructor fills these from OPENAI_ORG_ID, OPENAI_PROJECT_ID,
        # OPENAI_ADMIN_KEY and OPENAI_CUSTOM_HEADERS: credentials for another service.
        client = cast(Any, self)
        for name, value in credentials.items():
            setattr(client, name, value)
        client._custom_headers = dict(default_headers or {})
        client._ambient_authorizations = frozenset()

    @property
    def validation(self) -> ValidationMode:
        """How capability violations are handled: ``"strict"``, ``"warn"`` or ``"off"``."""
        return self._validation

    @property
    def catalog_ttl(self) -> float:
        """Seconds a fetched catalog stays fresh."""
        return self._catalog_cache.ttl

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
        return _user_agent()

    def platform_headers(self) -> dict[str, str]:
        # The SDK's platform telemetry (x-stainless-os, -arch, -runtime...) is not sent.
        return {}

    def _build_headers(self, options: FinalRequestOptions, **kwargs: Any) -> httpx.Headers:
        # Later 1.x lines pass `retries_taken=`, earlier ones do not: pass on what is given.
        headers: httpx.Headers = super()._build_headers(options, **kwargs)  # type: ignore[misc]
        # Telemetry never leaves; the raw-response marker is the SDK's own bookkeeping,
        # read back from `response.request`, so it is stripped only on the wire.
        # Headers iterate lower-cased.
        for name in [n for n in headers if n.startswith(_TELEMETRY) and n != _RAW_HEADER]:
            del headers[name]
        return headers

    def copy(
        self,
        *,
        validation: ValidationMode | NotGiven = NOT_GIVEN,
        catalog_ttl: float | NotGiven = NOT_GIVEN,
        **kwargs: Any,
    ) -> Self:
        """A new client with the same settings, hooks and catalog, but for those given.

        Takes every keyword of ``openai.OpenAI.copy``, plus ``validation`` and
        ``catalog_ttl``. The catalog is shared while the key and base URL stay the same.
        """
        extra = self._copy_kwargs(kwargs, validation, catalog_ttl)
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

    def _catalog_options(self) -> RequestOptions:
        """At most ``_CATALOG_TIMEOUT`` seconds (less if the client's own timeout is shorter)."""
        timeout = self.timeout
        if isinstance(timeout, (int, float)):
            timeout = min(float(timeout), _CATALOG_TIMEOUT)
        else:
            timeout = _CATALOG_TIMEOUT
        return {"max_retries": 0, "timeout": timeout}

    def _validate(
        self, body: Mapping[str, Any], models: Mapping[str, ImageModel] | None
    ) -> ImageModel | None:
        """Enforce the validation mode on ``body``; the model's entry, if the catalog has it.

        ``models`` is None when the catalog was not consulted: nothing is checked then.
        """
        if models is None:
            return None
        report = check_request(body, models)
        enforce(report, self._validation)
        return report.model_info

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
        # The gateway says `retry_after: 0` and means it; the stock SDK treats 0 as unset.
        if response_headers is not None and _is_generation(options.method, options.url):
            delay = cast(Any, self)._parse_retry_after_header(response_headers)
            if delay is not None and 0 <= delay <= 60:
                return float(delay)
        stock: float = super()._calculate_retry_timeout(  # type: ignore[misc]
            remaining_retries, options, response_headers
        )
        return stock


# ---------------------------------------------------------------------------
# The clients


class OpenAI(_AirforceClientMixin, openai.OpenAI):
    """An ``openai.OpenAI`` for api.airforce that checks requests before they are billed.

    >>> client = airforce_openai.OpenAI()      # reads AIRFORCE_API_KEY
    >>> client.images.generate(model="flux-2-dev", prompt="an otter",
    ...                        extra_body=af.image_params(aspect_ratio="16:9"))
    """

    catalog: Catalog
    """The gateway's model catalog, fetched on first use and cached for ``catalog_ttl`` seconds."""

    def __init__(
        self,
        *,
        api_key: str | Callable[[], str] | None = None,
        base_url: str | httpx.URL | NotGiven | None = NOT_GIVEN,
        validation: ValidationMode = "strict",
        catalog_ttl: float = DEFAULT_CATALOG_TTL,
        organization: str | None = None,
        project: str | None = None,
        admin_api_key: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        _catalog_cache: CatalogCache | None = None,
        _request_hooks: tuple[RequestHook, ...] = (),
        **kwargs: Any,
    ) -> None:
        """Build a client: every ``openai.OpenAI`` keyword, plus ``validation`` and ``catalog_ttl``.

        The key comes from ``api_key`` then ``AIRFORCE_API_KEY``; the base URL from
        ``base_url``, then ``AIRFORCE_BASE_URL``, then ``DEFAULT_BASE_URL``.
        ``OPENAI_*`` environment variables are never read.
        """
        credentials = _stock_credentials(organization, project, admin_api_key)
        super().__init__(
            api_key=_resolve_api_key(api_key),
            base_url=_resolve_base_url(base_url),
            default_headers=default_headers,
            http_client=http_client,
            **credentials,
            **kwargs,
        )
        self._setup(
            validation=validation,
            catalog_ttl=catalog_ttl,
            catalog_cache=_catalog_cache,
            request_hooks=_request_hooks,
            credentials=credentials,
            default_headers=default_headers,
        )
        self.catalog = Catalog(self._catalog_cache, self._fetch_catalog)
        _route_sends(self)

    def _fetch_catalog(self) -> object:
        return self.get("models", cast_to=object, options=self._catalog_options())

    def request(self, cast_to: Any, options: FinalRequestOptions, **kwargs: Any) -> Any:
        if _is_generation(options.method, options.url):
            self._before_generation(options)
        return super().request(cast_to, options, **kwargs)

    def _before_generation(self, options: FinalRequestOptions) -> None:
        body = _merged_body(options)
        models = None
        if self._validation != "off":
            try:
                models = self._catalog_cache.get_sync(self._fetch_catalog)
            except Exception as exc:
                self._note_catalog_failure(exc)
        model_info = self._validate(body, models)
        for hook in self._request_hooks:
            result = hook(ImageRequest(body=copy.deepcopy(body), model_info=model_info))
            if inspect.isawaitable(result):
                _close_awaitable(result)
                raise TypeError(
                    f"request hook {hook!r} is a coroutine function; register it on af.AsyncOpenAI"
                )

    def _send_request(
        self, request: httpx.Request, *, stream: bool, **kwargs: Any
    ) -> httpx.Response:
        generation = _is_generation(request.method, request.url)
        try:
            if _SDK_HAS_SEND_HOOK:
                response = super()._send_request(_wire_request(request), stream=stream, **kwargs)
            else:
                response = _http_client_of(self).send(
                    _wire_request(request), stream=stream, **kwargs
                )
            response.request = request
            if not generation or _user_stream(request, stream):
                return response
            response.read()
        except openai.OpenAIError:
            raise
        except Exception as exc:
            unknown = _outcome_unknown(exc, request) if generation else None
            if unknown is None:
                raise
            raise unknown from exc
        return _normalise_generation(response)


class AsyncOpenAI(_AirforceClientMixin, openai.AsyncOpenAI):
    """An ``openai.AsyncOpenAI`` for api.airforce that checks requests before they are billed.

    >>> client = airforce_openai.AsyncOpenAI()
    >>> await client.images.generate(model="flux-2-dev", prompt="an otter")
    """

    catalog: AsyncCatalog
    """The gateway's model catalog; every method is awaited."""

    def __init__(
        self,
        *,
        api_key: str | Callable[[], Awaitable[str]] | None = None,
        base_url: str | httpx.URL | NotGiven | None = NOT_GIVEN,
        validation: ValidationMode = "strict",
        catalog_ttl: float = DEFAULT_CATALOG_TTL,
        organization: str | None = None,
        project: str | None = None,
        admin_api_key: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        _catalog_cache: CatalogCache | None = None,
        _request_hooks: tuple[RequestHook, ...] = (),
        **kwargs: Any,
    ) -> None:
        """Build a client: every ``openai.AsyncOpenAI`` keyword, ``validation``, ``catalog_ttl``."""
        credentials = _stock_credentials(organization, project, admin_api_key)
        super().__init__(
            api_key=_resolve_api_key(api_key),
            base_url=_resolve_base_url(base_url),
            default_headers=default_headers,
            http_client=http_client,
            **credentials,
            **kwargs,
        )
        self._setup(
            validation=validation,
            catalog_ttl=catalog_ttl,
            catalog_cache=_catalog_cache,
            request_hooks=_request_hooks,
            credentials=credentials,
            default_headers=default_headers,
        )
        self.catalog = AsyncCatalog(self._catalog_cache, self._fetch_catalog)
        _route_sends(self)

    async def _fetch_catalog(self) -> object:
        return await self.get("models", cast_to=object, options=self._catalog_options())

    async def request(self, cast_to: Any, options: FinalRequestOptions, **kwargs: Any) -> Any:
        if _is_generation(options.method, options.url):
            await self._before_generation(options)
        return await super().request(cast_to, options, **kwargs)

    async def _before_generation(self, options: FinalRequestOptions) -> None:
        body = _merged_body(options)
        models = None
        if self._validation != "off":
            try:
                models = await self._catalog_cache.get_async(self._fetch_catalog)
            except Exception as exc:
                self._note_catalog_failure(exc)
        model_info = self._validate(body, models)
        for hook in self._request_hooks:
            result = hook(ImageRequest(body=copy.deepcopy(body), model_info=model_info))
            if inspect.isawaitable(result):
                await result

    async def _send_request(
        self, request: httpx.Request, *, stream: bool, **kwargs: Any
    ) -> httpx.Response:
        generation = _is_generation(request.method, request.url)
        try:
            if _SDK_HAS_SEND_HOOK:
                response = await super()._send_request(
                    _wire_request(request), stream=stream, **kwargs
                )
            else:
                response = await _http_client_of(self).send(
                    _wire_request(request), stream=stream, **kwargs
                )
            response.request = request
            if not generation or _user_stream(request, stream):
                return response
            await response.aread()
        except openai.OpenAIError:
            raise
        except Exception as exc:
            unknown = _outcome_unknown(exc, request) if generation else None
            if unknown is None:
                raise
            raise unknown from exc
        return _normalise_generation(response)


def _close_awaitable(result: Awaitable[Any]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
