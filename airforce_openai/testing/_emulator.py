"""A loopback stand-in for the api.airforce gateway: a real HTTP server for offline tests and demos.

    >>> with Emulator() as emu:
    ...     openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key).models.list()

It serves ``GET /v1/models`` (public), ``POST /v1/images/generations`` and
``POST /v1/chat/completions`` (both need ``Authorization: Bearer <api_key>``), and the
generated files under ``/files/<token>/image.jpeg``. Generation requests are checked against
the catalog the way the gateway checks them, independently of the client package.

Files are real and small (long side at most 64 px, shaped by ``aspect_ratio`` or ``size``):
PNG from Flux, JPEG from Nano-Banana, WebP from Seedream, MP3 from Suno, MP4 from video
models, the same bytes for the same (model, prompt, seed, index). Links end in
``/image.jpeg`` and are served as ``image/jpeg`` whatever the bytes are, like the gateway's
file host. Answers carry ``X-Request-ID``, ``X-Cost-Cents`` and ``x-airforce-trace-id``, and
``X-Emulator-Model``: the model that answered after any ``models`` fallback.

Faults make the gateway misbehave on purpose. ``emu.inject(Fault.status(429))`` queues one for
the next generation request; the ``X-Emulator-Fault`` request header applies faults to that
request only. The header holds either JSON (one ``Fault.to_dict()`` object, or a list of them)
or short items separated by ``;``::

    X-Emulator-Fault: status:429
    X-Emulator-Fault: delay:0.2; sse:crlf,progress
    X-Emulator-Fault: {"kind": "status", "http_status": 429, "retry_after": 1}

Short items: ``delay:S``, ``hang:S``, ``file_hang:S``, ``status:CODE``,
``error_in_200[:CODE]``, ``sse[:VARIANT,...]``, ``null_url``, ``file_404``,
``drop_connection``, ``provider_failure[:MODEL,...]``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import dataclasses
import http.server
import json
import math
import os
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO, TypeAlias, TypeGuard, cast, get_args

from . import _media
from ._catalog_data import default_catalog

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_HEADER",
    "CatalogSource",
    "Emulator",
    "Fault",
    "RecordedRequest",
    "main",
    "serve_forever",
]

DEFAULT_API_KEY = "sk-air-emulator-0000"
FAULT_HEADER = "X-Emulator-Fault"

FaultKind = Literal[
    "delay",
    "status",
    "error_in_200",
    "sse",
    "null_url",
    "file_404",
    "file_hang",
    "drop_connection",
    "hang",
    "provider_failure",
]
SseVariant = Literal[
    "crlf",
    "event_lines",
    "comments",
    "keepalive",
    "progress",
    "no_done",
    "error_string",
    "error_object",
    "cut_mid_event",
    "keepalive_only",
]
ErrorShape = Literal["object", "string"]
CatalogSource: TypeAlias = (
    Sequence[Mapping[str, Any]] | Mapping[str, Any] | str | os.PathLike[str] | None
)

FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
SSE_VARIANTS: tuple[str, ...] = get_args(SseVariant)
# An event stream has one outcome: a result, an error event, or nothing at all.
_SSE_OUTCOMES = ("error_string", "error_object", "keepalive_only")

_MAX_BODY = 32 * 1024 * 1024
_MAX_FILES = 1024  # files kept for download; the oldest go first
_MAX_SIDE = 64  # long side of generated images, in pixels
_MAX_N = 10  # the OpenAI images limit, applied whatever the catalog says
_ANSWERS_EARLY = frozenset({"hang", "drop_connection", "status", "error_in_200"})
_FILE_NAME = "image.jpeg"  # the gateway's file host names every file this way
_PROVIDER_FAILED = "Image generation failed, provider returned status 503"

# status -> (error type, error code, message): what the gateway answers for each status.
_STATUS_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("invalid_request_error", "bad_request", "Bad request"),
    401: ("authentication_error", "invalid_api_key", "Invalid API key"),
    402: ("billing_error", "insufficient_balance", "Insufficient balance: add credits to continue"),
    403: ("permission_error", "free_tier_gated", "This model is not available on the free tier"),
    404: ("invalid_request_error", "model_not_found", "Model not found"),
    408: ("timeout_error", "request_timeout", "Request timed out"),
    413: ("invalid_request_error", "payload_too_large", "Request body too large"),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit exceeded, please retry later"),
    500: ("server_error", "internal_error", "Internal server error"),
    502: ("server_error", "bad_gateway", "Bad gateway, please retry"),
    503: ("server_error", "provider_unavailable", _PROVIDER_FAILED),
    504: ("server_error", "gateway_timeout", "The upstream provider timed out"),
}


def _status_defaults(status: int) -> tuple[str, str | None, str]:
    if status in _STATUS_DEFAULTS:
        return _STATUS_DEFAULTS[status]
    kind = "server_error" if status >= 500 else "invalid_request_error"
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return kind, None, f"{phrase} (status {status})"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- recorded requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received, as it arrived (faulted ones included)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        return self.headers.get(name.lower())


# --- faults -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A way for the gateway to misbehave; build one with a named constructor and inject it.

    >>> emu.inject(Fault.status(429, retry_after=1), model="flux-2-dev", times=2)
    """

    kind: FaultKind
    seconds: float = 0.0
    http_status: int | None = None
    shape: ErrorShape = "object"
    error_code: str | int | None = None
    message: str | None = None
    retry_after: float | None = None
    retry_after_header: str | None = None
    variants: tuple[SseVariant, ...] = ()
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Faults also arrive as JSON in a header, so every field is checked, and lists accepted.
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"Fault.kind must be one of {', '.join(FAULT_KINDS)}; got {self.kind!r}"
            )
        if not _is_number(self.seconds) or self.seconds < 0:
            raise ValueError(f"Fault.seconds must be a finite number >= 0; got {self.seconds!r}")
        if self.http_status is not None and (
            not _is_int(self.http_status) or not 100 <= self.http_status <= 599
        ):
            raise ValueError(
                f"Fault.http_status must be an HTTP status code; got {self.http_status!r}"
            )
        if self.shape not in ("object", "string"):
            raise ValueError(f"Fault.shape must be 'object' or 'string'; got {self.shape!r}")
        if self.error_code is not None and not (
            isinstance(self.error_code, str) or _is_int(self.error_code)
        ):
            raise ValueError(
                f"Fault.error_code must be a string or an int; got {self.error_code!r}"
            )
        if self.message is not None and not isinstance(self.message, str):
            raise ValueError(f"Fault.message must be a string; got {self.message!r}")
        if self.retry_after is not None and (
            not _is_number(self.retry_after) or self.retry_after < 0
        ):
            raise ValueError(f"Fault.retry_after must be a number >= 0; got {self.retry_after!r}")
        if self.retry_after_header is not None and not isinstance(self.retry_after_header, str):
            raise ValueError(
                f"Fault.retry_after_header must be a string; got {self.retry_after_header!r}"
            )
        if not isinstance(self.variants, (list, tuple)):
            raise ValueError(f"Fault.variants must be a list of names; got {self.variants!r}")
        object.__setattr__(self, "variants", tuple(self.variants))
        for variant in self.variants:
            if variant not in SSE_VARIANTS:
                raise ValueError(
                    f"unknown SSE variant {variant!r}; expected any of {', '.join(SSE_VARIANTS)}"
                )
        outcomes = [v for v in self.variants if v in _SSE_OUTCOMES]
        if len(outcomes) > 1:
            raise ValueError(f"SSE variants {' and '.join(outcomes)} cannot be combined")
        if "keepalive_only" in self.variants and "cut_mid_event" in self.variants:
            raise ValueError("SSE variants keepalive_only and cut_mid_event cannot be combined")
        if not isinstance(self.models, (list, tuple)) or not all(
            isinstance(m, str) and m for m in self.models
        ):
            raise ValueError(f"Fault.models must be a list of model ids; got {self.models!r}")
        object.__setattr__(self, "models", tuple(self.models))
        if self.kind in ("status", "error_in_200") and self.http_status is None:
            raise ValueError(f"a {self.kind!r} fault needs http_status")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait ``seconds`` more, then answer normally."""
        return cls("delay", seconds=seconds)

    @classmethod
    def status(
        cls,
        code: int,
        *,
        shape: ErrorShape = "object",
        error_code: str | int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        retry_after_header: float | str | None = None,
    ) -> Fault:
        """Answer HTTP ``code`` with an error body of ``shape``; ``retry_after`` is in the body."""
        header = None if retry_after_header is None else _header_number(retry_after_header)
        return cls(
            "status",
            http_status=code,
            shape=shape,
            error_code=error_code,
            message=message,
            retry_after=retry_after,
            retry_after_header=header,
        )

    @classmethod
    def error_in_200(
        cls,
        code: int = 503,
        *,
        shape: ErrorShape = "object",
        error_code: str | int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer HTTP 200 with ``error`` (whose ``code`` defaults to ``code``) and no ``data``."""
        return cls(
            "error_in_200",
            http_status=code,
            shape=shape,
            error_code=error_code,
            message=message,
            retry_after=retry_after,
        )

    @classmethod
    def sse(
        cls,
        *variants: SseVariant,
        error_code: str | int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer as an event stream (asked for or not), in the given variants, combinable.

        ``error_code`` (default 429), ``message`` and ``retry_after`` (default 0) shape the
        ``error_object`` and ``error_string`` events.
        """
        return cls(
            "sse",
            variants=variants,
            error_code=error_code,
            message=message,
            retry_after=retry_after,
        )

    @classmethod
    def null_url(cls) -> Fault:
        """Every item comes back empty: ``url: null`` (or ``b64_json: null``), a failed re-host."""
        return cls("null_url")

    @classmethod
    def file_404(cls) -> Fault:
        """The answer's links point to files the file host does not have."""
        return cls("file_404")

    @classmethod
    def file_hang(cls, seconds: float) -> Fault:
        """The answer's files are served only after ``seconds``."""
        return cls("file_hang", seconds=seconds)

    @classmethod
    def drop_connection(cls) -> Fault:
        """Read the whole request, then close the connection without answering."""
        return cls("drop_connection")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """Read the whole request, send nothing for ``seconds``, then close the connection."""
        return cls("hang", seconds=seconds)

    @classmethod
    def provider_failure(cls, *models: str) -> Fault:
        """The provider of a model fails (503), so a ``models`` fallback moves to the next one.

        With no ``models`` it is the first model tried (or the one ``inject(model=...)`` names).
        """
        return cls("provider_failure", models=models)

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from their defaults, as JSON-ready values."""
        out: dict[str, Any] = {"kind": self.kind}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.name != "kind" and value != spec.default:
                out[spec.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """The fault described by ``data`` (as ``to_dict`` writes it)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault must be a JSON object; got {data!r}")
        names = {spec.name for spec in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown fault field {unknown[0]!r}; expected any of {sorted(names)}")
        if "kind" not in data:
            raise ValueError("a fault needs a 'kind'")
        return cls(**data)

    def to_header(self) -> str:
        """This fault as an ``X-Emulator-Fault`` header value."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def parse_header(cls, value: str) -> tuple[Fault, ...]:
        """The faults an ``X-Emulator-Fault`` header value describes (see the module docstring)."""
        text = value.strip()
        if not text:
            raise ValueError(f"{FAULT_HEADER} is empty")
        if text[0] in "[{":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{FAULT_HEADER} is not valid JSON: {exc}") from None
            items = data if isinstance(data, list) else [data]
            return tuple(cls.from_dict(item) for item in items)
        return tuple(cls._parse_item(item.strip()) for item in text.split(";") if item.strip())

    @classmethod
    def _parse_item(cls, item: str) -> Fault:
        name, _, arg = item.partition(":")
        name = name.strip()
        args = [a.strip() for a in arg.split(",") if a.strip()]
        try:
            fault = cls._from_short(name, args)
        except ValueError as exc:
            raise ValueError(f"{FAULT_HEADER} item {item!r}: {exc}") from None
        if fault is None:
            raise ValueError(
                f"{FAULT_HEADER} item {item!r}: unknown fault {name!r}; "
                f"expected one of {', '.join(FAULT_KINDS)}"
            )
        return fault

    @classmethod
    def _from_short(cls, name: str, args: list[str]) -> Fault | None:
        def one(kind: str) -> str:
            if len(args) != 1:
                raise ValueError(f"{name} takes exactly one {kind}")
            return args[0]

        def none() -> None:
            if args:
                raise ValueError(f"{name} takes no arguments")

        if name in ("delay", "hang", "file_hang"):
            seconds = float(one("number of seconds"))
            return cls(cast(FaultKind, name), seconds=seconds)
        if name == "status":
            return cls.status(int(one("status code")))
        if name == "error_in_200":
            return cls.error_in_200(int(one("status code")) if args else 503)
        if name == "sse":
            return cls.sse(*cast("list[SseVariant]", args))
        if name == "provider_failure":
            return cls.provider_failure(*args)
        if name in ("null_url", "file_404", "drop_connection"):
            none()
            return cls(cast(FaultKind, name))
        return None


def _header_number(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if not _is_number(value) or value < 0:
        raise ValueError(f"retry_after_header must be a number >= 0 or a string; got {value!r}")
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class _QueuedFault:
    fault: Fault
    model: str | None
    remaining: int | None


# --- gateway errors ---------------------------------------------------------------------------


class _Refusal(Exception):
    """A request the gateway answers with an error status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


class _Hangup(Exception):
    """Close the connection now, answering nothing more."""


def _refuse(param: str, message: str, code: str = "invalid_value") -> NoReturn:
    raise _Refusal(400, message, param=param, code=code)


def _error_object(
    message: str, *, kind: str | None, param: str | None, code: str | int | None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _fault_error_body(fault: Fault, status: int, *, code_default: str | int | None) -> Any:
    kind, _, default_message = _status_defaults(status)
    message = fault.message if fault.message is not None else default_message
    body: dict[str, Any]
    if fault.shape == "string":
        body = {"error": message, "message": message}
    else:
        code = fault.error_code if fault.error_code is not None else code_default
        body = _error_object(message, kind=kind, param=None, code=code)
    if fault.retry_after is not None:
        body["retry_after"] = fault.retry_after
    return body


# --- the catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Catalog:
    body: Any  # the JSON document GET /v1/models answers, as given
    by_id: dict[str, dict[str, Any]]

    @property
    def entries(self) -> list[Any]:
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return data if isinstance(data, list) else []

    @property
    def listed(self) -> bool:
        """False when the document has no ``data`` list: a broken listing, not an empty one."""
        return isinstance(self.body, dict) and isinstance(self.body.get("data"), list)

    def find(self, model_id: str) -> dict[str, Any] | None:
        """The entry for ``model_id``; with a broken listing every model is known, capless."""
        entry = self.by_id.get(model_id)
        if entry is None and not self.listed:
            return {"id": model_id}
        return entry


def _load_catalog(source: CatalogSource) -> _Catalog:
    """Any JSON-ready catalog is served as given, so tests can serve a broken one on purpose.

    A document without a ``data`` list still leaves generation working, unchecked, as a
    gateway whose listing fails still generates.
    """
    data: Any = source
    origin = "catalog"
    if source is None:
        data = default_catalog()
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        origin = f"catalog file {str(path)!r}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{origin} cannot be read: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{origin} is not valid JSON: {exc}") from None
    if isinstance(data, Mapping):
        body: Any = dict(data)
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        body = {"object": "list", "data": list(data)}
    else:
        raise TypeError(
            f"{origin} must be None, a list of model objects, a {{'data': [...]}} envelope "
            f"or the path of a JSON file; got {type(data).__name__}"
        )
    try:
        body = json.loads(json.dumps(body))  # a deep copy that proves it can be served
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{origin} cannot be served as JSON: {exc}") from None
    catalog = _Catalog(body, {})
    for entry in catalog.entries:
        model_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(model_id, str) and model_id not in catalog.by_id:
            catalog.by_id[model_id] = entry
    return catalog


def _entry_kind(entry: Mapping[str, Any]) -> str:
    """image, video, audio, text or unknown: output_modalities, then media_type, then flags."""
    outputs = entry.get("output_modalities")
    if isinstance(outputs, list) and outputs:
        for kind in ("image", "video", "audio"):
            if kind in outputs:
                return kind
        if "text" in outputs:
            return "text"
    media = entry.get("media_type")
    if media in ("image", "video", "text"):
        return str(media)
    if media in ("audio", "speech", "sfx", "music"):
        return "audio"
    if entry.get("supports_images") is True:
        return "image"
    if entry.get("supports_chat") is True:
        return "text"
    return "unknown"


def _caps(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    caps = entry.get("image_caps")
    return caps if isinstance(caps, Mapping) else {}


def _price_cents(entry: Mapping[str, Any]) -> float:
    per_thousand = entry.get("priceperthousandimages")
    if _is_number(per_thousand):
        return float(per_thousand) / 1000
    per_generation = entry.get("price_per_generation_cents")
    if _is_number(per_generation):
        return float(per_generation)
    return 0.0


def _format_cents(cents: float) -> str:
    return f"{cents:.4f}".rstrip("0").rstrip(".") or "0"


# --- checking a generation request ------------------------------------------------------------


def _show(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def _candidates(body: Mapping[str, Any]) -> list[str]:
    """The models to try, in order: ``model``, then the ``models`` fallbacks."""
    model = body.get("model")
    models = body.get("models")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        _refuse("model", f"Invalid value for 'model': {_show(model)}. Expected a model id.")
    fallbacks: list[str] = []
    if models is not None:
        if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
            _refuse("models", "Invalid value for 'models': expected an array of model ids.")
        if len(models) > 3:
            _refuse("models", f"Invalid value for 'models': at most 3 models, {len(models)} given.")
        fallbacks = models
    if model is None and not fallbacks:
        _refuse("model", "Missing required parameter: 'model'.", "missing_parameter")
    out = [model] if isinstance(model, str) else []
    out.extend(m for m in fallbacks if m not in out)
    return out


def _is_base64(text: str) -> bool:
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    if not text:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _input_images(body: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """Every reference image as (its parameter path, whether it is a remote URL)."""
    out: list[tuple[str, bool]] = []
    items = body.get("input_images")
    if items is not None:
        if not isinstance(items, list):
            _refuse(
                "input_images",
                "Invalid type for 'input_images': expected an array of {url} or {b64_json}.",
                "invalid_type",
            )
        for index, item in enumerate(items):
            path = f"input_images[{index}]"
            if not isinstance(item, Mapping) or (item.get("url") is None) == (
                item.get("b64_json") is None
            ):
                _refuse(
                    path, f"Invalid value for '{path}': expected either {{url}} or {{b64_json}}."
                )
            url = item.get("url")
            if url is not None:
                if not isinstance(url, str) or not url.strip():
                    _refuse(f"{path}.url", f"Invalid value for '{path}.url': expected a URL.")
                out.append((path, not url.startswith("data:")))
            else:
                data = item.get("b64_json")
                if not isinstance(data, str) or not _is_base64(data):
                    _refuse(
                        f"{path}.b64_json",
                        f"Invalid value for '{path}.b64_json': not valid base64 data.",
                    )
                out.append((path, False))
    urls = body.get("image_urls")
    if urls is not None:
        if not isinstance(urls, list):
            _refuse(
                "image_urls",
                "Invalid type for 'image_urls': expected an array of URLs.",
                "invalid_type",
            )
        for index, url in enumerate(urls):
            path = f"image_urls[{index}]"
            if not isinstance(url, str) or not url.strip():
                _refuse(path, f"Invalid value for '{path}': expected a URL.")
            out.append((path, not url.startswith("data:")))
    return out


_TYPED_FIELDS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("size", (str,), "a string such as '1024x1024'"),
    ("aspect_ratio", (str,), "a string such as '16:9'"),
    ("aspectRatio", (str,), "a string such as '16:9'"),
    ("quality", (str,), "a string"),
    ("resolution", (str, int), "a string such as '1024'"),
    ("style", (str,), "a string"),
    ("sse", (bool,), "a boolean"),
    ("custom", (bool,), "a boolean"),
    ("instrumental", (bool,), "a boolean"),
)


def _has_type(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int, but never a valid int here
        return bool in types
    return isinstance(value, types)


def _check_common(body: Mapping[str, Any]) -> None:
    """The checks that do not depend on the model."""
    prompt = body.get("prompt")
    if prompt is None:
        _refuse("prompt", "Missing required parameter: 'prompt'.", "missing_parameter")
    if not isinstance(prompt, str):
        _refuse("prompt", f"Invalid type for 'prompt': expected a string, got {_show(prompt)}.")
    if not prompt.strip():
        _refuse("prompt", "Invalid value for 'prompt': it must not be empty.")
    n = body.get("n")
    if n is not None:
        if not _is_int(n):
            _refuse(
                "n", f"Invalid type for 'n': expected an integer, got {_show(n)}.", "invalid_type"
            )
        if not 1 <= n <= _MAX_N:
            _refuse("n", f"Invalid value for 'n': {n}. It must be between 1 and {_MAX_N}.")
    response_format = body.get("response_format")
    if response_format not in (None, "url", "b64_json"):
        _refuse(
            "response_format",
            f"Invalid value for 'response_format': {_show(response_format)}. "
            "Supported values: 'url', 'b64_json'.",
        )
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        _refuse(
            "seed",
            f"Invalid type for 'seed': expected an integer, got {_show(seed)}.",
            "invalid_type",
        )
    for name, types, expected in _TYPED_FIELDS:
        value = body.get(name)
        if value is not None and not _has_type(value, types):
            _refuse(
                name,
                f"Invalid type for '{name}': expected {expected}, got {_show(value)}.",
                "invalid_type",
            )


def _check_choice(param: str, value: object, allowed: object, model_id: str) -> None:
    if value is None or not isinstance(allowed, list) or not allowed:
        return  # a cap the entry does not state is not enforced
    if str(value) not in [str(a) for a in allowed]:
        choices = ", ".join(_show(a) for a in allowed)
        _refuse(
            param,
            f"Invalid value for '{param}': {_show(value)}. "
            f"Supported values for '{model_id}': {choices}.",
        )


def _check_model(
    body: Mapping[str, Any], model_id: str, entry: Mapping[str, Any], inputs: list[tuple[str, bool]]
) -> None:
    """The checks against one catalog entry: its kind and the caps it states."""
    if _entry_kind(entry) == "text":
        _refuse(
            "model",
            f"Invalid value for 'model': '{model_id}' is a chat model and cannot generate images; "
            "use POST /v1/chat/completions.",
            "unsupported_model",
        )
    caps = _caps(entry)
    n = body.get("n") or 1
    max_n = caps.get("max_n")
    if _is_int(max_n) and n > max_n:
        _refuse(
            "n", f"Invalid value for 'n': {n}. '{model_id}' generates at most {max_n} per request."
        )
    for param in ("aspect_ratio", "aspectRatio"):
        _check_choice(param, body.get(param), caps.get("aspect_ratios"), model_id)
    _check_choice("quality", body.get("quality"), caps.get("qualities"), model_id)
    _check_choice("resolution", body.get("resolution"), caps.get("resolutions"), model_id)
    max_inputs = caps.get("max_input_images")
    if _is_int(max_inputs) and len(inputs) > max_inputs:
        param = inputs[0][0].partition("[")[0]
        if max_inputs == 0:
            reason = f"'{model_id}' is text-only and takes no input images"
        else:
            reason = f"'{model_id}' takes at most {max_inputs} input images"
        _refuse(param, f"Invalid value for '{param}': {len(inputs)} given; {reason}.")
    if caps.get("supports_url_input") is False:
        for path, remote in inputs:
            if remote:
                _refuse(
                    path,
                    f"Invalid value for '{path}': '{model_id}' does not accept image URLs; "
                    "send the image as base64 data instead.",
                )


# --- making the answer ------------------------------------------------------------------------


def _parse_pair(value: object, separator: str) -> tuple[float, float] | None:
    if not isinstance(value, str):
        return None
    parts = value.lower().split(separator)
    if len(parts) != 2:
        return None
    try:
        first, second = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (math.isfinite(first) and math.isfinite(second) and first > 0 and second > 0):
        return None
    return first, second


def _pixel_size(body: Mapping[str, Any]) -> tuple[int, int]:
    """An aspect ratio gives its shape at the full long side; a size is only scaled down."""
    ratio = _parse_pair(body.get("aspect_ratio", body.get("aspectRatio")), ":")
    if ratio is not None:
        width, height = ratio
        scale = _MAX_SIDE / max(width, height)
    else:
        width, height = _parse_pair(body.get("size"), "x") or (1024.0, 1024.0)
        scale = min(1.0, _MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _file_kind(model_id: str, entry: Mapping[str, Any]) -> _media.MediaKind:
    kind = _entry_kind(entry)
    if kind == "audio":
        return "mp3"
    if kind == "video":
        return "mp4"
    if model_id.startswith("nano-banana"):
        return "jpeg"  # the gateway often answers JPEG whatever the docs say
    if model_id.startswith("seedream"):
        return "webp"
    return "png"


def _render(model_id: str, entry: Mapping[str, Any], body: Mapping[str, Any], index: int) -> bytes:
    # A model that ignores seeds draws the same file whatever seed it is given.
    seed = body.get("seed") if _caps(entry).get("supports_seed") is not False else None
    key = json.dumps([model_id, body.get("prompt"), seed, index]).encode()
    width, height = _pixel_size(body)
    kind = _file_kind(model_id, entry)
    if kind == "mp3":
        return _media.mp3(1.0, key)
    if kind == "mp4":
        return _media.mp4(key, width=width, height=height)
    if kind == "jpeg":
        return _media.jpeg(width, height, key)
    if kind == "webp":
        return _media.webp(width, height, key)
    return _media.png(width, height, key)


def _sse_events(payload: Mapping[str, Any], fault: Fault) -> tuple[list[bytes], bytes | None]:
    """The event-stream blocks to send, and the half block to send before cutting, if any."""
    variants = set(fault.variants)
    newline = "\r\n" if "crlf" in variants else "\n"

    def event(data: str) -> bytes:
        lines = ["event: message"] if "event_lines" in variants else []
        lines.append(f"data: {data}")
        return (newline.join(lines) + newline * 2).encode()

    def comment() -> list[bytes]:
        return [(": ping" + newline * 2).encode()] if "comments" in variants else []

    blocks = comment()
    if variants & {"keepalive", "keepalive_only"}:
        blocks += [event(": keepalive"), *comment(), event(": keepalive")]
    if "progress" in variants:
        for progress in (0.25, 0.5, 0.75):
            blocks += [event(json.dumps({"progress": progress})), *comment()]
    if "keepalive_only" in variants:
        return blocks, None
    result: Any = payload
    if "error_string" in variants:
        result = {"error": fault.message or _PROVIDER_FAILED}
    elif "error_object" in variants:
        code = fault.error_code if fault.error_code is not None else 429
        default_message = _status_defaults(code)[2] if _is_int(code) else "Image generation failed"
        result = {
            "error": {
                "message": fault.message or default_message,
                "code": code,
                "retry_after": fault.retry_after if fault.retry_after is not None else 0,
            }
        }
    last = event(json.dumps(result))
    if "cut_mid_event" in variants:
        return blocks, last[: len(last) // 2]
    blocks.append(last)
    if "no_done" not in variants:
        blocks.append(event("[DONE]"))
    return blocks, None


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(part.get("text", ""))
                    for part in content
                    if isinstance(part, Mapping) and part.get("type") == "text"
                )
    return ""


# --- the HTTP server --------------------------------------------------------------------------


@dataclass(frozen=True)
class _StoredFile:
    data: bytes
    hang: float


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The default backlog of 5 resets connections when many clients start at once.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away, or the emulator is stopping
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "airforce-emulator/1.0"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection gives its thread back after this
    disable_nagle_algorithm = True
    server: _Server
    _deadline = 0.0  # when the generation being answered may be sent

    def setup(self) -> None:
        super().setup()
        self.server.emulator._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._connection_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.log_requests:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- plumbing

    def _handle(self) -> None:
        emulator = self.server.emulator
        try:
            try:
                body = self._read_body()
            except _Refusal as refusal:
                self.close_connection = True
                emulator._record(self._recorded(b""))
                self._send_error(refusal.status, refusal.message, code=refusal.code)
                return
            record = self._recorded(body)
            emulator._record(record)
            self._route(record)
        except _Hangup:
            self.close_connection = True
        except OSError:
            raise
        except Exception as exc:
            traceback.print_exc()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_error(500, f"Emulator error: {exc!r}", code="emulator_error")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            raise _Refusal(
                400, f"Invalid Content-Length header: {raw!r}", code="bad_request"
            ) from None
        if length > _MAX_BODY:
            raise _Refusal(
                413,
                f"Request body too large: {length} bytes; the limit is {_MAX_BODY}.",
                code="payload_too_large",
            )
        data = self.rfile.read(length)
        if len(data) < length:
            raise _Hangup
        return data

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _Refusal(400, "Malformed chunked request body", code="bad_request") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return bytes(data)
            if len(data) + size > _MAX_BODY:
                raise _Refusal(413, "Request body too large", code="payload_too_large")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _Hangup
            data += chunk
            self.rfile.readline(8)

    def _recorded(self, body: bytes) -> RecordedRequest:
        path, _, query = self.path.partition("?")
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            parsed = json.loads(body) if body else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        return RecordedRequest(self.command, path, query, headers, body, parsed)

    def _trace_headers(self) -> list[tuple[str, str]]:
        return [
            ("X-Request-ID", f"req_{secrets.token_hex(12)}"),
            ("x-airforce-trace-id", secrets.token_hex(16)),
        ]

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(
        self, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        data = json.dumps(payload).encode()
        self._send(status, data, "application/json", [*self._trace_headers(), *headers])

    def _send_error(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        kind = _status_defaults(status)[0]
        self._send_json(status, _error_object(message, kind=kind, param=param, code=code), headers)

    def _send_refusal(self, refusal: _Refusal) -> None:
        self._send_error(refusal.status, refusal.message, code=refusal.code, param=refusal.param)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _authorized(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        expected = self.server.emulator.api_key.encode()
        return scheme.lower() == "bearer" and secrets.compare_digest(
            token.strip().encode(), expected
        )

    def _require_key(self) -> bool:
        if self._authorized():
            return True
        self._send_error(401, "Invalid API key", code="invalid_api_key")
        return False

    def _json_body(self, record: RecordedRequest) -> dict[str, Any] | None:
        if isinstance(record.json, dict):
            return record.json
        if record.json is None and record.body.strip():
            self._send_error(400, "Request body is not valid JSON.", code="invalid_json")
        else:
            self._send_error(400, "Request body must be a JSON object.", code="invalid_json")
        return None

    # -- endpoints

    def _route(self, record: RecordedRequest) -> None:
        path = urllib.parse.unquote(record.path.rstrip("/")) or "/"
        reading = self.command in ("GET", "HEAD")
        if path == "/v1/models" and reading:
            self._models()
        elif path.startswith("/v1/models/") and reading:
            self._model(path.removeprefix("/v1/models/"))
        elif path == "/v1/images/generations" and self.command == "POST":
            self._generate(record)
        elif path == "/v1/chat/completions" and self.command == "POST":
            self._chat(record)
        elif path.startswith("/files/") and reading:
            self._file(path)
        else:
            self._send_error(
                404, f"Unknown endpoint: {self.command} {record.path}", code="not_found"
            )

    def _models(self) -> None:
        catalog = self.server.emulator._catalog
        self._send_json(200, catalog.body, [("Cache-Control", "max-age=60")])

    def _model(self, model_id: str) -> None:
        entry = self.server.emulator._catalog.by_id.get(model_id)
        if entry is None:
            self._send_error(
                404,
                f"The model '{model_id}' does not exist.",
                code="model_not_found",
                param="model",
            )
            return
        self._send_json(200, entry, [("Cache-Control", "max-age=60")])

    def _file(self, path: str) -> None:
        token = path.split("/")[2]
        stored = self.server.emulator._stored_file(token)
        if stored is None:
            self._send(404, b"404 Not Found", "text/plain; charset=utf-8")
            return
        if stored.hang and not self.server.emulator._wait(stored.hang):
            raise _Hangup
        # Served under its misleading name and type, like the gateway's file host does.
        self._send(200, stored.data, "image/jpeg", [("Cache-Control", "public, max-age=86400")])

    def _chat(self, record: RecordedRequest) -> None:
        if not self._require_key():
            return
        body = self._json_body(record)
        if body is None:
            return
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            self._send_error(400, "Missing required parameter: 'model'.", param="model")
            return
        entry = self.server.emulator._catalog.find(model_id)
        if entry is None:
            self._send_error(
                400, f"Unknown model '{model_id}'.", code="unknown_model", param="model"
            )
            return
        if _entry_kind(entry) in ("image", "video", "audio"):
            self._send_error(
                400,
                f"Invalid value for 'model': '{model_id}' is not a chat model; "
                "use POST /v1/images/generations.",
                code="unsupported_model",
                param="model",
            )
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._send_error(
                400, "Invalid value for 'messages': expected a non-empty array.", param="messages"
            )
            return
        if body.get("stream"):
            self._send_error(
                400,
                "Streaming chat completions are not emulated; send stream=false.",
                param="stream",
            )
            return
        text = _last_user_text(messages)
        prompt_tokens = sum(len(str(m).split()) for m in messages)
        completion_tokens = len(text.split())
        completion = {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        self._send_json(200, completion)

    def _generate(self, record: RecordedRequest) -> None:
        emulator = self.server.emulator
        if not self._require_key():
            return
        body = self._json_body(record)
        if body is None:
            return
        header = self.headers.get(FAULT_HEADER)
        try:
            faults = list(Fault.parse_header(header)) if header is not None else []
        except (TypeError, ValueError) as exc:
            self._send_error(400, str(exc), code="invalid_fault", param=FAULT_HEADER)
            return
        faults += emulator._take_faults(_primary_model(body))
        pause = emulator.latency + sum(f.seconds for f in faults if f.kind == "delay")
        # The latency is the whole answer time, drawing included, as a render upstream would be.
        self._deadline = time.monotonic() + pause
        if any(f.kind in _ANSWERS_EARLY for f in faults):
            self._wait_for_deadline()
        for fault in faults:
            if fault.kind == "hang":
                emulator._wait(fault.seconds)
                raise _Hangup
            if fault.kind == "drop_connection":
                raise _Hangup
            if fault.kind == "status":
                status = cast(int, fault.http_status)
                code = _status_defaults(status)[1]
                headers = self._trace_headers()
                if fault.retry_after_header is not None:
                    headers.append(("Retry-After", fault.retry_after_header))
                data = json.dumps(_fault_error_body(fault, status, code_default=code)).encode()
                self._send(status, data, "application/json", headers)
                return
            if fault.kind == "error_in_200":
                status = cast(int, fault.http_status)
                self._send_json(200, _fault_error_body(fault, status, code_default=status))
                return
        try:
            model_id, entry = self._choose_model(body, faults)
        except _Refusal as refusal:
            self._wait_for_deadline()
            self._send_refusal(refusal)
            return
        self._answer(body, model_id, entry, faults)

    def _wait_for_deadline(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining > 0 and not self.server.emulator._wait(remaining):
            raise _Hangup

    def _choose_model(
        self, body: Mapping[str, Any], faults: list[Fault]
    ) -> tuple[str, Mapping[str, Any]]:
        emulator = self.server.emulator
        candidates = _candidates(body)
        _check_common(body)
        inputs = _input_images(body)
        # A provider_failure from the header with no models fails the first model tried.
        unnamed_failures = sum(1 for f in faults if f.kind == "provider_failure" and not f.models)
        named_failures = {m for f in faults if f.kind == "provider_failure" for m in f.models}
        known = False
        for model_id in candidates:
            entry = emulator._catalog.find(model_id)
            if entry is None:
                continue
            known = True
            _check_model(body, model_id, entry, inputs)
            if unnamed_failures:
                unnamed_failures -= 1
                continue
            if model_id in named_failures or emulator._take_provider_failure(model_id):
                continue
            return model_id, entry
        if not known:
            param = "model" if isinstance(body.get("model"), str) else "models"
            raise _Refusal(
                400,
                f"Unknown model '{candidates[0]}'. See GET /v1/models for the available models.",
                param=param,
                code="unknown_model",
            )
        raise _Refusal(503, _PROVIDER_FAILED, code="provider_unavailable")

    def _answer(
        self,
        body: Mapping[str, Any],
        model_id: str,
        entry: Mapping[str, Any],
        faults: list[Fault],
    ) -> None:
        emulator = self.server.emulator
        kinds = {f.kind for f in faults}
        file_hang = max((f.seconds for f in faults if f.kind == "file_hang"), default=0.0)
        n = body.get("n") or 1
        as_base64 = body.get("response_format") == "b64_json"
        items: list[dict[str, Any]] = []
        for index in range(n):
            data = _render(model_id, entry, body, index)
            if "null_url" in kinds:
                items.append({"url": None, "b64_json": None})
            elif as_base64:
                items.append({"url": None, "b64_json": base64.b64encode(data).decode()})
            else:
                token = secrets.token_hex(16)
                if "file_404" not in kinds:
                    emulator._store_file(token, _StoredFile(data, file_hang))
                items.append(
                    {"url": f"{emulator.url}/files/{token}/{_FILE_NAME}", "b64_json": None}
                )
        payload = {"created": int(time.time()), "data": items}
        self._wait_for_deadline()
        headers = [
            *self._trace_headers(),
            ("X-Cost-Cents", _format_cents(n * _price_cents(entry))),
            ("X-Emulator-Model", model_id),
        ]
        sse_faults = [f for f in faults if f.kind == "sse"]
        if not sse_faults and body.get("sse") is not True:
            data = json.dumps(payload).encode()
            self._send(200, data, "application/json", headers)
            return
        variants = tuple(v for f in sse_faults for v in f.variants)
        shaping = sse_faults[0] if sse_faults else Fault.sse()
        fault = dataclasses.replace(shaping, variants=tuple(dict.fromkeys(variants)))
        blocks, partial = _sse_events(payload, fault)
        ends_early = partial is not None or "keepalive_only" in fault.variants
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers:
            self.send_header(name, value)
        if ends_early:
            self.send_header("Connection", "close")
        self.end_headers()
        for block in blocks:
            self._write_chunk(block)
        if partial is not None:
            self._write_chunk(partial)
            raise _Hangup  # no terminating chunk: the stream is cut
        self.wfile.write(b"0\r\n\r\n")


def _primary_model(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    if isinstance(model, str):
        return model
    models = body.get("models")
    if isinstance(models, list) and models and isinstance(models[0], str):
        return models[0]
    return None


# --- the emulator -----------------------------------------------------------------------------


class Emulator:
    """A faithful offline api.airforce gateway on 127.0.0.1, served from a background thread.

    >>> with Emulator() as emu:
    ...     client = openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key)
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        catalog: CatalogSource = None,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError(f"api_key must be a non-empty string; got {api_key!r}")
        if not isinstance(host, str):
            raise TypeError(f"host must be a string; got {type(host).__name__}")
        if not _is_int(port) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int between 0 and 65535; got {port!r}")
        self._api_key = api_key
        self._host = host
        self._port = port
        self.latency = latency
        self.log_requests = log_requests
        self._catalog = _load_catalog(catalog)
        self._lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_QueuedFault] = []
        self._files: OrderedDict[str, _StoredFile] = OrderedDict()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self.running else "not running"
        return f"<Emulator {where}>"

    # -- settings

    @property
    def api_key(self) -> str:
        """The key the emulator accepts as ``Authorization: Bearer <api_key>``."""
        return self._api_key

    @property
    def latency(self) -> float:
        """Seconds added before every generation answer."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if not _is_number(seconds) or seconds < 0:
            raise ValueError(f"latency must be a finite number of seconds >= 0; got {seconds!r}")
        self._latency = float(seconds)

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port listened on (the one asked for until the emulator starts)."""
        server = self._server
        return int(server.server_address[1]) if server is not None else self._port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError(
                "the emulator is not running; call start() or use it in a with block"
            )
        host = self._host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give a client, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    # -- the catalog

    @property
    def catalog(self) -> list[dict[str, Any]]:
        """A copy of the entries (the ``data`` list) served by ``GET /v1/models``."""
        return copy.deepcopy(self._catalog.entries)

    def set_catalog(self, catalog: CatalogSource) -> None:
        """Replace the catalog: None (default), a list of entries, an envelope or a JSON file.

        The document is served as given, broken or not; generation is checked against the
        entries it lists (any model is accepted if it has no ``data`` list at all).
        """
        self._catalog = _load_catalog(catalog)

    # -- the request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot)."""
        with self._lock:
            return list(self._requests)

    def generation_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/images/generations`` requests received so far."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path.rstrip("/") == "/v1/images/generations"
        ]

    def clear(self) -> None:
        """Forget the recorded requests (queued faults stay)."""
        with self._lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # -- faults

    def inject(self, fault: Fault, *, model: str | None = None, times: int | None = 1) -> None:
        """Queue ``fault`` for the next ``times`` generation requests (None: all of them).

        With ``model``, only requests for that model get it; a ``provider_failure`` then fails
        that model wherever it appears in a ``models`` fallback list.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"fault must be a Fault; got {type(fault).__name__}")
        if model is not None and (not isinstance(model, str) or not model):
            raise ValueError(f"model must be a model id or None; got {model!r}")
        if times is not None and (not _is_int(times) or times < 1):
            raise ValueError(f"times must be a positive int or None; got {times!r}")
        with self._lock:
            self._faults.append(_QueuedFault(fault, model, times))

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def _take_faults(self, model: str | None) -> list[Fault]:
        taken: list[Fault] = []
        with self._lock:
            for queued in list(self._faults):
                if queued.fault.kind == "provider_failure":
                    continue  # taken per model tried, in _take_provider_failure
                if queued.model is not None and queued.model != model:
                    continue
                taken.append(queued.fault)
                self._use(queued)
        return taken

    def _take_provider_failure(self, model: str) -> bool:
        with self._lock:
            for queued in self._faults:
                fault = queued.fault
                if fault.kind != "provider_failure":
                    continue
                if queued.model not in (None, model) or (
                    fault.models and model not in fault.models
                ):
                    continue
                self._use(queued)
                return True
        return False

    def _use(self, queued: _QueuedFault) -> None:
        if queued.remaining is not None:
            queued.remaining -= 1
            if queued.remaining == 0:
                self._faults.remove(queued)

    # -- files

    def _store_file(self, token: str, stored: _StoredFile) -> None:
        with self._lock:
            self._files[token] = stored
            while len(self._files) > _MAX_FILES:
                self._files.popitem(last=False)

    def _stored_file(self, token: str) -> _StoredFile | None:
        with self._lock:
            return self._files.get(token)

    # -- lifecycle

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if the emulator stops; True if the time ran out."""
        return not self._stopping.wait(seconds)

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections[connection] = threading.current_thread()
        if self._stopping.is_set():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)

    def start(self) -> Emulator:
        """Listen and serve in a background thread; a no-op if already running."""
        with self._state_lock:
            if self._server is not None:
                return self
            self._stopping = threading.Event()
            server = _Server((self._host, self._port), self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"airforce-emulator:{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, end hanging requests, close every socket; a no-op if not running."""
        with self._state_lock:
            server, thread = self._server, self._thread
            if server is None or thread is None:
                return
            self._server = self._thread = None
        deadline = time.monotonic() + timeout
        self._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            connections = list(self._connections.items())
        for connection, _ in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _, handler in connections:
            handler.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- running it in the foreground -------------------------------------------------------------


def serve_forever(
    emulator: Emulator | None = None,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve ``emulator`` (a default one if None) and say how to reach it, until Ctrl-C or ``stop``.

    Ctrl-C raises ``KeyboardInterrupt`` after the emulator has stopped.
    """
    emulator = emulator if emulator is not None else Emulator()
    out = out if out is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    with emulator:
        print(f"api.airforce emulator listening on {emulator.base_url}", file=out)
        print(f"export AIRFORCE_BASE_URL={emulator.base_url}", file=out)
        print(f"export AIRFORCE_API_KEY={emulator.api_key}", file=out)
        print("Press Ctrl-C to stop.", file=out)
        out.flush()
        while not stop.wait(0.5):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """The ``python -m airforce_openai.testing`` command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m airforce_openai.testing",
        description="Serve a loopback emulator of the api.airforce gateway until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"key to accept ({DEFAULT_API_KEY})"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to each generation"
    )
    parser.add_argument(
        "--catalog", type=Path, help="JSON file: a list of models or a /v1/models envelope"
    )
    parser.add_argument("--log", action="store_true", help="print a line per request on stderr")
    args = parser.parse_args(argv)
    previous = _stop_on_sigterm()
    try:
        try:
            emulator = Emulator(
                api_key=args.api_key,
                catalog=args.catalog,
                latency=args.latency,
                host=args.host,
                port=args.port,
                log_requests=args.log,
            )
        except (TypeError, ValueError) as exc:
            parser.error(str(exc))
        try:
            serve_forever(emulator)
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    """Let SIGTERM stop the server as Ctrl-C does; returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread
    return signal.signal(signal.SIGTERM, _interrupt)
