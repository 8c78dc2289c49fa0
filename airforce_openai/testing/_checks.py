"""The gateway's checks of a generation request: the body alone, then against a catalog entry.

    >>> check_common({"prompt": "an otter", "n": 11})
    Traceback (most recent call last):
    Refusal: Invalid value for 'n': 11. It must be between 1 and 10.

Each check raises ``Refusal`` naming the culprit parameter (and its index or path), worded as
the gateway words it, independently of the client package.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from ._catalog import entry_kind, image_caps
from ._errors import refuse
from ._values import is_int

__all__ = ["candidate_models", "check_common", "check_model", "input_images"]

_MAX_N = 10  # the OpenAI images limit, applied whatever the catalog says


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
        if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
            refuse("models", "Invalid value for 'models': expected an array of model ids.")
        if len(models) > 3:
            refuse("models", f"Invalid value for 'models': at most 3 models, {len(models)} given.")
        fallbacks = models
    if model is None and not fallbacks:
        refuse("model", "Missing required parameter: 'model'.", "missing_parameter")
    out = [model] if isinstance(model, str) else []
    out.extend(m for m in fallbacks if m not in out)
    return out


def _is_base64(text: str) -> bool:
    if text.startswith("data:"):
        _, _, text = text.partition(",")
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
    items = body.get("input_images")
    if items is not None:
        if not isinstance(items, list):
            refuse(
                "input_images",
                "Invalid type for 'input_images': expected an array of {url} or {b64_json}.",
                "invalid_type",
            )
        for index, item in enumerate(items):
            path = f"input_images[{index}]"
            if not isinstance(item, Mapping) or (item.get("url") is None) == (
                item.get("b64_json") is None
            ):
                refuse(
                    path, f"Invalid value for '{path}': expected either {{url}} or {{b64_json}}."
                )
            url = item.get("url")
            if url is not None:
                if not isinstance(url, str) or not url.strip():
                    refuse(f"{path}.url", f"Invalid value for '{path}.url': expected a URL.")
                out.append((path, not url.startswith("data:")))
            else:
                data = item.get("b64_json")
                if not isinstance(data, str) or not _is_base64(data):
                    refuse(
                        f"{path}.b64_json",
                        f"Invalid value for '{path}.b64_json': not valid base64 data.",
                    )
                out.append((path, False))
    urls = body.get("image_urls")
    if urls is not None:
        if not isinstance(urls, list):
            refuse(
                "image_urls",
                "Invalid type for 'image_urls': expected an array of URLs.",
                "invalid_type",
            )
        for index, url in enumerate(urls):
            path = f"image_urls[{index}]"
            if not isinstance(url, str) or not url.strip():
                refuse(path, f"Invalid value for '{path}': expected a URL.")
            out.append((path, not url.startswith("data:")))
    return out


_TYPED_FIELDS: tuple[tuple[str, tuple[type, ...], str], ...] = (
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
        if not 1 <= n <= _MAX_N:
            refuse("n", f"Invalid value for 'n': {n}. It must be between 1 and {_MAX_N}.")
    response_format = body.get("response_format")
    if response_format not in (None, "url", "b64_json"):
        refuse(
            "response_format",
            f"Invalid value for 'response_format': {_show(response_format)}. "
            "Supported values: 'url', 'b64_json'.",
        )
    seed = body.get("seed")
    if seed is not None and not is_int(seed):
        refuse(
            "seed",
            f"Invalid type for 'seed': expected an integer, got {_show(seed)}.",
            "invalid_type",
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
