"""The model catalog as ``GET /v1/models`` lists it: lenient and pure parsing.

The cache that holds it, and the ``Catalog`` facades, live in ``_catalog_cache``.

    >>> models = parse_catalog({"data": [{"id": "flux-2-dev", "output_modalities": ["image"]}]})
    >>> models["flux-2-dev"].is_image
    True
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._exceptions import CatalogFormatError
from ._values import is_int, is_number, lenient_number, shorten

__all__ = ["ImageCaps", "ImageModel", "OutputKind", "parse_catalog"]

logger = logging.getLogger("airforce_openai")

OutputKind = Literal["image", "video", "audio", "text", "unknown"]


@dataclass(frozen=True)
class ImageCaps:
    """What a model accepts, as ``image_caps`` states it; ``None`` means the gateway did not say."""

    max_n: int | None = None
    aspect_ratios: tuple[str, ...] | None = None
    qualities: tuple[str, ...] | None = None
    max_input_images: int | None = None
    supports_url_input: bool | None = None
    supports_seed: bool | None = None


@dataclass(frozen=True)
class ImageModel:
    """One catalog entry: its id, capabilities, price and the raw entry as sent."""

    id: str
    caps: ImageCaps = field(default_factory=ImageCaps)
    price_per_image_usd: float | None = None
    output: OutputKind = "unknown"
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_image(self) -> bool:
        """True when the entry is detected as an image model."""
        return self.output == "image"

    @property
    def is_text_only(self) -> bool:
        """True when the entry says the model produces only text (a chat model)."""
        return self.output == "text"


# --------------------------------------------------------------------------- parsing

_AUDIO_WORDS = frozenset({"audio", "music", "speech", "sfx"})
_TEXT_WORDS = frozenset({"text", "chat"})
_INT_CAPS = ("max_n", "max_input_images")
_STR_TUPLE_CAPS = ("aspect_ratios", "qualities")
_BOOL_CAPS = ("supports_url_input", "supports_seed")
_TRUE_WORDS = frozenset({"true", "yes", "1"})
_FALSE_WORDS = frozenset({"false", "no", "0"})
_ENVELOPE = "a JSON object {'object': 'list', 'data': [...]}"


class _Hopeless(Exception):
    """A field value that cannot be coerced to what the field means."""


def parse_catalog(payload: object) -> dict[str, ImageModel]:
    """Every model the ``GET /models`` payload lists, by id, in the order listed.

    ``payload`` is the decoded answer, ``{"object": "list", "data": [...]}``, or its text
    when the SDK could not tell it was JSON. Malformed entries are skipped with a warning
    on the ``airforce_openai`` logger; an answer with no usable ``data`` list (a bare list,
    a string, non-JSON text, ``data`` missing or not a list) raises ``CatalogFormatError``.
    """
    entries = _entries(payload)
    models: dict[str, ImageModel] = {}
    for index, entry in enumerate(entries):
        model = _parse_entry(index, entry)
        if model is None:
            continue
        if model.id in models:
            logger.warning(
                "catalog entry %d repeats model id %r; the first entry is kept", index, model.id
            )
            continue
        models[model.id] = model
    return models


def _entries(payload: object) -> list[Any]:
    if isinstance(payload, str):
        # Served with a non-JSON content type, the answer reaches us as text.
        text = payload
        try:
            payload = json.loads(text)
        except ValueError:
            raise CatalogFormatError(
                f"the GET /models answer is not JSON: {_excerpt(text)}; expected {_ENVELOPE}"
            ) from None
    if not isinstance(payload, Mapping):
        raise CatalogFormatError(
            f"the GET /models answer is {_type_name(payload)}, expected {_ENVELOPE}"
        )
    if "data" not in payload:
        raise CatalogFormatError(f"the GET /models answer has no 'data' key; expected {_ENVELOPE}")
    data = payload["data"]
    if not isinstance(data, list):
        raise CatalogFormatError(
            f"the GET /models answer's 'data' is {_type_name(data)}, expected a list of models"
        )
    return data


def _excerpt(text: str) -> str:
    shown = " ".join(text.split())
    return repr(shorten(shown, 63)) if shown else "an empty body"


def _parse_entry(index: int, entry: object) -> ImageModel | None:
    if not isinstance(entry, Mapping):
        logger.warning("catalog entry %d is %s, not an object; skipped", index, _type_name(entry))
        return None
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        logger.warning("catalog entry %d has no string 'id' (got %r); skipped", index, model_id)
        return None
    output = _detect_output(entry)
    try:
        caps = _parse_caps(model_id, entry, output)
    except _Hopeless as exc:
        logger.warning("catalog entry %d (%r): %s; skipped", index, model_id, exc)
        return None
    return ImageModel(
        id=model_id,
        caps=caps,
        price_per_image_usd=_price_per_image_usd(entry),
        output=output,
        raw=dict(entry),
    )


def _detect_output(entry: Mapping[str, Any]) -> OutputKind:
    # The catalog has drifted: newer entries state output_modalities, older ones only
    # media_type or supports_images, so the fields are consulted newest first.
    modalities = _words(entry.get("output_modalities"))
    if "image" in modalities:
        return "image"
    if "video" in modalities:
        return "video"
    if modalities & _AUDIO_WORDS:
        return "audio"
    if modalities and modalities <= _TEXT_WORDS:
        return "text"

    media_type = entry.get("media_type")
    media = media_type.strip().lower() if isinstance(media_type, str) else None
    if media == "image":
        return "image"
    if media == "video":
        return "video"
    if media in _AUDIO_WORDS:
        return "audio"

    if entry.get("supports_images") is True:
        return "image"
    says_otherwise = bool(modalities) or (media is not None and media not in _TEXT_WORDS)
    if entry.get("supports_chat") is True and not says_otherwise:
        return "text"
    return "unknown"


def _words(value: object) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return frozenset()
    return frozenset(item.strip().lower() for item in value if isinstance(item, str))


def _parse_caps(model_id: str, entry: Mapping[str, Any], output: OutputKind) -> ImageCaps:
    raw = _caps_source(entry, output)
    if raw is None:
        return ImageCaps()
    values: dict[str, Any] = {}
    for name, coerce in _CAP_COERCERS:
        value = raw.get(name)
        if value is None:
            continue
        try:
            values[name] = coerce(value)
        except _Hopeless as exc:
            logger.warning("catalog model %r: caps field %r %s; ignored", model_id, name, exc)
    return ImageCaps(**values)


def _caps_source(entry: Mapping[str, Any], output: OutputKind) -> Mapping[str, Any] | None:
    keys = ["image_caps"]
    if output == "video":
        keys += ["video_caps", "audio_caps"]
    elif output == "audio":
        keys += ["audio_caps", "video_caps"]
    for key in keys:
        value = entry.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            # Some serialisers send a nested object as a JSON string.
            try:
                value = json.loads(value)
            except ValueError:
                raise _Hopeless(f"{key!r} is a string that is not a JSON object") from None
        if isinstance(value, Mapping):
            return value
        raise _Hopeless(f"{key!r} is {_type_name(value)}, expected an object")
    return None


def _coerce_int(value: object) -> int:
    number: int
    if isinstance(value, bool):
        raise _Hopeless(f"is a boolean ({value!r}), expected an integer")
    if is_int(value):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        as_number = lenient_number(value)
        if as_number is None or not as_number.is_integer():
            raise _Hopeless(f"is {value!r}, expected an integer")
        number = int(as_number)
    else:
        raise _Hopeless(f"is {_type_name(value)} {value!r}, expected an integer")
    if number < 0:
        raise _Hopeless(f"is {value!r}, expected an integer >= 0")
    return number


def _coerce_str_tuple(value: object) -> tuple[str, ...] | None:
    items: Iterable[object]
    if isinstance(value, str):
        # A comma-separated string is how a few older entries list their values.
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise _Hopeless(f"is {_type_name(value)}, expected a list of strings")
    result: list[str] = []
    for item in items:
        if isinstance(item, str):
            text = item.strip()
        elif is_number(item):
            text = str(item)
        else:
            raise _Hopeless(f"holds {_type_name(item)} {item!r}, expected strings")
        if text:
            result.append(text)
    # An empty list states nothing the validator could enforce.
    return tuple(result) or None


def _coerce_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _Hopeless(f"is {_type_name(value)} {value!r}, expected true or false")


_CAP_COERCERS: tuple[tuple[str, Callable[[object], Any]], ...] = (
    *((name, _coerce_int) for name in _INT_CAPS),
    *((name, _coerce_str_tuple) for name in _STR_TUPLE_CAPS),
    *((name, _coerce_bool) for name in _BOOL_CAPS),
)


def _price_per_image_usd(entry: Mapping[str, Any]) -> float | None:
    # Every catalog price is in cents: priceperthousandimages per 1,000 images,
    # price_per_generation_cents per generation.
    per_thousand = _cents(entry.get("priceperthousandimages"))
    if per_thousand is not None:
        return per_thousand / 100 / 1000
    per_generation = _cents(entry.get("price_per_generation_cents"))
    if per_generation is not None:
        return per_generation / 100
    return None


def _cents(value: object) -> float | None:
    number = lenient_number(value)
    return None if number is None or number < 0 else number


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"
