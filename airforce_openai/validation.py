"""Pure capability checks: a ``POST /images/generations`` body against the parsed catalog.

>>> report = check_request({"model": "flux-2-dev", "prompt": "an otter", "n": 9}, models)
>>> [v.message for v in report.errors]
['flux-2-dev: n 9 is above the maximum of 4']
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._exceptions import Violation
from .catalog import ImageModel

__all__ = ["MAX_FALLBACK_MODELS", "ValidationReport", "check_request"]

MAX_FALLBACK_MODELS = 3
"""The gateway tries at most this many ids from a ``models`` fallback list."""

_URL_PREFIXES = ("http://", "https://")
_ASPECT_RATIO_KEYS = ("aspect_ratio", "aspectRatio")
_LIST_HINT = "list the models with client.catalog.image_models()"
_INLINE_HINT = (
    "pass the file or bytes instead: InputImage.from_path(...) / InputImage.from_bytes(...)"
)


@dataclass(frozen=True)
class ValidationReport:
    """What a generation request breaks: ``errors`` would be refused, ``warnings`` are soft."""

    model: str | None
    model_info: ImageModel | None
    errors: tuple[Violation, ...]
    warnings: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        """True when nothing would be refused (warnings may remain)."""
        return not self.errors


def check_request(body: Mapping[str, Any], models: Mapping[str, ImageModel]) -> ValidationReport:
    """Every violation of ``body`` against the catalog ``models``, all at once."""
    errors: list[Violation] = []
    warnings: list[Violation] = []

    model_id = body.get("model")
    model = model_id if isinstance(model_id, str) else None
    model_info = models.get(model) if model else None
    prefix = f"{model}: " if model else ""

    targets: list[ImageModel] = []
    primary = _check_model_id("model", model_id, None, models, errors)
    if primary is not None:
        targets.append(primary)
    for fallback in _check_fallbacks(body, models, errors):
        if all(fallback.id != target.id for target in targets):
            targets.append(fallback)

    _check_prompt(body, prefix, errors)
    request = _check_types(body, prefix, errors)
    for target in targets:
        _check_caps(request, target, errors, warnings)

    return ValidationReport(
        model=model,
        model_info=model_info,
        errors=tuple(errors),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- model ids


def _check_model_id(
    param: str,
    value: object,
    position: int | None,
    models: Mapping[str, ImageModel],
    errors: list[Violation],
) -> ImageModel | None:
    where = param if position is None else f"{param}[{position}]"
    if value is None:
        errors.append(Violation(param, None, None, f"{where} is required: the id of a model"))
        return None
    if not isinstance(value, str):
        errors.append(
            Violation(param, value, None, f"{where} must be a model id string, got {_shown(value)}")
        )
        return None
    if not value.strip():
        errors.append(Violation(param, value, None, f"{where} is an empty string, not a model id"))
        return None
    info = models.get(value)
    if info is None:
        errors.append(_unknown_model(param, where, value, models))
        return None
    if info.is_text_only:
        errors.append(
            Violation(
                param,
                value,
                None,
                f"{_position(where, param)}`{value}` is a chat model; it cannot generate images",
            )
        )
        return None
    return info


def _unknown_model(
    param: str, where: str, value: str, models: Mapping[str, ImageModel]
) -> Violation:
    # Only suggest models that could answer an image request.
    # Compared in lower case: "FLUX-2-DEV" should still point at flux-2-dev.
    candidates = {
        model_id.lower(): model_id for model_id, info in models.items() if not info.is_text_only
    }
    matches = [
        candidates[match] for match in difflib.get_close_matches(value.lower(), candidates, n=3)
    ]
    label = f"{_position(where, param)}unknown model"
    if matches:
        message = f"{label} {value!r}; did you mean {', '.join(matches)}?"
    else:
        message = f"{label} {value!r}; the catalog does not list it ({_LIST_HINT})"
    return Violation(param, value, matches, message)


def _check_fallbacks(
    body: Mapping[str, Any], models: Mapping[str, ImageModel], errors: list[Violation]
) -> list[ImageModel]:
    value = body.get("models")
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        errors.append(
            Violation(
                "models",
                value,
                MAX_FALLBACK_MODELS,
                f"models must be a list of up to {MAX_FALLBACK_MODELS} model ids,"
                f" got {_shown(value)}",
            )
        )
        return []
    if len(value) > MAX_FALLBACK_MODELS:
        errors.append(
            Violation(
                "models",
                value,
                MAX_FALLBACK_MODELS,
                f"models lists {len(value)} ids; the gateway takes at most {MAX_FALLBACK_MODELS}",
            )
        )
    found: list[ImageModel] = []
    for position, item in enumerate(value):
        info = _check_model_id("models", item, position, models, errors)
        if info is not None:
            found.append(info)
    return found


# --------------------------------------------------------------------------- request shape


@dataclass(frozen=True)
class _Request:
    """The known parameters of a body that have the right type, ready for the caps checks."""

    n: int | None
    aspect_ratios: tuple[tuple[str, str], ...]
    quality: str | None
    seed: object
    input_key: str | None
    input_count: int
    url_inputs: tuple[tuple[str, int, str], ...]


def _check_prompt(body: Mapping[str, Any], prefix: str, errors: list[Violation]) -> None:
    prompt = body.get("prompt")
    if prompt is None:
        errors.append(Violation("prompt", None, None, f"{prefix}prompt is required"))
    elif not isinstance(prompt, str):
        errors.append(
            Violation(
                "prompt", prompt, None, f"{prefix}prompt must be a string, got {_shown(prompt)}"
            )
        )
    elif not prompt.strip():
        errors.append(
            Violation("prompt", prompt, None, f"{prefix}prompt is empty; describe the image")
        )


def _check_types(body: Mapping[str, Any], prefix: str, errors: list[Violation]) -> _Request:
    n = body.get("n")
    if n is not None:
        if not _is_int(n):
            errors.append(Violation("n", n, None, f"{prefix}n must be an integer, got {_shown(n)}"))
            n = None
        elif n < 1:
            errors.append(Violation("n", n, 1, f"{prefix}n {n} is below the minimum of 1"))
            n = None

    aspect_ratios: list[tuple[str, str]] = []
    for key in _ASPECT_RATIO_KEYS:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            aspect_ratios.append((key, value))
        else:
            errors.append(
                Violation(
                    key,
                    value,
                    None,
                    f"{prefix}{key} must be a string like '16:9', got {_shown(value)}",
                )
            )

    quality = body.get("quality")
    if quality is not None and not isinstance(quality, str):
        errors.append(
            Violation(
                "quality", quality, None, f"{prefix}quality must be a string, got {_shown(quality)}"
            )
        )
        quality = None

    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        errors.append(
            Violation("seed", seed, None, f"{prefix}seed must be an integer, got {_shown(seed)}")
        )
        seed = None

    input_key: str | None = None
    input_count = 0
    url_inputs: list[tuple[str, int, str]] = []
    for key in ("input_images", "image_urls"):
        items = body.get(key)
        if items is None:
            continue
        if not isinstance(items, (list, tuple)):
            errors.append(
                Violation(key, items, None, f"{prefix}{key} must be a list, got {_shown(items)}")
            )
            continue
        input_key = input_key or key
        input_count += len(items)
        for position, item in enumerate(items):
            url = _url_of(item)
            if url is not None:
                url_inputs.append((key, position, url))

    return _Request(
        n=n,
        aspect_ratios=tuple(aspect_ratios),
        quality=quality,
        seed=seed,
        input_key=input_key,
        input_count=input_count,
        url_inputs=tuple(url_inputs),
    )


def _url_of(item: object) -> str | None:
    """The http(s) URL an input image points at; ``None`` for inline data (``data:``, base64)."""
    if isinstance(item, Mapping):
        item = item.get("url")
    if isinstance(item, str) and item[:8].lower().startswith(_URL_PREFIXES):
        return item
    return None


# --------------------------------------------------------------------------- capabilities


def _check_caps(
    request: _Request,
    model: ImageModel,
    errors: list[Violation],
    warnings: list[Violation],
) -> None:
    caps = model.caps
    name = model.id

    if request.n is not None and caps.max_n is not None and request.n > caps.max_n:
        errors.append(
            Violation(
                "n",
                request.n,
                caps.max_n,
                f"{name}: n {request.n} is above the maximum of {caps.max_n}",
            )
        )

    if caps.aspect_ratios is not None:
        for key, value in request.aspect_ratios:
            if value not in caps.aspect_ratios:
                errors.append(_not_one_of(name, key, value, caps.aspect_ratios))

    if (
        request.quality is not None
        and caps.qualities is not None
        and request.quality not in caps.qualities
    ):
        errors.append(_not_one_of(name, "quality", request.quality, caps.qualities))

    if request.input_key is not None and caps.max_input_images is not None:
        count = request.input_count
        if caps.max_input_images == 0 and count > 0:
            errors.append(
                Violation(
                    request.input_key,
                    count,
                    0,
                    f"{name}: {request.input_key} gives {_images(count)}, but this model is"
                    " text-only (it takes no input images)",
                )
            )
        elif count > caps.max_input_images:
            errors.append(
                Violation(
                    request.input_key,
                    count,
                    caps.max_input_images,
                    f"{name}: {_images(count)} given (input_images + image_urls) is above"
                    f" the maximum of {caps.max_input_images}",
                )
            )

    if caps.supports_url_input is False:
        for key, position, url in request.url_inputs:
            errors.append(
                Violation(
                    key,
                    url,
                    "inline data (b64_json or a data: URL)",
                    f"{name}: {key}[{position}] is a URL ({_short(url)}), and this model does"
                    f" not take URL inputs; {_INLINE_HINT}",
                )
            )

    if request.seed is not None and caps.supports_seed is False:
        warnings.append(
            Violation(
                "seed",
                request.seed,
                None,
                f"{name}: seed {request.seed} is ignored by this model (supports_seed is false);"
                " results will not be reproducible",
            )
        )


def _not_one_of(model: str, param: str, value: str, allowed: tuple[str, ...]) -> Violation:
    if not allowed:
        return Violation(
            param,
            value,
            allowed,
            f"{model}: {param} {value!r} is not accepted; this model takes none",
        )
    return Violation(
        param, value, allowed, f"{model}: {param} {value!r} is not one of {', '.join(allowed)}"
    )


def _position(where: str, param: str) -> str:
    """``"models[1]: "`` for an item of a list parameter, nothing for the parameter itself."""
    return "" if where == param else f"{where}: "


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _images(count: int) -> str:
    return "1 input image" if count == 1 else f"{count} input images"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(value: object) -> str:
    text = repr(value)
    return f"{_short(text)} ({type(value).__name__})"
