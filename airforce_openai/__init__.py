"""The official ``openai`` SDK, pointed at api.airforce.

>>> client = af.OpenAI()                   # AIRFORCE_API_KEY from the environment
>>> client.images.generate(model="flux-2-dev", prompt="an otter",
...                        extra_body=af.image_params(aspect_ratio="16:9"))

Names are loaded on first use: the pytest plugin this package registers imports
``airforce_openai.testing`` in every pytest run, and must not load the SDK there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import tools as tools
    from ._client import DEFAULT_BASE_URL as DEFAULT_BASE_URL
    from ._client import AsyncOpenAI as AsyncOpenAI
    from ._client import OpenAI as OpenAI
    from ._exceptions import AirforceError as AirforceError
    from ._exceptions import CapabilityError as CapabilityError
    from ._exceptions import CapabilityWarning as CapabilityWarning
    from ._exceptions import CatalogFormatError as CatalogFormatError
    from ._exceptions import ImageUnavailableError as ImageUnavailableError
    from ._exceptions import InputImageError as InputImageError
    from ._exceptions import OutcomeUnknownError as OutcomeUnknownError
    from ._exceptions import OutcomeUnknownTimeoutError as OutcomeUnknownTimeoutError
    from ._exceptions import Violation as Violation
    from .batch import Progress as Progress
    from .batch import generate_many as generate_many
    from .batch import generate_many_sync as generate_many_sync
    from .catalog import ImageCaps as ImageCaps
    from .catalog import ImageModel as ImageModel
    from .hooks import ImageRequest as ImageRequest
    from .params import InputImage as InputImage
    from .params import image_params as image_params
    from .params import suno_params as suno_params
    from .results import asave_images as asave_images
    from .results import save_images as save_images

__all__ = [
    "DEFAULT_BASE_URL",
    "AirforceError",
    "AsyncOpenAI",
    "CapabilityError",
    "CapabilityWarning",
    "CatalogFormatError",
    "ImageCaps",
    "ImageModel",
    "ImageRequest",
    "ImageUnavailableError",
    "InputImage",
    "InputImageError",
    "OpenAI",
    "OutcomeUnknownError",
    "OutcomeUnknownTimeoutError",
    "Progress",
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

_HOMES = {
    "DEFAULT_BASE_URL": "._client",
    "AsyncOpenAI": "._client",
    "OpenAI": "._client",
    "AirforceError": "._exceptions",
    "CapabilityError": "._exceptions",
    "CapabilityWarning": "._exceptions",
    "CatalogFormatError": "._exceptions",
    "ImageUnavailableError": "._exceptions",
    "InputImageError": "._exceptions",
    "OutcomeUnknownError": "._exceptions",
    "OutcomeUnknownTimeoutError": "._exceptions",
    "Violation": "._exceptions",
    "Progress": ".batch",
    "generate_many": ".batch",
    "generate_many_sync": ".batch",
    "ImageCaps": ".catalog",
    "ImageModel": ".catalog",
    "ImageRequest": ".hooks",
    "InputImage": ".params",
    "image_params": ".params",
    "suno_params": ".params",
    "asave_images": ".results",
    "save_images": ".results",
}


def __getattr__(name: str) -> Any:
    if name == "tools":
        value: Any = importlib.import_module(".tools", __name__)
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    else:
        raise AttributeError(f"module 'airforce_openai' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
