"""The official ``openai`` SDK, pointed at api.airforce.

>>> import airforce_openai as af
>>> client = af.OpenAI()                   # AIRFORCE_API_KEY from the environment
>>> client.images.generate(model="flux-2-dev", prompt="an otter",
...                        extra_body=af.image_params(aspect_ratio="16:9"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import DEFAULT_BASE_URL, AsyncOpenAI, OpenAI
from ._exceptions import (
    AirforceError,
    CapabilityError,
    CapabilityWarning,
    ImageUnavailableError,
    InputImageError,
    OutcomeUnknownError,
    OutcomeUnknownTimeoutError,
    Violation,
)
from ._version import __version__
from .catalog import ImageCaps, ImageModel
from .hooks import ImageRequest
from .params import InputImage, image_params, suno_params
from .results import asave_images, save_images

if TYPE_CHECKING:
    from . import tools as tools
    from .batch import generate_many as generate_many
    from .batch import generate_many_sync as generate_many_sync

__all__ = [
    "DEFAULT_BASE_URL",
    "AirforceError",
    "AsyncOpenAI",
    "CapabilityError",
    "CapabilityWarning",
    "ImageCaps",
    "ImageModel",
    "ImageRequest",
    "ImageUnavailableError",
    "InputImage",
    "InputImageError",
    "OpenAI",
    "OutcomeUnknownError",
    "OutcomeUnknownTimeoutError",
    "Violation",
    "__version__",
    "asave_images",
    "generate_many",
    "generate_many_sync",
    "image_params",
    "save_images",
    "suno_params",
    "tools",
]

# Loaded on first use, so `import airforce_openai` stays as light as `import openai`.
_LAZY = {
    "tools": ("airforce_openai.tools", None),
    "generate_many": ("airforce_openai.batch", "generate_many"),
    "generate_many_sync": ("airforce_openai.batch", "generate_many_sync"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'airforce_openai' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value
