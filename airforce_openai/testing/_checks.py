"""The gateway's checks of a generation request: the body alone, then against a catalog entry.

    >>> check_common({"prompt": "an otter", "n": 0})
    Traceback (most recent call last):
    airforce_openai.testing._errors.Refusal: Invalid value for 'n': 0. It must be at least 1.

Each check raises ``Refusal`` naming the culprit parameter (and its index or path), worded as
the gateway words it, independently of the client package.

Where each rule comes from is ``RULES`` below: a section of ``reference.md`` (the gateway's
published reference for this endpoint), a fact of ``observed.md`` (what the live gateway was
seen doing), or a cap the catalog entry states. A rule no document states is not enforced:
``n``, for one, is bounded only by the entry's ``image_caps.max_n``, not by the 1-10 of
OpenAI's own API, which the gateway's documents never give. ``Rule.local`` says what the
client's validator does with the same rule; a test sends bad requests for every rule through
both, so the two cannot drift apart silently. A rule the catalog cannot tell the client
about (``checked_locally=False``) is the gateway's alone: the validator lets it through.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._values import is_int
from ._catalog import entry_kind, image_caps
from ._errors import refuse

__all__ = [
    "EMULATOR_MAX_N",
    "RULES",
    "Rule",
    "candidate_models",
    "check_common",
    "check_model",
    "input_images",
]


@dataclass(frozen=True)
class Rule:
    """One refusal of the emulated gateway and where it comes from."""

    name: str  # a short id, used by tests that exercise the rule
    param: str  # the field the refusal names (``error.param``), before any index or path
    refuses: str
    source: str
    local: str  # what the client's validator does about it
    checked_locally: bool = True  # False: only the gateway can know (the catalog does not say)


_REF = "reference.md, Common parameters"
_SAME = "same rule, refused before sending"

RULES: tuple[Rule, ...] = (
    Rule(
        "model.type",
        "model",
        "a model that is not a non-empty string",
        f"{_REF}: `model` string, Required",
        _SAME,
    ),
    Rule(
        "model.missing",
        "model",
        "no model and no `models` fallback",
        f"{_REF}: `model` Required; observed.md, POST: `models` is tried in its place",
        "stricter: `model` is required even with `models` (reference.md says Required)",
    ),
    Rule(
        "model.unknown",
        "model",
        "a model the catalog does not list (400 unknown_model)",
        "observed.md, Errors: 400 `unknown_model` / `model_not_found`",
        "same rule, with close matches; unknown ids in `models` are refused too",
    ),
    Rule(
        "model.chat",
        "model",
        "a model whose entry says it produces only text",
        "reference.md: image models are those whose output modalities include image;"
        " observed.md, GET /v1/models: output_modalities, then media_type, then"
        " supports_images",
        _SAME,
    ),
    Rule(
        "models.shape",
        "models",
        "`models` that is not an array of model ids",
        "observed.md, POST: `models`: a fallback list of model ids",
        _SAME,
    ),
    Rule(
        "models.max",
        "models",
        "more than 3 ids in `models`",
        "observed.md, POST: `models`: a fallback list of up to 3 model ids",
        _SAME,
    ),
    Rule("prompt.missing", "prompt", "no prompt", f"{_REF}: `prompt` string, Required", _SAME),
    Rule(
        "prompt.type", "prompt", "a prompt that is not a string", f"{_REF}: `prompt` string", _SAME
    ),
    Rule(
        "prompt.empty",
        "prompt",
        "a blank prompt",
        f"{_REF}: `prompt` Required, an image description (a blank one describes nothing)",
        _SAME,
    ),
    Rule("n.type", "n", "`n` that is not an integer", f"{_REF}: `n` integer", _SAME),
    Rule(
        "n.min",
        "n",
        "`n` below 1",
        f"{_REF}: `n` is the number of variations to generate (a count: at least one)",
        _SAME,
    ),
    Rule(
        "n.max_n",
        "n",
        "`n` above the entry's `image_caps.max_n`",
        f"{_REF}: `n` Capped by the model's image_caps.max_n; Discovering capabilities",
        "same rule, for `model` and every `models` fallback",
    ),
    Rule(
        "response_format",
        "response_format",
        "a value other than 'url' or 'b64_json'",
        f'{_REF}: `response_format` "url" (default) or "b64_json"; observed.md, POST',
        _SAME,
    ),
    Rule("seed.type", "seed", "a seed that is not an integer", f"{_REF}: `seed` integer", _SAME),
    Rule(
        "size.type",
        "size",
        "a size that is not a string",
        f'{_REF}: `size` string. Its value is not checked: "Provider-specific values pass'
        ' through", so a size that is not WxH is forwarded',
        _SAME,
    ),
    Rule(
        "aspect_ratio.type",
        "aspect_ratio",
        "an aspect ratio that is not a string",
        f"{_REF}: `aspect_ratio` string",
        _SAME,
    ),
    Rule(
        "aspect_ratio.caps",
        "aspect_ratio",
        "a value the entry's aspect_ratios do not list",
        f"{_REF}: `aspect_ratio` Validated against image_caps.aspect_ratios",
        _SAME,
    ),
    Rule(
        "aspectRatio.type",
        "aspectRatio",
        "an aspectRatio that is not a string",
        "observed.md, POST: older clients send `aspectRatio` (camelCase)",
        _SAME,
    ),
    Rule(
        "aspectRatio.caps",
        "aspectRatio",
        "a value the entry's aspect_ratios do not list",
        "observed.md, POST: `aspectRatio` is the older spelling of `aspect_ratio`",
        _SAME,
    ),
    Rule(
        "quality.type",
        "quality",
        "a quality that is not a string",
        f"{_REF}: `quality` string",
        _SAME,
    ),
    Rule(
        "quality.caps",
        "quality",
        "a value the entry's qualities do not list",
        f"{_REF}: `quality` Validated; Discovering capabilities: image_caps.qualities",
        _SAME,
    ),
    Rule(
        "resolution.type",
        "resolution",
        "a resolution that is neither a string nor a number",
        "reference.md, Nano-Banana: `resolution` string (a number is let through)",
        _SAME,
    ),
    Rule(
        "resolution.caps",
        "resolution",
        "a value the entry's `image_caps.resolutions` omits",
        'reference.md, Nano-Banana: `resolution` "512", "1024", "2048". The catalog'
        " field is the emulator's: its Nano-Banana entries state those values as"
        " image_caps.resolutions; an entry without it is not restricted (observed.md: some"
        " models take their resolution from the model id)",
        "same rule, when the entry states image_caps.resolutions",
    ),
    Rule(
        "style.type",
        "style",
        "a style that is not a string",
        "reference.md, Suno: `style` string",
        _SAME,
    ),
    Rule(
        "custom.type",
        "custom",
        "custom that is not a boolean",
        "reference.md, Suno: `custom` boolean",
        _SAME,
    ),
    Rule(
        "instrumental.type",
        "instrumental",
        "instrumental that is not a boolean",
        "reference.md, Suno: `instrumental` boolean",
        _SAME,
    ),
    Rule("sse.type", "sse", "sse that is not a boolean", f"{_REF}: `sse` boolean", _SAME),
    Rule(
        "input_images.shape",
        "input_images",
        "input_images that is not an array of {url} or {b64_json} objects (one of the two)",
        f"{_REF}: `input_images` array, [{{ url? }} | {{ b64_json? }}]",
        _SAME,
    ),
    Rule(
        "input_images.url",
        "input_images",
        "an input image url that is not a URL string",
        f"{_REF}: `input_images` [{{ url? }}]",
        _SAME,
    ),
    Rule(
        "input_images.b64_json",
        "input_images",
        "b64_json that is not base64 text",
        'reference.md, Image-to-image & reference: "pass URLs or base64-encoded data"',
        _SAME,
    ),
    Rule(
        "image_urls.shape",
        "image_urls",
        "image_urls that is not an array of URL strings",
        "reference.md, Flux and Nano-Banana: `image_urls` array of reference images;"
        " observed.md, POST: older clients send `image_urls`",
        _SAME,
    ),
    Rule(
        "inputs.max",
        "input_images",
        "more input images (input_images + image_urls) than image_caps.max_input_images;"
        " any at all when it is 0. Named after the first list that has items",
        "reference.md, Discovering capabilities: `max_input_images` (0 = text-only model);"
        " Image-to-image: models with max_input_images > 0 accept reference images",
        _SAME,
    ),
    Rule(
        "inputs.url",
        "input_images",
        "a URL input (anything but a data: URL) when image_caps.supports_url_input is false",
        "reference.md, Discovering capabilities: `supports_url_input` whether input_images"
        " may be passed as URLs (vs base64)",
        _SAME,
    ),
    Rule(
        "resolution.in_id",
        "resolution",
        "a resolution for a model whose id ends in its resolution (-2k, -4k, ...)",
        "observed.md, POST: some models encode resolution in the model id (...-2k, ...-4k)"
        " and reject a resolution field (seen by one client; caps may lie)",
        "not checked: the catalog does not say it; the gateway's 400 reaches the caller as"
        " openai.BadRequestError naming resolution",
        checked_locally=False,
    ),
)
"""Every refusal of a generation request the checks below make, with where it comes from.

Not refusals, on purpose: a seed sent to a model whose entry says ``supports_seed: false``
is ignored, not refused (reference.md: "Whether the model honours a seed value"); the
validator warns. Unknown parameters are forwarded (reference.md, Model-specific parameters),
and a cap an entry does not state is not enforced (observed.md, GET /v1/models: "An absent
cap means the gateway did not say"). No document states a prompt length limit, so none is
enforced; nor is the value of ``size`` ("Provider-specific values pass through").

The emulator's own bounds, not the gateway's rules: it draws at most ``EMULATOR_MAX_N``
files per request (code ``emulator_limit``), so that a huge ``n`` for a model stating no
``max_n`` cannot keep it busy for hours; and its handler answers a body above 32 MiB with 413
(observed.md, Errors: "413 too large", with no figure; the validator enforces none). A body
that is not a JSON object is answered 400 ``invalid_json`` by the handler.
"""


_RESOLUTION_IN_ID = re.compile(r"-\d+k\Z", re.IGNORECASE)  # flux-pro-4k, seedream-2K

EMULATOR_MAX_N = 1000
"""Not a gateway rule: the emulator's own bound on the files one request draws (~5 ms each)."""


def _show(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def candidate_models(body: Mapping[str, Any]) -> list[str]:
    """The models to try, in order: ``model``, then the ``models`` fallbacks."""
    model = body.get("model")
    models = body.get("models")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        refuse("model", f"Invalid value for 'model': {_show(model)}. Expected a model id.")
    fallbacks: list[str] = []
    if models is not None:
        if not isinstance(models, list) or not all(
            isinstance(m, str) and m.strip() for m in models
        ):
            refuse("models", "Invalid value for 'models': expected an array of model ids.")
        if len(models) > 3:
            refuse("models", f"Invalid value for 'models': at most 3 models, {len(models)} given.")
        fallbacks = models
    if model is None and not fallbacks:
        refuse("model", "Missing required parameter: 'model'.", "missing_parameter")
    out = [model] if isinstance(model, str) else []
    out.extend(m for m in fallbacks if m not in out)
    return out


# These two are written apart from the client validator's twins on purpose: the emulator
# stands for the gateway, and a shared helper would hide a bug from the tests that hold the
# two against each other.
def _is_data_url(url: str) -> bool:
    """Inline data, not a URL to fetch; the scheme is case-insensitive, as in any URL."""
    return url[:5].lower() == "data:"


def _is_base64(text: str) -> bool:
    if _is_data_url(text):
        _, _, text = text.partition(",")
    text = "".join(text.split())  # base64 may be wrapped in lines, as MIME does
    if not text:
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def input_images(body: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """Every reference image as (its parameter path, whether it is a remote URL)."""
    out: list[tuple[str, bool]] = []
    for path, item in _items(body, "input_images", "an array of {url} or {b64_json}"):
        if not isinstance(item, Mapping) or (item.get("url") is None) == (
            item.get("b64_json") is None
        ):
            refuse(path, f"Invalid value for '{path}': expected either {{url}} or {{b64_json}}.")
        url = item.get("url")
        if url is not None:
            if not isinstance(url, str) or not url.strip():
                refuse(f"{path}.url", f"Invalid value for '{path}.url': expected a URL.")
            out.append((path, not _is_data_url(url)))
        else:
            data = item.get("b64_json")
            if not isinstance(data, str) or not _is_base64(data):
                refuse(
                    f"{path}.b64_json",
                    f"Invalid value for '{path}.b64_json': not valid base64 data.",
                )
            out.append((path, False))
    for path, url in _items(body, "image_urls", "an array of URLs"):
        if not isinstance(url, str) or not url.strip():
            refuse(path, f"Invalid value for '{path}': expected a URL.")
        out.append((path, not _is_data_url(url)))
    return out


def _items(body: Mapping[str, Any], name: str, expected: str) -> list[tuple[str, Any]]:
    """(path, item) for each item of the array ``name`` (none if absent); refuses a non-array."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        refuse(name, f"Invalid type for '{name}': expected {expected}.", "invalid_type")
    return [(f"{name}[{index}]", item) for index, item in enumerate(value)]


_TYPED_FIELDS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("seed", (int,), "an integer"),
    ("size", (str,), "a string such as '1024x1024'"),
    ("aspect_ratio", (str,), "a string such as '16:9'"),
    ("aspectRatio", (str,), "a string such as '16:9'"),
    ("quality", (str,), "a string"),
    ("resolution", (str, int), "a string such as '1024'"),
    ("style", (str,), "a string"),
    ("sse", (bool,), "a boolean"),
    ("custom", (bool,), "a boolean"),
    ("instrumental", (bool,), "a boolean"),
)


def _has_type(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int, but never a valid int here
        return bool in types
    return isinstance(value, types)


def check_common(body: Mapping[str, Any]) -> None:
    """The checks that do not depend on the model."""
    prompt = body.get("prompt")
    if prompt is None:
        refuse("prompt", "Missing required parameter: 'prompt'.", "missing_parameter")
    if not isinstance(prompt, str):
        refuse("prompt", f"Invalid type for 'prompt': expected a string, got {_show(prompt)}.")
    if not prompt.strip():
        refuse("prompt", "Invalid value for 'prompt': it must not be empty.")
    n = body.get("n")
    if n is not None:
        if not is_int(n):
            refuse(
                "n", f"Invalid type for 'n': expected an integer, got {_show(n)}.", "invalid_type"
            )
        if n < 1:
            refuse("n", f"Invalid value for 'n': {n}. It must be at least 1.")
        if n > EMULATOR_MAX_N:
            refuse(
                "n",
                f"Invalid value for 'n': {n}. This emulator draws at most {EMULATOR_MAX_N} files"
                " per request (a bound of the emulator, not a rule of the gateway).",
                "emulator_limit",
            )
    response_format = body.get("response_format")
    if response_format not in (None, "url", "b64_json"):
        refuse(
            "response_format",
            f"Invalid value for 'response_format': {_show(response_format)}. "
            "Supported values: 'url', 'b64_json'.",
        )
    for name, types, expected in _TYPED_FIELDS:
        value = body.get(name)
        if value is not None and not _has_type(value, types):
            refuse(
                name,
                f"Invalid type for '{name}': expected {expected}, got {_show(value)}.",
                "invalid_type",
            )


def _check_choice(param: str, value: object, allowed: object, model_id: str) -> None:
    if value is None or not isinstance(allowed, list) or not allowed:
        return  # a cap the entry does not state is not enforced
    if str(value) not in [str(a) for a in allowed]:
        choices = ", ".join(_show(a) for a in allowed)
        refuse(
            param,
            f"Invalid value for '{param}': {_show(value)}. "
            f"Supported values for '{model_id}': {choices}.",
        )


def check_model(
    body: Mapping[str, Any], model_id: str, entry: Mapping[str, Any], inputs: list[tuple[str, bool]]
) -> None:
    """The checks against one catalog entry: its kind and the caps it states."""
    if entry_kind(entry) == "text":
        refuse(
            "model",
            f"Invalid value for 'model': '{model_id}' is a chat model and cannot generate images; "
            "use POST /v1/chat/completions.",
            "unsupported_model",
        )
    caps = image_caps(entry)
    n = body.get("n") or 1
    max_n = caps.get("max_n")
    if is_int(max_n) and n > max_n:
        refuse(
            "n", f"Invalid value for 'n': {n}. '{model_id}' generates at most {max_n} per request."
        )
    for param in ("aspect_ratio", "aspectRatio"):
        _check_choice(param, body.get(param), caps.get("aspect_ratios"), model_id)
    _check_choice("quality", body.get("quality"), caps.get("qualities"), model_id)
    _check_choice("resolution", body.get("resolution"), caps.get("resolutions"), model_id)
    if body.get("resolution") is not None and _RESOLUTION_IN_ID.search(model_id):
        refuse(
            "resolution",
            f"Invalid value for 'resolution': '{model_id}' takes its resolution from its id; "
            "remove 'resolution'.",
        )
    max_inputs = caps.get("max_input_images")
    if is_int(max_inputs) and len(inputs) > max_inputs:
        param = inputs[0][0].partition("[")[0]
        if max_inputs == 0:
            reason = f"'{model_id}' is text-only and takes no input images"
        else:
            reason = f"'{model_id}' takes at most {max_inputs} input images"
        refuse(param, f"Invalid value for '{param}': {len(inputs)} given; {reason}.")
    if caps.get("supports_url_input") is False:
        for path, remote in inputs:
            if remote:
                refuse(
                    path,
                    f"Invalid value for '{path}': '{model_id}' does not accept image URLs; "
                    "send the image as base64 data instead.",
                )
