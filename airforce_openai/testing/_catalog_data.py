"""The emulator's default ``GET /v1/models`` catalog, drifted the way the live one is.

    >>> [m["id"] for m in default_catalog()][:3]
    ['flux-2-klein-4b', 'flux-2-klein-9b', 'flux-2-dev']

Prices follow the gateway: ``priceperthousandimages`` and ``price_per_generation_cents`` are
cents, ``pricepermilliontokens`` is cents per million tokens, ``customer_price_table`` parts
are micro-USD.

Entries that only use older or partial shapes, on purpose:

- ``flux-2-klein-9b``: old shape, ``media_type: "image"`` and no ``output_modalities``;
  ``image_caps`` states only ``max_n`` and ``aspect_ratios`` (the two caps seen in live use).
- ``nano-banana-2``: ``output_modalities`` is ``["text", "image"]`` (image is not first).
- ``nano-banana-2-search``: only ``supports_images: true``; no ``media_type``, no modalities;
  ``status`` and ``tier`` are ``null``.
- ``suno-v4.5``: no ``image_caps`` key at all; ``priceperthousandimages`` is ``null``.
- ``seedream-4``: ``image_caps: null``, ``priceperthousandimages: null``, status ``degraded``.
- ``llama-3.3-70b``: a chat model known only by ``supports_chat: true``;
  ``output_modalities`` is ``null``.

Capabilities worth a test: ``flux-2-klein-4b`` is text-only (``max_input_images: 0``);
``flux-2-dev`` states ``qualities``; ``nano-banana-2`` refuses URL inputs
(``supports_url_input: false``) and ignores seeds (``supports_seed: false``); the Nano-Banana
entries carry an extra ``resolutions`` cap for their ``resolution`` parameter. That field is
the emulator's, not a documented ``image_caps`` field: it carries the values reference.md
gives for the Nano-Banana family ("512", "1024", "2048"), so the rule applies only where an
entry states it.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["default_catalog"]

_FLUX_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
_NANO_RATIOS = ["1:1", "16:9", "9:16", "4:3"]
_NANO_RESOLUTIONS = ["512", "1024", "2048"]
_IMAGE_PARAMETERS = [
    "prompt",
    "n",
    "size",
    "aspect_ratio",
    "response_format",
    "seed",
    "input_images",
    "image_urls",
    "sse",
    "models",
]
_CREATED = 1_767_225_600  # 2026-01-01

_CATALOG: list[dict[str, Any]] = [
    {
        "id": "flux-2-klein-4b",
        "owned_by": "black-forest-labs",
        "status": "operational",
        "tier": "free",
        "supports_chat": False,
        "supports_images": True,
        "media_type": "image",
        "input_modalities": ["text"],
        "output_modalities": ["image"],
        "image_caps": {
            "max_n": 4,
            "aspect_ratios": _FLUX_RATIOS,
            "max_input_images": 0,
            "supports_url_input": True,
            "supports_seed": True,
        },
        "priceperthousandimages": 150,
        "multiplier": 1,
        "supported_parameters": [p for p in _IMAGE_PARAMETERS if p not in ("input_images",)],
        "default_parameters": {"n": 1, "aspect_ratio": "1:1"},
    },
    {
        "id": "flux-2-klein-9b",
        "owned_by": "black-forest-labs",
        "status": "operational",
        "tier": "free",
        "media_type": "image",
        "image_caps": {"max_n": 4, "aspect_ratios": _FLUX_RATIOS},
        "priceperthousandimages": 300,
    },
    {
        "id": "flux-2-dev",
        "owned_by": "black-forest-labs",
        "status": "operational",
        "tier": "paid",
        "supports_chat": False,
        "supports_images": True,
        "media_type": "image",
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
        "image_caps": {
            "max_n": 4,
            "aspect_ratios": _FLUX_RATIOS,
            "qualities": ["standard", "hd"],
            "max_input_images": 4,
            "supports_url_input": True,
            "supports_seed": True,
        },
        "priceperthousandimages": 500,
        "multiplier": 1,
        "customer_price_table": {"per_image": 5000},
        "supported_parameters": [*_IMAGE_PARAMETERS, "quality"],
        "default_parameters": {"n": 1, "quality": "standard"},
    },
    {
        "id": "nano-banana-2",
        "owned_by": "google",
        "status": "operational",
        "tier": "free",
        "supports_chat": False,
        "supports_images": True,
        "media_type": "image",
        "input_modalities": ["text", "image"],
        "output_modalities": ["text", "image"],
        "image_caps": {
            "max_n": 1,
            "aspect_ratios": _NANO_RATIOS,
            "resolutions": _NANO_RESOLUTIONS,
            "max_input_images": 3,
            "supports_url_input": False,
            "supports_seed": False,
        },
        "priceperthousandimages": 200,
        "pricepermilliontokens": None,
        "supported_parameters": [*_IMAGE_PARAMETERS, "resolution"],
    },
    {
        "id": "nano-banana-2-search",
        "owned_by": "google",
        "status": None,
        "tier": None,
        "supports_images": True,
        "image_caps": {
            "max_n": 1,
            "aspect_ratios": _NANO_RATIOS,
            "resolutions": _NANO_RESOLUTIONS,
            "supports_seed": False,
        },
        "priceperthousandimages": 250,
    },
    {
        "id": "nano-banana-pro",
        "owned_by": "google",
        "status": "operational",
        "tier": "paid",
        "supports_chat": False,
        "supports_images": True,
        "media_type": "image",
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
        "image_caps": {
            "max_n": 2,
            "aspect_ratios": _NANO_RATIOS,
            "resolutions": _NANO_RESOLUTIONS,
            "max_input_images": 8,
            "supports_url_input": True,
            "supports_seed": True,
        },
        "priceperthousandimages": 1200,
        "multiplier": 1.5,
        "supported_parameters": [*_IMAGE_PARAMETERS, "resolution"],
    },
    {
        "id": "seedream-4",
        "owned_by": "bytedance",
        "status": "degraded",
        "tier": "paid",
        "supports_chat": False,
        "supports_images": True,
        "media_type": "image",
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
        "image_caps": None,
        "priceperthousandimages": None,
        "price_per_generation_cents": 0.4,
    },
    {
        "id": "suno-v4.5",
        "owned_by": "suno",
        "status": "operational",
        "tier": "paid",
        "supports_chat": False,
        "supports_images": False,
        "media_type": "audio",
        "input_modalities": ["text"],
        "output_modalities": ["audio"],
        "priceperthousandimages": None,
        "price_per_generation_cents": 8,
        "audio_caps": {"max_duration_seconds": 240, "formats": ["mp3"]},
        "supported_parameters": ["prompt", "n", "custom", "instrumental", "style"],
    },
    {
        "id": "suno-v5",
        "owned_by": "suno",
        "status": "operational",
        "tier": "paid",
        "supports_chat": False,
        "supports_images": False,
        "media_type": "audio",
        "input_modalities": ["text"],
        "output_modalities": ["audio"],
        "image_caps": {"max_n": 2, "max_input_images": 0},
        "audio_caps": {"max_duration_seconds": 480, "formats": ["mp3"]},
        "price_per_generation_cents": 10,
        "supported_parameters": ["prompt", "n", "custom", "instrumental", "style"],
    },
    {
        "id": "wan-2.2",
        "owned_by": "alibaba",
        "status": "partial_outage",
        "tier": "paid",
        "supports_chat": False,
        "supports_images": False,
        "media_type": "video",
        "input_modalities": ["text", "image"],
        "output_modalities": ["video"],
        "image_caps": {
            "max_n": 1,
            "aspect_ratios": ["16:9", "9:16", "1:1"],
            "max_input_images": 1,
            "supports_url_input": True,
            "supports_seed": True,
        },
        "video_caps": {"durations": [5], "fps": 16},
        "price_per_generation_cents": 25,
        "supported_parameters": ["prompt", "aspect_ratio", "seed", "input_images"],
    },
    {
        "id": "gpt-4o-mini",
        "owned_by": "openai",
        "status": "operational",
        "tier": "free",
        "supports_chat": True,
        "supports_images": False,
        "media_type": "text",
        "input_modalities": ["text", "image"],
        "output_modalities": ["text"],
        "pricepermilliontokens": 60,
        "supported_parameters": ["messages", "temperature", "max_tokens", "stream"],
    },
    {
        "id": "llama-3.3-70b",
        "owned_by": "meta",
        "status": "operational",
        "tier": "free",
        "supports_chat": True,
        "output_modalities": None,
        "pricepermilliontokens": 20,
    },
]


def default_catalog() -> list[dict[str, Any]]:
    """A fresh deep copy of the default catalog entries (the ``data`` of ``GET /v1/models``)."""
    # One copy per entry, so entries never share a list (deepcopy keeps aliasing within a call).
    # Every entry is a model object: those two fields never drift, so they are added here.
    return [
        {"id": entry["id"], "object": "model", "created": _CREATED, **copy.deepcopy(entry)}
        for entry in _CATALOG
    ]
