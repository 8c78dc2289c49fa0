"""Faults: the ways the emulated gateway misbehaves on purpose, and how they are described.

    >>> [fault.kind for fault in Fault.parse_header("delay:0.2; status:429")]
    ['delay', 'status']

A fault comes from ``Emulator.inject`` (queued for the next generation requests) or from the
``X-Emulator-Fault`` request header (for that request only). The header holds either JSON (one
``Fault.to_dict()`` object, or a list of them) or short items separated by ``;``::

    X-Emulator-Fault: status:429
    X-Emulator-Fault: delay:0.2; sse:crlf,progress
    X-Emulator-Fault: {"kind": "status", "http_status": 429, "retry_after": 1}

Short items: ``delay:S``, ``hang:S``, ``file_hang:S``, ``status:CODE``,
``error_in_200[:CODE]``, ``sse[:VARIANT,...]``, ``null_url``, ``file_404``,
``drop_connection``, ``provider_failure[:MODEL,...]``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from .._values import is_int, is_number
from ._errors import error_object, status_defaults

__all__ = [
    "FAULT_HEADER",
    "FAULT_KINDS",
    "SSE_VARIANTS",
    "ErrorShape",
    "Fault",
    "FaultKind",
    "SseVariant",
    "fault_error_body",
]

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

FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
SSE_VARIANTS: tuple[str, ...] = get_args(SseVariant)
# An event stream has one outcome: a result, an error event, or nothing at all.
_SSE_OUTCOMES = ("error_string", "error_object", "keepalive_only")


@dataclass(frozen=True)
class Fault:
    """A way for the gateway to misbehave; build one with a named constructor and inject it.

    >>> Fault.status(429, retry_after=1).to_header()  # or emu.inject(...) it
    '{"kind":"status","http_status":429,"retry_after":1}'
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
        status, code, header = self.http_status, self.error_code, self.retry_after_header
        for name, fits, expected in (
            ("kind", self.kind in FAULT_KINDS, f"one of {', '.join(FAULT_KINDS)}"),
            ("seconds", _duration(self.seconds), "a finite number >= 0"),
            (
                "http_status",
                status is None or (is_int(status) and 100 <= status <= 599),
                "an HTTP status code",
            ),
            ("shape", self.shape in ("object", "string"), "'object' or 'string'"),
            (
                "error_code",
                code is None or isinstance(code, str) or is_int(code),
                "a string or an int",
            ),
            ("message", self.message is None or isinstance(self.message, str), "a string"),
            (
                "retry_after",
                self.retry_after is None or _duration(self.retry_after),
                "a number >= 0",
            ),
            ("retry_after_header", header is None or isinstance(header, str), "a string"),
            ("variants", isinstance(self.variants, (list, tuple)), "a list of names"),
        ):
            if not fits:
                raise ValueError(f"Fault.{name} must be {expected}; got {getattr(self, name)!r}")
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
            return cls._from_short(name, args)
        except ValueError as exc:
            raise ValueError(f"{FAULT_HEADER} item {item!r}: {exc}") from None

    @classmethod
    def _from_short(cls, name: str, args: list[str]) -> Fault:
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
        raise ValueError(f"unknown fault {name!r}; expected one of {', '.join(FAULT_KINDS)}")


def _duration(value: object) -> bool:
    return is_number(value) and 0 <= value < math.inf


def _header_number(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if not _duration(value):
        raise ValueError(f"retry_after_header must be a number >= 0 or a string; got {value!r}")
    return str(int(value)) if float(value).is_integer() else str(value)


def fault_error_body(fault: Fault, status: int, *, code_default: str | int | None) -> Any:
    """The error body a ``status`` or ``error_in_200`` fault answers with, shaped as it asks."""
    kind, _, default_message = status_defaults(status)
    message = fault.message if fault.message is not None else default_message
    body: dict[str, Any]
    if fault.shape == "string":
        body = {"error": message, "message": message}
    else:
        code = fault.error_code if fault.error_code is not None else code_default
        body = error_object(message, kind=kind, param=None, code=code)
    if fault.retry_after is not None:
        body["retry_after"] = fault.retry_after
    return body
