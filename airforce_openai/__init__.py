"""The official ``openai`` SDK, pointed at api.airforce.

>>> client = af.OpenAI()                   # AIRFORCE_API_KEY from the environment
>>> response = client.images.generate(model="flux-2-dev", prompt="an otter",
...                                   extra_body=af.image_params(aspect_ratio="16:9"))
>>> af.save_images(response, "out")
[...Path('out/image-0.png')]

This module is the public face: every name a user catches, annotates or constructs is
here, and api.md documents each one. The ``_modules`` behind it are private. Names are
loaded on first use: the pytest plugin this package registers imports
``airforce_openai.testing`` in every pytest run, and must not load the SDK there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import tools as tools
    from ._batch import Progress as Progress
    from ._batch import generate_many as generate_many
    from ._batch import generate_many_sync as generate_many_sync
    from ._catalog import ImageCaps as ImageCaps
    from ._catalog import ImageModel as ImageModel
    from ._catalog import OutputKind as OutputKind
    from ._catalog import parse_catalog as parse_catalog
    from ._catalog_cache import AsyncCatalog as AsyncCatalog
    from ._catalog_cache import Catalog as Catalog
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
    from ._hooks import ImageRequest as ImageRequest
    from ._hooks import RequestHook as RequestHook
    from ._params import MAX_INPUT_IMAGE_BYTES as MAX_INPUT_IMAGE_BYTES
    from ._params import ImageParams as ImageParams
    from ._params import ImageSource as ImageSource
    from ._params import InputImage as InputImage
    from ._params import InputImageDict as InputImageDict
    from ._params import SunoParams as SunoParams
    from ._params import image_params as image_params
    from ._params import suno_params as suno_params
    from ._results import asave_images as asave_images
    from ._results import save_images as save_images
    from ._validation import ValidationMode as ValidationMode
    from ._validation import ValidationReport as ValidationReport
    from ._validation import check_request as check_request
    from ._validation import unsendable_values as unsendable_values

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_INPUT_IMAGE_BYTES",
    "AirforceError",
    "AsyncCatalog",
    "AsyncOpenAI",
    "CapabilityError",
    "CapabilityWarning",
    "Catalog",
    "CatalogFormatError",
    "ImageCaps",
    "ImageModel",
    "ImageParams",
    "ImageRequest",
    "ImageSource",
    "ImageUnavailableError",
    "InputImage",
    "InputImageDict",
    "InputImageError",
    "OpenAI",
    "OutcomeUnknownError",
    "OutcomeUnknownTimeoutError",
    "OutputKind",
    "Progress",
    "RequestHook",
    "SunoParams",
    "ValidationMode",
    "ValidationReport",
    "Violation",
    "__version__",
    "asave_images",
    "check_request",
    "generate_many",
    "generate_many_sync",
    "image_params",
    "parse_catalog",
    "save_images",
    "suno_params",
    "tools",
    "unsendable_values",
]

_HOMES = {
    "Progress": "._batch",
    "generate_many": "._batch",
    "generate_many_sync": "._batch",
    "ImageCaps": "._catalog",
    "ImageModel": "._catalog",
    "OutputKind": "._catalog",
    "parse_catalog": "._catalog",
    "AsyncCatalog": "._catalog_cache",
    "Catalog": "._catalog_cache",
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
    "ImageRequest": "._hooks",
    "RequestHook": "._hooks",
    "MAX_INPUT_IMAGE_BYTES": "._params",
    "ImageParams": "._params",
    "ImageSource": "._params",
    "InputImage": "._params",
    "InputImageDict": "._params",
    "SunoParams": "._params",
    "image_params": "._params",
    "suno_params": "._params",
    "asave_images": "._results",
    "save_images": "._results",
    "ValidationMode": "._validation",
    "ValidationReport": "._validation",
    "check_request": "._validation",
    "unsendable_values": "._validation",
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
