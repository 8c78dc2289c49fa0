"""The model catalog the emulated gateway serves, and what it says about each model.

>>> catalog = load_catalog([{"id": "flux-2-dev", "output_modalities": ["image"]}])
>>> entry_kind(catalog.find("flux-2-dev"))
'image'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from .._values import is_number
from ._catalog_data import default_catalog

__all__ = [
    "Catalog",
    "CatalogSource",
    "entry_kind",
    "format_cents",
    "image_caps",
    "load_catalog",
    "price_cents",
]

CatalogSource: TypeAlias = (
    Sequence[Mapping[str, Any]] | Mapping[str, Any] | str | os.PathLike[str] | None
)


@dataclass(frozen=True)
class Catalog:
    """A catalog document as served, with its entries indexed by model id."""

    body: Any  # the JSON document GET /v1/models answers, as given
    by_id: dict[str, dict[str, Any]]

    @property
    def entries(self) -> list[Any]:
        """The document's ``data`` list, or an empty one when it has none."""
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


def load_catalog(source: CatalogSource) -> Catalog:
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
    catalog = Catalog(body, {})
    for entry in catalog.entries:
        model_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(model_id, str) and model_id not in catalog.by_id:
            catalog.by_id[model_id] = entry
    return catalog


def entry_kind(entry: Mapping[str, Any]) -> str:
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


def image_caps(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """The entry's ``image_caps`` object, or an empty one."""
    caps = entry.get("image_caps")
    return caps if isinstance(caps, Mapping) else {}


def price_cents(entry: Mapping[str, Any]) -> float:
    """What one generated file costs, in cents (0 when the entry states no price)."""
    for field, per in (("priceperthousandimages", 1000), ("price_per_generation_cents", 1)):
        price = entry.get(field)
        if is_number(price) and math.isfinite(price):
            return float(price) / per
    return 0.0


def format_cents(cents: float) -> str:
    """Cents as an ``X-Cost-Cents`` header value: at most 4 decimals, no trailing zeros."""
    return f"{cents:.4f}".rstrip("0").rstrip(".") or "0"
