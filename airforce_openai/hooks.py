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
from .validation import ValidationReport

__all__ = ["ImageRequest", "RequestHook", "ValidationMode", "enforce"]

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
    if mode not in VALIDATION_MODES:
        raise ValueError(
            f"validation={mode!r} is not one of {', '.join(repr(m) for m in VALIDATION_MODES)}"
        )
    return mode


def enforce(report: ValidationReport, mode: ValidationMode) -> None:
    """Raise or warn for a report as ``mode`` says: strict raises on errors, warn only warns."""
    if mode == "off":
        return
    if mode == "strict" and report.errors:
        raise CapabilityError(report.model, report.errors)
    soft = report.warnings if mode == "strict" else report.errors + report.warnings
    for violation in soft:
        warnings.warn(violation.message, CapabilityWarning, stacklevel=4)
