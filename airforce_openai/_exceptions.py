"""Errors and warnings raised by airforce-openai.

Whatever the gateway, the network or this package reports about a request, a
catalog or a result is an ``openai.OpenAIError``, so the SDK neither retries nor
wraps it, and an existing ``except openai.OpenAIError`` handler keeps working::

    openai.OpenAIError                   also: no API key, a credential the installed SDK lacks
    ├── AirforceError                    anything this package reports itself
    │   ├── CapabilityError (ValueError) the model would refuse the request; nothing was sent
    │   ├── InputImageError (ValueError) an input image is missing, unreadable or not an image
    │   ├── CatalogFormatError (ValueError) the GET /models answer is not a {"data": [...]} object
    │   └── ImageUnavailableError        a result item could not be saved (no data, failed download)
    ├── openai.APIStatusError            the gateway refused or failed (inside a 200 too):
    │                                    RateLimitError, BadRequestError, InternalServerError...
    └── openai.APIConnectionError        the gateway could not be reached (retried first)
        ├── openai.APITimeoutError       connecting timed out, or the catalog missed its deadline
        └── OutcomeUnknownError          the request went out, no result came back; it may be billed
            └── OutcomeUnknownTimeoutError (also openai.APITimeoutError)

    UserWarning
    └── CapabilityWarning                a request the model may refuse, sent anyway

Outside the tree, as in the stock SDK:

- a bad argument of our own functions and constructors is a ``TypeError`` (wrong type)
  or a ``ValueError`` (unusable value) naming it: ``validation="STRICT"``,
  ``max_answer_bytes=0``, ``image_params(seed="7")``, ``save_images(..., max_bytes=0)``,
  ``generate_many(..., concurrency=0)``;
- ``save_images`` and ``asave_images`` raise the ``OSError`` of a directory they cannot write
  (``NotADirectoryError``, a full disk, ``FileExistsError`` when no free name is left);
- what the caller's own code raises (a request hook, an httpx event hook or transport, an
  ``on_progress`` callback) reaches the caller unchanged;
- the LangChain tool reports a refused or failed call as LangChain's own ``ToolException``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from ._compat import httpx

__all__ = [
    "AirforceError",
    "CapabilityError",
    "CapabilityWarning",
    "CatalogFormatError",
    "ImageUnavailableError",
    "InputImageError",
    "OutcomeUnknownError",
    "OutcomeUnknownTimeoutError",
    "Violation",
]


@dataclass(frozen=True)
class Violation:
    """One reason a model would refuse a request.

    >>> v = Violation("n", 5, 4, "flux-2-dev: n 5 is above the maximum of 4")
    >>> v.param, v.allowed
    ('n', 4)
    """

    param: str
    value: Any
    allowed: Any
    message: str

    def __str__(self) -> str:
        return self.message


class AirforceError(openai.OpenAIError):
    """Base class of the errors this package raises on its own."""


class CapabilityError(AirforceError, ValueError):
    """A request the model would refuse; raised before anything is sent or billed.

    >>> wide = af.image_params(aspect_ratio="7:3")
    >>> try:
    ...     client.images.generate(model="flux-2-dev", prompt="x", n=9, extra_body=wide)
    ... except af.CapabilityError as err:
    ...     print(err.model, sorted(v.param for v in err.violations))
    flux-2-dev ['aspect_ratio', 'n']
    """

    def __init__(self, model: str | None, violations: Sequence[Violation]) -> None:
        self.model = model
        self.violations = list(violations)
        lines = [v.message for v in self.violations]
        if len(lines) == 1:
            message = lines[0]
        else:
            message = f"{len(lines)} problems with this request:\n" + "\n".join(
                f"  - {line}" for line in lines
            )
        super().__init__(message)


class CapabilityWarning(UserWarning):
    """A request the model may refuse, sent anyway (``validation="warn"``, or a soft rule)."""


class InputImageError(AirforceError, ValueError):
    """An input image that cannot be sent: missing, unreadable, empty or not an image.

    ``.source`` is the offending path, URL or position, as given.
    """

    def __init__(self, message: str, *, source: object = None) -> None:
        self.source = source
        super().__init__(message)


class ImageUnavailableError(AirforceError):
    """Some result items could not be saved; the others were.

    ``.indexes`` lists the failed items, ``.paths`` the files that were written,
    in the order of the response (``None`` where an item failed).
    """

    def __init__(
        self,
        message: str,
        *,
        indexes: Sequence[int],
        paths: Sequence[Path | None] = (),
    ) -> None:
        self.indexes = list(indexes)
        self.paths = list(paths)
        super().__init__(message)

    @property
    def saved(self) -> list[Path]:
        """The paths of the items that were saved."""
        return [p for p in self.paths if p is not None]


class CatalogFormatError(AirforceError, ValueError):
    """The ``GET /models`` answer is not a JSON object with a ``data`` list of models.

    Odd entries inside a usable list are skipped with a warning instead; this is
    for an answer with no usable list at all (non-JSON, a bare list, ``data`` not a list).
    """


class OutcomeUnknownError(openai.APIConnectionError):
    """The generation request reached the gateway, but no result came back.

    The render may have completed and been billed, so it is never re-sent
    automatically. Check your usage before trying again.
    """

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        # Call APIConnectionError directly: APITimeoutError's __init__ takes no message.
        openai.APIConnectionError.__init__(self, message=message, request=request)


class OutcomeUnknownTimeoutError(OutcomeUnknownError, openai.APITimeoutError):
    """The generation request went out and timed out waiting for the result; it may be billed."""
