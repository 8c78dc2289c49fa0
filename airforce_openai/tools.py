"""Image generation as an agent tool whose argument schema offers only what the model accepts.

    >>> tool = af.tools.image_tool(client, "flux-2-dev", output_dir="out")
    >>> print(tool.run('{"prompt": "an otter", "aspect_ratio": "16:9"}'))
    Generated 1 image with flux-2-dev, saved as:
    out/image-0.png
    >>> print(tool.run({"prompt": "an otter", "n": "2"}))
    Error: flux-2-dev: n must be an integer, got str '2'
    >>> result = tool.call({"prompt": "an otter", "n": 2})
    >>> result.is_error, len(result.paths), result.response is tool.last_response
    (False, 2, True)

``tool.definition`` goes into an OpenAI ``tools=[...]`` list; ``tool.run(arguments)``
answers the model's tool call (``tool.call(arguments)`` also gives the saved paths and the
response). The tool checks the arguments' JSON shape against its schema (unknown names,
JSON types); every other rule is the validator's, applied whatever the client's validation
mode. Each refusal on the way (shape, capabilities, input files, the gateway) comes back as
an ``"Error: ..."`` text the model can act on, never as an exception.

Local file paths in ``input_images`` are read and sent to the gateway: whoever controls
the model's arguments can send any image file this process can read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
from openai.types import ImagesResponse

from ._catalog import ImageModel
from ._client import AsyncOpenAI, OpenAI
from ._exceptions import CapabilityError, ImageUnavailableError, OutcomeUnknownError, Violation
from ._failures import gateway_message
from ._params import image_params
from ._results import asave_images, save_images
from ._validation import check_request
from ._values import is_int, shorten

__all__ = ["DEFAULT_TOOL_NAME", "ImageTool", "ToolResult", "aimage_tool", "image_tool"]

DEFAULT_TOOL_NAME = "generate_image"

# Errors a tool call reports to the model as text. Anything else is a bug and is raised.
_REPORTED_ERRORS = (openai.OpenAIError, ValueError, OSError)
# The JSON types the schema uses, held strictly as JSON has them: "2" and true are no integers.
_JSON_TYPES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "string": ("a string", lambda value: isinstance(value, str)),
    "integer": ("an integer", is_int),
    "array": ("a list", lambda value: isinstance(value, list)),
}


# --------------------------------------------------------------------------- the schema


def _parameters(model: ImageModel) -> dict[str, Any]:
    """The JSON schema of the tool's arguments, offering only what ``model`` accepts.

    A cap the catalog does not state is not restricted: ``aspect_ratio`` is then a
    free string, ``n`` has no maximum, ``input_images`` no ``maxItems``.
    """
    caps = model.caps
    properties: dict[str, Any] = {
        "prompt": {
            "type": "string",
            "minLength": 1,
            "description": "What to generate, described in detail.",
        }
    }
    if caps.aspect_ratios is not None:
        properties["aspect_ratio"] = {
            "type": "string",
            "enum": list(caps.aspect_ratios),
            "description": "Shape of the result, width:height.",
        }
    else:
        properties["aspect_ratio"] = {
            "type": "string",
            "description": "Shape of the result, width:height, e.g. 16:9.",
        }
    n: dict[str, Any] = {"type": "integer", "minimum": 1}
    if caps.max_n is not None:
        n["maximum"] = caps.max_n
    n["description"] = "How many results to generate (default 1)."
    properties["n"] = n
    if caps.qualities is not None:
        properties["quality"] = {
            "type": "string",
            "enum": list(caps.qualities),
            "description": "Rendering quality.",
        }
    if caps.max_input_images is None or caps.max_input_images > 0:
        images: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
        if caps.max_input_images is not None:
            images["maxItems"] = caps.max_input_images
        if caps.supports_url_input is False:
            images["description"] = (
                "Reference images, as local file paths (this model does not take URLs)."
            )
        else:
            images["description"] = "Reference images, as http(s) URLs or local file paths."
        properties["input_images"] = images
    if caps.supports_seed is not False:
        properties["seed"] = {
            "type": "integer",
            "description": "Seed for reproducible results (same prompt and seed, same result).",
        }
    return {
        "type": "object",
        "properties": properties,
        "required": ["prompt"],
        "additionalProperties": False,
    }


def _misshapen(
    arguments: Mapping[str, Any], parameters: Mapping[str, Any], model: str
) -> list[Violation]:
    """The arguments ``parameters`` does not name, or that have another JSON type than it says."""
    properties: Mapping[str, Any] = parameters["properties"]
    found: list[Violation] = []
    for key, value in arguments.items():
        schema = properties.get(key)
        if schema is None:
            message = f"{model}: unknown argument {key!r}; this tool takes {', '.join(properties)}"
            found.append(
                Violation(param=key, value=value, allowed=tuple(properties), message=message)
            )
            continue
        checks = [(key, value, schema["type"])]
        if schema["type"] == "array" and isinstance(value, list):
            checks += [
                (f"{key}[{i}]", item, schema["items"]["type"]) for i, item in enumerate(value)
            ]
        for where, given, kind in checks:
            expected, has_type = _JSON_TYPES[kind]
            if not has_type(given):
                shown = "null" if given is None else f"{type(given).__name__} {given!r}"
                message = f"{model}: {where} must be {expected}, got {shorten(shown, 60)}"
                found.append(Violation(param=key, value=given, allowed=kind, message=message))
    return found


# --------------------------------------------------------------------------- the tool


@dataclass(frozen=True)
class ToolResult:
    """What one tool call produced: the text for the model, and on success the response.

    ``paths`` are the files saved (none without an ``output_dir``; after a failed save, the
    ones that were written). ``is_error`` is true when ``text`` is an ``Error: ...`` text.
    """

    text: str
    paths: list[Path] = field(default_factory=list)
    response: ImagesResponse | None = None

    @property
    def is_error(self) -> bool:
        """True for a refused or failed call: nothing was generated, or it was not saved."""
        return self.response is None


class ImageTool:
    """One image model as a function-calling tool: ``definition`` to offer it, ``run`` to answer.

    ``call`` answers too, with the saved paths and the response besides the text.

    Built by :func:`image_tool` (sync client) or :func:`aimage_tool` (async client).
    """

    def __init__(
        self,
        client: OpenAI | AsyncOpenAI,
        model: ImageModel,
        *,
        output_dir: str | os.PathLike[str] | None = None,
        description: str | None = None,
        name: str = DEFAULT_TOOL_NAME,
    ) -> None:
        """A tool for ``model``, whose caps are already known; prefer :func:`image_tool`."""
        if not isinstance(client, (OpenAI, AsyncOpenAI)):
            raise TypeError(
                f"client must be an airforce_openai.OpenAI or AsyncOpenAI, "
                f"not {type(client).__name__}"
            )
        if not isinstance(model, ImageModel):
            raise TypeError(f"model must be an ImageModel, not {type(model).__name__}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.client = client
        self.model = model
        self.name = name
        self.output_dir = _check_output_dir(output_dir)
        self.parameters = _parameters(model)
        self.description = description if description is not None else self._describe()
        self.last_response: ImagesResponse | None = None
        """The response of the last successful call, or None."""

    def __repr__(self) -> str:
        return f"<ImageTool {self.name} model={self.model.id!r}>"

    @property
    def definition(self) -> dict[str, Any]:
        """The entry for an OpenAI ``tools=[...]`` list."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def run(self, arguments: str | Mapping[str, Any]) -> str:
        """Answer a tool call (sync client): the saved paths or URLs, or an ``Error: ...`` text."""
        return self.call(arguments).text

    async def arun(self, arguments: str | Mapping[str, Any]) -> str:
        """Answer a tool call (async client): the saved paths or URLs, or an ``Error: ...`` text."""
        return (await self.acall(arguments)).text

    def call(self, arguments: str | Mapping[str, Any]) -> ToolResult:
        """Answer a tool call (sync client) with the text, the saved paths and the response."""
        client = self.client
        if not isinstance(client, OpenAI):
            raise TypeError(
                "this tool was built with an AsyncOpenAI client: use `await tool.arun(...)`"
            )
        try:
            response = client.images.generate(**self._request(arguments))
            paths = save_images(response, self.output_dir) if self.output_dir else []
        except _REPORTED_ERRORS as exc:
            return _failed(exc)
        return self._succeeded(response, paths)

    async def acall(self, arguments: str | Mapping[str, Any]) -> ToolResult:
        """Like :meth:`call`, for an async client."""
        # The twin of call: only the client's type and the awaits differ.
        client = self.client
        if not isinstance(client, AsyncOpenAI):
            raise TypeError("this tool was built with an OpenAI (sync) client: use `tool.run(...)`")
        try:
            response = await client.images.generate(**self._request(arguments))
            paths = await asave_images(response, self.output_dir) if self.output_dir else []
        except _REPORTED_ERRORS as exc:
            return _failed(exc)
        return self._succeeded(response, paths)

    def _request(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        """The ``images.generate`` keyword arguments for a tool call the validator accepts."""
        args = _parse_arguments(arguments)
        model = self.model
        misshapen = _misshapen(args, self.parameters, model.id)
        if misshapen:
            raise CapabilityError(model.id, misshapen)
        extra = image_params(
            aspect_ratio=args.get("aspect_ratio"),
            seed=args.get("seed"),
            input_images=args.get("input_images"),
            quality=args.get("quality"),
        )
        request: dict[str, Any] = {
            "model": model.id,
            "prompt": args.get("prompt"),
            # Saved files come from base64 (one round trip); without a directory, links.
            "response_format": "b64_json" if self.output_dir else "url",
        }
        if "n" in args:
            request["n"] = args["n"]
        # Checked here too, not only by the client: its validation mode may be "off".
        report = check_request({**request, **extra}, {model.id: model})
        if report.errors:
            raise CapabilityError(model.id, report.errors)
        return {**request, "extra_body": extra}

    def _succeeded(self, response: ImagesResponse, paths: list[Path]) -> ToolResult:
        self.last_response = response
        return ToolResult(self._summary(response, paths), paths, response)

    def _summary(self, response: ImagesResponse, paths: list[Path]) -> str:
        items = response.data or []
        head = f"Generated {self._count(len(items))} with {self.model.id}"
        if self.output_dir:
            return f"{head}, saved as:\n" + "\n".join(str(path) for path in paths)
        lines: list[str] = []
        inline = 0
        for index, item in enumerate(items):
            if item.url:
                lines.append(item.url)
            elif item.b64_json:
                inline += 1
            else:
                lines.append(f"item {index}: no URL (the gateway could not host the file)")
        if inline:
            lines.append(f"{self._count(inline)} came back as base64 data, not links")
        return f"{head}:\n" + "\n".join(lines)

    def _count(self, number: int) -> str:
        noun = "image" if self.model.output in ("image", "unknown") else "file"
        return f"{number} {noun}" if number == 1 else f"{number} {noun}s"

    def _describe(self) -> str:
        model = self.model
        kind = "audio" if model.output == "audio" else "video" if model.output == "video" else ""
        what = f"{kind} files" if kind else "images"
        text = f"Generate {what} from a text prompt with the {model.id} model."
        if "input_images" in self.parameters["properties"]:
            text += " Optional reference images guide the result."
        if self.output_dir:
            text += " Returns the paths of the saved files."
        else:
            text += " Returns links to the results."
        return text


def image_tool(
    client: OpenAI,
    model: str,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    description: str | None = None,
    name: str = DEFAULT_TOOL_NAME,
) -> ImageTool:
    """A tool for ``model`` on a sync client; the catalog is read now, and an unknown model raises.

    Raises ``af.CapabilityError`` (a ``ValueError``) naming the model and close
    matches when the catalog does not list it or lists it as a chat model.
    """
    if isinstance(client, AsyncOpenAI):
        raise TypeError("image_tool() takes an OpenAI client; use `await aimage_tool(...)`")
    if not isinstance(client, OpenAI):
        raise TypeError(f"client must be an airforce_openai.OpenAI, not {type(client).__name__}")
    info = _model_info(model, client.catalog.models())
    return ImageTool(client, info, output_dir=output_dir, description=description, name=name)


async def aimage_tool(
    client: AsyncOpenAI,
    model: str,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    description: str | None = None,
    name: str = DEFAULT_TOOL_NAME,
) -> ImageTool:
    """Like :func:`image_tool`, for an ``AsyncOpenAI`` client (the catalog is awaited)."""
    # A twin of image_tool, kept: its client type and its await are the differences.
    if not isinstance(client, AsyncOpenAI):
        raise TypeError(
            f"aimage_tool() takes an AsyncOpenAI client, not {type(client).__name__}; "
            "use image_tool() for a sync client"
        )
    info = _model_info(model, await client.catalog.models())
    return ImageTool(client, info, output_dir=output_dir, description=description, name=name)


def _model_info(model: str, models: Mapping[str, ImageModel]) -> ImageModel:
    if not isinstance(model, str):
        raise TypeError(f"model must be a model id string, not {type(model).__name__}")
    # The validator's own model checks: unknown ids get close matches, chat models a refusal.
    report = check_request({"model": model, "prompt": "-"}, models)
    if report.errors or report.model_info is None:
        raise CapabilityError(model, report.errors)
    return report.model_info


def _check_output_dir(output_dir: str | os.PathLike[str] | None) -> Path | None:
    if output_dir is None:
        return None
    path = Path(output_dir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"output_dir {str(path)!r} exists and is not a directory")
    return path


def _parse_arguments(arguments: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(arguments, Mapping):
        parsed: object = dict(arguments)
    elif isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError as exc:
            raise ValueError(f"the arguments are not valid JSON ({exc})") from None
    else:
        raise TypeError(
            f"arguments must be a JSON string or a mapping, not {type(arguments).__name__}"
        )
    if not isinstance(parsed, dict):
        raise ValueError(f"the arguments must be a JSON object, got {type(parsed).__name__}")
    bad_keys = [key for key in parsed if not isinstance(key, str)]
    if bad_keys:
        raise ValueError(f"argument names must be strings, got {bad_keys[0]!r}")
    return parsed


def _failed(exc: BaseException) -> ToolResult:
    """A failed call, in words for whoever decides what to try next."""
    if isinstance(exc, ImageUnavailableError):
        saved = "".join(f"\n{path}" for path in exc.saved)
        return ToolResult(f"Error: {exc}{saved}", exc.saved)
    if isinstance(exc, openai.APIStatusError):
        said = gateway_message(exc.body, exc.message)
        text = f"the gateway refused the request (HTTP {exc.status_code}): {said}"
    elif isinstance(exc, openai.APIConnectionError) and not isinstance(exc, OutcomeUnknownError):
        text = f"could not reach the gateway: {exc}"
    else:  # an OutcomeUnknownError says itself that the render may have been billed
        text = str(exc) or type(exc).__name__
    return ToolResult(f"Error: {text}")
