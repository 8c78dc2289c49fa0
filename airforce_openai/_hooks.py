"""Request hooks: what a hook receives.

>>> hook = client.add_request_hook(lambda req: print(req.body["n"], req.model_info.caps.max_n))
>>> response = client.images.generate(model="flux-2-dev", prompt="an otter", n=2)  # then sent
2 4
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._catalog import ImageModel

__all__ = ["ImageRequest", "RequestHook"]


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
