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
from typing import Any, Literal, NamedTuple

from ._catalog import ImageModel
from ._exceptions import CapabilityError, CapabilityWarning, Violation
from ._values import shorten

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


class _Param(NamedTuple):
    """A parameter the gateway documents: its JSON types, and the values or minimum it takes."""

    name: str
    types: tuple[type, ...]  # () for any: the values alone say what is accepted
    expected: str = ""  # what a message says is expected of a wrong type
    values: tuple[str, ...] | None = None
    minimum: int | None = None


# Checked once per request, whatever the model, in this order (reference.md). The input image
# lists are checked item by item in _check_inputs; model caps come later, per model.
_PARAMS = (
    _Param("prompt", (str,), "a string"),
    _Param("n", (int,), "an integer", minimum=1),
    _Param("aspect_ratio", (str,), "a string like '16:9'"),
    _Param("aspectRatio", (str,), "a string like '16:9'"),
    _Param("quality", (str,), "a string"),
    _Param("seed", (int,), "an integer"),
    _Param("response_format", (), values=RESPONSE_FORMATS),
    _Param("size", (str,), "a string such as '1024x1024'"),
    # The reference shows strings ("1024"); a number is passed through as the gateway does.
    _Param("resolution", (str, int), "a string such as '1024'"),
    _Param("style", (str,), "a string such as 'EDM, Bass'"),
    _Param("sse", (bool,), "true or false"),
    _Param("custom", (bool,), "true or false"),
    _Param("instrumental", (bool,), "true or false"),
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
        errors.append(_violation(param, None, f"{where} is required: the id of a model"))
    elif not isinstance(value, str):
        errors.append(
            _violation(param, value, f"{where} must be a model id string, got {_shown(value)}")
        )
    elif not value.strip():
        errors.append(_violation(param, value, f"{where} is an empty string, not a model id"))
    elif (info := models.get(value)) is None:
        errors.append(_unknown_model(param, where, value, models))
    elif info.is_text_only:
        message = f"{_position(where, param)}`{value}` is a chat model; it cannot generate images"
        errors.append(_violation(param, value, message))
    else:
        return info
    return None


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
    return _violation(param, value, message, allowed=matches)


def _check_fallbacks(
    body: Mapping[str, Any], models: Mapping[str, ImageModel], errors: list[Violation]
) -> list[ImageModel]:
    value = body.get("models")
    if value is None:
        return []
    most = MAX_FALLBACK_MODELS
    if not isinstance(value, (list, tuple)):
        message = f"models must be a list of up to {most} model ids, got {_shown(value)}"
        errors.append(_violation("models", value, message, allowed=most))
        return []
    if len(value) > most:
        message = f"models lists {len(value)} ids; the gateway takes at most {most}"
        errors.append(_violation("models", value, message, allowed=most))
    found = (_check_model_id("models", item, i, models, errors) for i, item in enumerate(value))
    return [info for info in found if info is not None]


# --------------------------------------------------------------------------- request shape


class _Request(NamedTuple):  # a NamedTuple: it is built on every generation, and cheaply
    """The known parameters of a body that have the right type, ready for the caps checks."""

    n: int | None
    aspect_ratios: tuple[tuple[str, str], ...]
    quality: str | None
    resolution: str | None
    seed: object
    input_key: str | None
    input_count: int
    url_inputs: tuple[tuple[str, str], ...]  # (where, url) of every remote URL input


def _check_types(body: Mapping[str, Any], prefix: str, errors: list[Violation]) -> _Request:
    prompt = body.get("prompt")  # its type is checked with the others, below
    if prompt is None:
        errors.append(_violation("prompt", None, f"{prefix}prompt is required"))
    elif isinstance(prompt, str) and not prompt.strip():
        errors.append(_violation("prompt", prompt, f"{prefix}prompt is empty; describe the image"))

    refused: set[str] = set()
    for param in _PARAMS:  # unpacked only when given: this runs on every generation
        value = body.get(param.name)
        if value is None:
            continue
        name, types, expected, values, minimum = param
        if types and type(value) not in types and not _has_type(value, types):  # exact type first
            message = f"{prefix}{name} must be {expected}, got {_shown(value)}"
            errors.append(_violation(name, value, message))
        elif values is not None and value not in values:
            errors.append(_not_one_of(prefix, name, value, values))
        elif minimum is not None and value < minimum:
            message = f"{prefix}{name} {value} is below the minimum of {minimum}"
            errors.append(_violation(name, value, message, allowed=minimum))
        else:
            continue
        refused.add(name)

    kept = {k: v for k, v in body.items() if k not in refused} if refused else body
    resolution = kept.get("resolution")
    input_key, input_count, url_inputs = _check_inputs(body, prefix, errors)
    return _Request(
        n=kept.get("n"),
        aspect_ratios=tuple([(k, v) for k in _ASPECT_RATIO_KEYS if (v := kept.get(k)) is not None]),
        quality=kept.get("quality"),
        resolution=None if resolution is None else str(resolution),
        seed=kept.get("seed"),
        input_key=input_key,
        input_count=input_count,
        url_inputs=url_inputs,
    )


def _check_inputs(
    body: Mapping[str, Any], prefix: str, errors: list[Violation]
) -> tuple[str | None, int, tuple[tuple[str, str], ...]]:
    """Check the input image lists item by item: the first list's key, the count, URL inputs."""
    input_key: str | None = None
    input_count = 0
    url_inputs: list[tuple[str, str]] = []
    for key in _INPUT_KEYS:
        items = body.get(key)
        if items is None:
            continue
        if not isinstance(items, (list, tuple)):
            errors.append(
                _violation(key, items, f"{prefix}{key} must be a list, got {_shown(items)}")
            )
            continue
        if items and input_key is None:
            input_key = key
        input_count += len(items)
        check = _check_input_image if key == "input_images" else _check_image_url
        for position, item in enumerate(items):
            where = f"{key}[{position}]"
            url = check(key, where, item, prefix, errors)
            if url is not None and not _is_data_url(url):
                url_inputs.append((where, url))
    return input_key, input_count, tuple(url_inputs)


def _check_input_image(
    key: str, where: str, item: object, prefix: str, errors: list[Violation]
) -> str | None:
    """Check one ``input_images`` item; its URL when it is a well-formed ``{url}``."""
    if not isinstance(item, Mapping):
        message = f"{prefix}{where} must be {_INPUT_ITEM}, got {_shown(item)}"
        errors.append(_violation(key, item, message, allowed=_INPUT_ITEM))
        return None
    url, data = item.get("url"), item.get("b64_json")
    if (url is None) == (data is None):
        given = "both url and b64_json" if url is not None else "neither url nor b64_json"
        message = f"{prefix}{where} gives {given}; give one of them"
        errors.append(_violation(key, item, message, allowed=_INPUT_ITEM))
    elif url is not None:
        if isinstance(url, str) and url.strip():
            return url
        errors.append(_violation(key, url, f"{prefix}{where}.url must be a URL, got {_shown(url)}"))
    elif not isinstance(data, str) or not _is_base64(data):
        message = (
            f"{prefix}{where}.b64_json is not base64 data ({_shown(data)});"
            " InputImage.from_path(...) / InputImage.from_bytes(...) encode it"
        )
        errors.append(_violation(key, data, message, allowed="base64 text"))
    return None


def _check_image_url(
    key: str, where: str, item: object, prefix: str, errors: list[Violation]
) -> str | None:
    """Check one ``image_urls`` item; the URL when it is one."""
    if isinstance(item, str) and item.strip():
        return item
    errors.append(
        _violation(key, item, f"{prefix}{where} must be a URL string, got {_shown(item)}")
    )
    return None


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
        message = f"{name}: n {request.n} is above the maximum of {caps.max_n}"
        errors.append(_violation("n", request.n, message, allowed=caps.max_n))

    resolutions = _stated_resolutions(model) if request.resolution is not None else None
    listed = (
        *[(key, value, caps.aspect_ratios) for key, value in request.aspect_ratios],
        ("quality", request.quality, caps.qualities),
        ("resolution", request.resolution, resolutions),
    )
    for key, value, allowed in listed:
        if value is not None and allowed is not None and value not in allowed:
            errors.append(_not_one_of(f"{name}: ", key, value, allowed))

    given, count, most = request.input_key, request.input_count, caps.max_input_images
    if given is not None and most is not None and count > most:
        if most == 0:
            message = (
                f"{name}: {given} gives {_images(count)}, but this model is"
                " text-only (it takes no input images)"
            )
        else:
            message = (
                f"{name}: {_images(count)} given (input_images + image_urls) is above"
                f" the maximum of {most}"
            )
        errors.append(_violation(given, count, message, allowed=most))

    if caps.supports_url_input is False:
        for where, url in request.url_inputs:
            message = (
                f"{name}: {where} is a URL ({shorten(url)}), and this model does"
                f" not take URL inputs; {_INLINE_HINT}"
            )
            inline = "inline data (b64_json or a data: URL)"
            errors.append(_violation(where.partition("[")[0], url, message, allowed=inline))

    if request.seed is not None and caps.supports_seed is False:
        message = (
            f"{name}: seed {request.seed} is ignored by this model (supports_seed is false);"
            " results will not be reproducible"
        )
        warnings.append(_violation("seed", request.seed, message))


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


def _not_one_of(prefix: str, param: str, value: object, allowed: tuple[str, ...]) -> Violation:
    if not allowed:
        message = f"{prefix}{param} {_named(value)} is not accepted; this model takes none"
    else:
        message = f"{prefix}{param} {_named(value)} is not one of {', '.join(allowed)}"
    return _violation(param, value, message, allowed=allowed)


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
    return _violation(param or "body", value, message, allowed=_JSON_VALUES)


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


def _violation(param: str, value: object, message: str, *, allowed: object = None) -> Violation:
    return Violation(param=param, value=value, allowed=allowed, message=message)


def _position(where: str, param: str) -> str:
    """``"models[1]: "`` for an item of a list parameter, nothing for the parameter itself."""
    return "" if where == param else f"{where}: "


def _has_type(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # a bool is an int, but never a valid one here
        return bool in types
    return isinstance(value, types)


def _images(count: int) -> str:
    return "1 input image" if count == 1 else f"{count} input images"


def _named(value: object) -> str:
    """A string as itself (quoted), anything else with its type: ``'png'``, ``1 (int)``."""
    return repr(value) if isinstance(value, str) else _shown(value)


def _shown(value: object) -> str:
    text = repr(value)
    return f"{shorten(text)} ({type(value).__name__})"


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
