"""Pure capability checks: a ``POST /images/generations`` body against the parsed catalog.

>>> report = check_request({"model": "flux-2-dev", "prompt": "an otter", "n": 9}, models)
>>> [v.message for v in report.errors]
['flux-2-dev: n 9 is above the maximum of 4']

The rules are the gateway's documented ones, each also enforced by the loopback emulator
(``airforce_openai/testing/_checks.py`` lists where each comes from). A cap an entry does not
state is not enforced, and parameters the validator does not know are never refused: the
gateway forwards them to the upstream provider.

``unsendable_values(body)`` finds what JSON cannot carry at all (NaN, sets, bytes, objects,
non-string keys); ``check_request`` reports them too, as ``report.unsendable``. They are
refused in every validation mode, since such a request cannot be sent.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import difflib
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._catalog import ImageModel
from ._exceptions import CapabilityError, CapabilityWarning, Violation

__all__ = [
    "MAX_FALLBACK_MODELS",
    "RESPONSE_FORMATS",
    "VALIDATION_MODES",
    "ValidationMode",
    "ValidationReport",
    "check_mode",
    "check_request",
    "enforce",
    "refuse_unsendable",
    "unsendable_values",
]

MAX_FALLBACK_MODELS = 3
"""The gateway tries at most this many ids from a ``models`` fallback list."""

RESPONSE_FORMATS = ("url", "b64_json")
"""The ``response_format`` values the gateway documents."""

_ASPECT_RATIO_KEYS = ("aspect_ratio", "aspectRatio")
_INPUT_KEYS = ("input_images", "image_urls")
_LIST_HINT = "list the models with client.catalog.image_models()"
_INLINE_HINT = (
    "pass the file or bytes instead: InputImage.from_path(...) / InputImage.from_bytes(...)"
)
_INPUT_ITEM = "{'url': ...} or {'b64_json': ...}"
_JSON_VALUES = "a JSON value: str, int, finite float, bool, None, list, or dict with str keys"
_MAX_UNSENDABLE_LISTED = 20
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")

# Parameters the gateway documents with a type but no list of values (reference.md):
# (name, accepted types, what the message says is expected).
_TYPED_PARAMS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("size", (str,), "a string such as '1024x1024'"),
    # The reference shows strings ("1024"); a number is passed through as the gateway does.
    ("resolution", (str, int), "a string such as '1024'"),
    ("style", (str,), "a string such as 'EDM, Bass'"),
    ("sse", (bool,), "true or false"),
    ("custom", (bool,), "true or false"),
    ("instrumental", (bool,), "true or false"),
)


@dataclass(frozen=True)
class ValidationReport:
    """What a generation request breaks: ``errors`` would be refused, ``warnings`` are soft.

    ``unsendable`` are the errors JSON cannot carry at all (also listed in ``errors``): they
    are refused whatever the validation mode.
    """

    model: str | None
    model_info: ImageModel | None
    errors: tuple[Violation, ...]
    warnings: tuple[Violation, ...]
    unsendable: tuple[Violation, ...] = ()

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

    # A value JSON cannot carry is reported once, as such, not again as a wrong type.
    culprits = list(_unsendable(body, None))
    if culprits:
        spoilt = {top for top, _ in culprits}
        errors = [v for _, v in culprits] + [v for v in errors if v.param not in spoilt]
        warnings = [v for v in warnings if v.param not in spoilt]
    return ValidationReport(
        model=model,
        model_info=model_info,
        errors=tuple(errors),
        warnings=tuple(warnings),
        unsendable=tuple(v for _, v in culprits),
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
    resolution: str | None
    seed: object
    input_key: str | None
    input_count: int
    url_inputs: tuple[tuple[str, str], ...]  # (where, url) of every remote URL input


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

    response_format = body.get("response_format")
    if response_format is not None and response_format not in RESPONSE_FORMATS:
        errors.append(
            Violation(
                "response_format",
                response_format,
                RESPONSE_FORMATS,
                f"{prefix}response_format {_named(response_format)} is not one of"
                f" {', '.join(RESPONSE_FORMATS)}",
            )
        )

    for key, types, expected in _TYPED_PARAMS:
        value = body.get(key)
        if value is not None and not _has_type(value, types):
            errors.append(
                Violation(
                    key, value, None, f"{prefix}{key} must be {expected}, got {_shown(value)}"
                )
            )
    resolution = body.get("resolution")
    resolution = str(resolution) if _has_type(resolution, (str, int)) else None

    input_key: str | None = None
    input_count = 0
    url_inputs: list[tuple[str, str]] = []
    for key in _INPUT_KEYS:
        items = body.get(key)
        if items is None:
            continue
        if not isinstance(items, (list, tuple)):
            errors.append(
                Violation(key, items, None, f"{prefix}{key} must be a list, got {_shown(items)}")
            )
            continue
        if items and input_key is None:
            input_key = key
        input_count += len(items)
        for position, item in enumerate(items):
            where = f"{key}[{position}]"
            check = _check_input_image if key == "input_images" else _check_image_url
            url = check(key, where, item, prefix, errors)
            if url is not None and not _is_data_url(url):
                url_inputs.append((where, url))

    return _Request(
        n=n,
        aspect_ratios=tuple(aspect_ratios),
        quality=quality,
        resolution=resolution,
        seed=seed,
        input_key=input_key,
        input_count=input_count,
        url_inputs=tuple(url_inputs),
    )


def _check_input_image(
    key: str, where: str, item: object, prefix: str, errors: list[Violation]
) -> str | None:
    """Check one ``input_images`` item; its URL when it is a well-formed ``{url}``."""
    if not isinstance(item, Mapping):
        errors.append(
            Violation(
                key, item, _INPUT_ITEM, f"{prefix}{where} must be {_INPUT_ITEM}, got {_shown(item)}"
            )
        )
        return None
    url, data = item.get("url"), item.get("b64_json")
    if (url is None) == (data is None):
        given = "both url and b64_json" if url is not None else "neither url nor b64_json"
        errors.append(
            Violation(key, item, _INPUT_ITEM, f"{prefix}{where} gives {given}; give one of them")
        )
        return None
    if url is not None:
        if not isinstance(url, str) or not url.strip():
            errors.append(
                Violation(key, url, None, f"{prefix}{where}.url must be a URL, got {_shown(url)}")
            )
            return None
        return url
    if not isinstance(data, str) or not _is_base64(data):
        errors.append(
            Violation(
                key,
                data,
                "base64 text",
                f"{prefix}{where}.b64_json is not base64 data ({_shown(data)});"
                " InputImage.from_path(...) / InputImage.from_bytes(...) encode it",
            )
        )
    return None


def _check_image_url(
    key: str, where: str, item: object, prefix: str, errors: list[Violation]
) -> str | None:
    """Check one ``image_urls`` item; the URL when it is one."""
    if not isinstance(item, str) or not item.strip():
        errors.append(
            Violation(key, item, None, f"{prefix}{where} must be a URL string, got {_shown(item)}")
        )
        return None
    return item


def _is_data_url(url: str) -> bool:
    """Inline data (``data:...``), as opposed to a URL the gateway would have to fetch."""
    return url[:5].lower() == "data:"


def _is_base64(text: str) -> bool:
    """Base64 text, optionally as a ``data:`` URL; line breaks are allowed, as in MIME."""
    if _is_data_url(text):
        _, _, text = text.partition(",")
    text = "".join(text.split())
    if not text:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


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

    if request.resolution is not None:
        resolutions = _stated_resolutions(model)
        if resolutions is not None and request.resolution not in resolutions:
            errors.append(_not_one_of(name, "resolution", request.resolution, resolutions))

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
        for where, url in request.url_inputs:
            key = where.partition("[")[0]
            errors.append(
                Violation(
                    key,
                    url,
                    "inline data (b64_json or a data: URL)",
                    f"{name}: {where} is a URL ({_short(url)}), and this model does"
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


def _stated_resolutions(model: ImageModel) -> tuple[str, ...] | None:
    """The ``resolution`` values the entry's ``image_caps.resolutions`` lists, if it lists any.

    The reference states Nano-Banana's values ("512", "1024", "2048") as a model parameter,
    not as a cap; an entry that lists them is held to them, one that does not is not
    restricted (some models take their resolution from the model id instead).
    """
    caps = model.raw.get("image_caps")
    values = caps.get("resolutions") if isinstance(caps, Mapping) else None
    if not isinstance(values, (list, tuple)):
        return None
    stated = tuple(str(v).strip() for v in values if _has_type(v, (str, int)) and str(v).strip())
    return stated or None


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


# --------------------------------------------------------------------------- unsendable values


def unsendable_values(
    body: Mapping[str, Any], *, extra_body: Mapping[str, Any] | None = None
) -> list[Violation]:
    """Every value in ``body`` that JSON cannot carry, named by its path in the body.

    NaN and infinite floats, sets, bytes, dates, objects of any other type, dict keys that
    are not strings, strings holding a lone surrogate (UTF-8 cannot encode them), and
    structures that contain themselves. Tuples are JSON arrays, and ``str``/``int``
    subclasses (enums) are sent as their values, so they pass. ``Violation.param`` is the
    path in the body (``seed``, ``vendor_knob[2]``, ``vendor_knob.depth``); a top-level key
    listed in ``extra_body`` is named ``extra_body.<path>`` in the message, where the caller
    put it. At most 20 are listed, the last one counting any others.
    """
    return [violation for _, violation in _unsendable(body, extra_body)]


_Path = tuple[object, ...]
_NO_KEY = object()  # the key of the body itself, which sits under none
_Container = dict[Any, Any] | list[Any] | tuple[Any, ...]


def _unsendable(
    body: Mapping[str, Any], extra_body: Mapping[str, Any] | None
) -> Iterator[tuple[object, Violation]]:
    """(top-level key, violation) for each culprit listed, in body order."""
    # The common flat body is answered without the walk (a loop, not calls: it runs on
    # every generation).
    for key, value in body.items():
        kind = type(value)
        plain = (
            kind is int
            or kind is bool
            or value is None
            or (kind is str and value.isascii())
            or (kind is float and math.isfinite(value))
        )
        if not plain or type(key) is not str:
            break
    else:
        return
    culprits = _culprits(dict(body))
    for index, (path, value, reason) in enumerate(culprits):
        top = path[0] if path else None
        more = sum(1 for _ in culprits) if index == _MAX_UNSENDABLE_LISTED - 1 else 0
        yield top, _unsendable_violation(path, value, reason, extra_body, more)


def _culprits(body: dict[str, Any]) -> Iterator[tuple[_Path, object, str]]:
    """(path, value, why JSON cannot carry it), depth first.

    Iterative, and a path is only built for a culprit, so deep nesting costs linear time.
    """
    # One frame per container being walked: the key it sits under, its remaining children,
    # its id. `walking` holds those ids, to find a structure that contains itself.
    stack: list[tuple[object, Iterator[tuple[object, object]], int]] = []
    walking: set[int] = set()

    def path_to(key: object = _NO_KEY) -> _Path:
        keys = [frame[0] for frame in stack[1:]]
        return (*keys, key) if key is not _NO_KEY else tuple(keys)

    def enter(key: object, container: _Container) -> Iterator[tuple[_Path, object, str]]:
        if id(container) in walking:
            reason = "contains itself; JSON cannot carry a circular structure"
            yield path_to(key), container, reason
            return
        children: list[tuple[object, object]]
        if isinstance(container, dict):
            where = path_to(key) if stack else ()
            children = []
            for child_key, child in container.items():
                if not isinstance(child_key, str):
                    reason = f"has the key {_shown(child_key)}; JSON object keys are strings"
                    yield where, child_key, reason
                elif (why := _why_untextual(child_key)) is not None:
                    yield where, child_key, f"has a key that {why}"
                else:
                    children.append((child_key, child))
        else:
            children = list(enumerate(container))
        walking.add(id(container))
        stack.append((key, iter(children), id(container)))

    yield from enter(_NO_KEY, body)
    while stack:
        _, children, container_id = stack[-1]
        step = next(children, None)
        if step is None:
            stack.pop()
            walking.discard(container_id)
            continue
        key, value = step
        if isinstance(value, (dict, list, tuple)):
            yield from enter(key, value)
            continue
        reason = _why_unsendable(value)
        if reason is not None:
            yield path_to(key), value, reason


def _why_unsendable(value: object) -> str | None:
    """Why JSON cannot carry a leaf value, or None when it can."""
    if isinstance(value, str):
        return _why_untextual(value)
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return f"is {value!r}; JSON numbers are finite"
    kind = type(value).__name__
    if isinstance(value, (bytes, bytearray, memoryview)):
        return (
            f"is {kind}, which JSON cannot carry; send text (base64 for an image:"
            " InputImage.from_bytes(...))"
        )
    if isinstance(value, (set, frozenset)):
        return f"is a {kind}, which JSON cannot carry; pass a list"
    if isinstance(value, (datetime.date, datetime.time)):
        return f"is a {kind}, which JSON cannot carry; pass value.isoformat()"
    if isinstance(value, datetime.timedelta):
        return f"is a {kind}, which JSON cannot carry; pass a number of seconds"
    if isinstance(value, Mapping):
        return f"is of type {kind}, which JSON cannot carry; pass dict(value)"
    if callable(getattr(value, "model_dump", None)):
        return f"is of type {kind}, which JSON cannot carry; pass value.model_dump(mode='json')"
    return f"is of type {kind}, which JSON cannot carry"


def _why_untextual(text: str) -> str | None:
    """Why a string cannot be sent as UTF-8 (a lone surrogate), or None when it can."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        return (
            f"holds a lone surrogate ({char!r} at index {exc.start}), which UTF-8 cannot carry;"
            " decode the text it came from with errors='replace'"
        )
    return None


def _unsendable_violation(
    path: _Path, value: object, reason: str, extra_body: Mapping[str, Any] | None, more: int
) -> Violation:
    param = _path_text(path)
    if path:
        given_in_extra = extra_body is not None and path[0] in extra_body
        where = f"extra_body.{param}" if given_in_extra else param
    else:  # a key of the body itself
        given_in_extra = extra_body is not None and _is_key_of(value, extra_body)
        where = "extra_body" if given_in_extra else "the request body"
    message = f"{where} {reason}"
    if more:
        message += f" (and {more} more values JSON cannot carry)"
    return Violation(param or "body", value, _JSON_VALUES, message)


def _is_key_of(key: object, mapping: Mapping[str, Any]) -> bool:
    try:
        return key in mapping
    except TypeError:  # an unhashable culprit cannot be a key
        return False


def _path_text(path: _Path) -> str:
    """``vendor_knob[2].depth`` for the path ('vendor_knob', 2, 'depth')."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif isinstance(part, str) and _NAME.match(part):
            parts.append(f".{part}" if parts else part)
        else:
            parts.append(f"[{part!r}]")
    return "".join(parts)


# --------------------------------------------------------------------------- helpers


def _position(where: str, param: str) -> str:
    """``"models[1]: "`` for an item of a list parameter, nothing for the parameter itself."""
    return "" if where == param else f"{where}: "


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_type(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # a bool is an int, but never a valid one here
        return bool in types
    return isinstance(value, types)


def _images(count: int) -> str:
    return "1 input image" if count == 1 else f"{count} input images"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _named(value: object) -> str:
    """A string as itself (quoted), anything else with its type: ``'png'``, ``1 (int)``."""
    return repr(value) if isinstance(value, str) else _shown(value)


def _shown(value: object) -> str:
    text = repr(value)
    return f"{_short(text)} ({type(value).__name__})"


# ---------------------------------------------------------------------------
# Policy: what a validation mode does with a report


ValidationMode = Literal["strict", "warn", "off"]
VALIDATION_MODES: tuple[ValidationMode, ...] = ("strict", "warn", "off")


def check_mode(mode: object) -> ValidationMode:
    """Return ``mode`` if it is a validation mode, else raise a ValueError naming it."""
    if isinstance(mode, str) and mode in VALIDATION_MODES:
        return mode
    allowed = ", ".join(repr(m) for m in VALIDATION_MODES)
    given = repr(mode) if isinstance(mode, str) else f"{mode!r} ({type(mode).__name__})"
    message = f"validation={given} is not one of {allowed}"
    if isinstance(mode, str) and mode.strip().lower() in VALIDATION_MODES:
        message += f"; did you mean {mode.strip().lower()!r}?"
    raise ValueError(message)


def refuse_unsendable(body: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None) -> None:
    """Raise ``CapabilityError`` if ``body`` holds a value JSON cannot carry, in every mode.

    NaN, infinity, sets, bytes, other objects and non-string keys cannot be sent: the SDK
    would crash encoding them, or send something the caller did not write. ``extra_body``
    (the part of the body given as ``extra_body=``) only changes how the culprit is named.
    """
    violations = unsendable_values(body, extra_body=extra_body)
    if violations:
        model = body.get("model")
        raise CapabilityError(model if isinstance(model, str) else None, violations)


def enforce(report: ValidationReport, mode: ValidationMode) -> None:
    """Raise or warn for a report as ``mode`` says: strict raises on errors, warn only warns.

    Values JSON cannot carry (``report.unsendable``) are refused in every mode: a request
    holding them cannot be sent at all.
    """
    if report.unsendable and mode != "strict":
        raise CapabilityError(report.model, report.unsendable)
    if mode == "off":
        return
    if mode == "strict" and report.errors:
        raise CapabilityError(report.model, report.errors)
    soft = report.warnings if mode == "strict" else report.errors + report.warnings
    for violation in soft:
        warnings.warn(violation.message, CapabilityWarning, stacklevel=4)
