"""Request hooks: what a hook receives, and how a validation report is enforced.

>>> client.add_request_hook(lambda req: print(req.body["model"], req.model_info))
>>> client.images.generate(model="flux-2-dev", prompt="an otter")   # prints, then sends
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._exceptions import CapabilityError, CapabilityWarning
from .catalog import ImageModel
from .validation import ValidationReport, unsendable_values

__all__ = ["ImageRequest", "RequestHook", "ValidationMode", "enforce", "refuse_unsendable"]

ValidationMode = Literal["strict", "warn", "off"]
VALIDATION_MODES: tuple[ValidationMode, ...] = ("strict", "warn", "off")


@dataclass(frozen=True)
class ImageRequest:
    """A generation request about to be sent, as a request hook sees it.

    ``body`` is the merged JSON body (``extra_body`` included), a copy: editing it
    changes nothing that is sent. ``model_info`` is the catalog entry of
    ``body["model"]``, or ``None`` when the catalog was not consulted or does not
    list the model.
    """

    body: Mapping[str, Any]
    model_info: ImageModel | None
    url: str = "/images/generations"


RequestHook = Callable[[ImageRequest], object]
"""A callable run before each generation request is sent; what it raises aborts the send.

On ``af.AsyncOpenAI`` a hook may also be a coroutine function; it is awaited.
"""


def check_mode(mode: object) -> ValidationMode:
    """Return ``mode`` if it is a validation mode, else raise a ValueError naming it."""
    if isinstance(mode, str) and mode in VALIDATION_MODES:
        return mode
    allowed = ", ".join(repr(m) for m in VALIDATION_MODES)
    given = repr(mode) if isinstance(mode, str) else f"{mode!r} ({type(mode).__name__})"
    message = f"validation={given} is not one of {allowed}"
    if isinstance(mode, str) and mode.strip().lower() in VALIDATION_MODES:
        message += f"; did you mean {mode.strip().lower()!r}?"
    raise ValueError(message)


def refuse_unsendable(body: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None) -> None:
    """Raise ``CapabilityError`` if ``body`` holds a value JSON cannot carry, in every mode.

    NaN, infinity, sets, bytes, other objects and non-string keys cannot be sent: the SDK
    would crash encoding them, or send something the caller did not write. ``extra_body``
    (the part of the body given as ``extra_body=``) only changes how the culprit is named.
    """
    violations = unsendable_values(body, extra_body=extra_body)
    if violations:
        model = body.get("model")
        raise CapabilityError(model if isinstance(model, str) else None, violations)


def enforce(report: ValidationReport, mode: ValidationMode) -> None:
    """Raise or warn for a report as ``mode`` says: strict raises on errors, warn only warns.

    Values JSON cannot carry (``report.unsendable``) are refused in every mode: a request
    holding them cannot be sent at all.
    """
    if report.unsendable and mode != "strict":
        raise CapabilityError(report.model, report.unsendable)
    if mode == "off":
        return
    if mode == "strict" and report.errors:
        raise CapabilityError(report.model, report.errors)
    soft = report.warnings if mode == "strict" else report.errors + report.warnings
    for violation in soft:
        warnings.warn(violation.message, CapabilityWarning, stacklevel=4)
