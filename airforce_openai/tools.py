"""Image generation as an agent tool whose argument schema offers only what the model accepts.

    >>> tool = af.tools.image_tool(client, "flux-2-dev", output_dir="out")
    >>> tool.run('{"prompt": "an otter", "aspect_ratio": "16:9"}')  # 'Generated 1 image ...'

``tool.definition`` goes into an OpenAI ``tools=[...]`` list; ``tool.run(arguments)``
answers the model's tool call. Arguments the model sends outside the schema, and
every refusal on the way (capabilities, input files, the gateway), come back as an
``"Error: ..."`` text the model can act on, never as an exception.

Local file paths in ``input_images`` are read and sent to the gateway: whoever controls
the model's arguments can send any image file this process can read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from openai.types import ImagesResponse

from ._catalog import ImageModel
from ._client import AsyncOpenAI, OpenAI
from ._exceptions import CapabilityError, ImageUnavailableError, OutcomeUnknownError
from ._failures import gateway_message
from ._params import image_params
from ._results import asave_images, save_images
from ._validation import check_request

__all__ = [
    "DEFAULT_TOOL_NAME",
    "ImageTool",
    "aimage_tool",
    "check_arguments",
    "image_tool",
    "tool_parameters",
]

DEFAULT_TOOL_NAME = "generate_image"

# Errors a tool call reports to the model as text. Anything else is a bug and is raised.
_REPORTED_ERRORS = (openai.OpenAIError, ValueError, OSError)
_JSON_TYPE_NAMES = {"string": "a string", "integer": "an integer", "array": "a list"}


# --------------------------------------------------------------------------- the schema


def tool_parameters(model: ImageModel) -> dict[str, Any]:
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


def check_arguments(
    arguments: Mapping[str, Any], parameters: Mapping[str, Any], *, model: str
) -> list[str]:
    """Every way ``arguments`` breaks ``parameters`` (a schema from :func:`tool_parameters`).

    >>> check_arguments({"prompt": "x", "aspect_ratio": "5:4"}, params, model="flux-2-dev")
    ["flux-2-dev: aspect_ratio '5:4' is not one of 1:1, 16:9, ..."]
    """
    properties: Mapping[str, Any] = parameters.get("properties", {})
    problems: list[str] = []
    for key in arguments:
        if key not in properties:
            problems.append(
                f"{model}: unknown argument {key!r}; this tool takes {', '.join(properties)}"
            )
    for key in parameters.get("required", ()):
        if key not in arguments:
            problems.append(f"{model}: {key} is required")
    for key, schema in properties.items():
        if key in arguments:
            problems.extend(_check_value(model, key, arguments[key], schema))
    return problems


def _check_value(model: str, key: str, value: object, schema: Mapping[str, Any]) -> list[str]:
    kind = str(schema.get("type"))
    if not _has_type(value, kind):
        shown = "null" if value is None else f"{type(value).__name__} {_short(repr(value))}"
        return [f"{model}: {key} must be {_JSON_TYPE_NAMES.get(kind, kind)}, got {shown}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{model}: {key} {value!r} is not one of {', '.join(schema['enum'])}")
    if isinstance(value, str) and len(value.strip()) < schema.get("minLength", 0):
        problems.append(
            f"{model}: {key} is empty" if not value.strip() else f"{model}: {key} is too short"
        )
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        problems.append(f"{model}: {key} {value} is below the minimum of {schema['minimum']}")
    if "maximum" in schema and isinstance(value, int) and value > schema["maximum"]:
        problems.append(f"{model}: {key} {value} is above the maximum of {schema['maximum']}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                problems.append(
                    f"{model}: {key}[{index}] must be a string, got {type(item).__name__}"
                )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(
                f"{model}: {key} has {len(value)} items, above the maximum of {schema['maxItems']}"
            )
    return problems


def _has_type(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    return True


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- the tool


@dataclass(frozen=True)
class _Outcome:
    """What one tool call produced: the text for the model, and the response on success."""

    text: str
    response: ImagesResponse | None


class _ToolCallError(Exception):
    """A tool call that cannot be made; its message goes back to the model."""


class ImageTool:
    """One image model as a function-calling tool: ``definition`` to offer it, ``run`` to answer.

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
        self.parameters = tool_parameters(model)
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
        return self._call(arguments).text

    async def arun(self, arguments: str | Mapping[str, Any]) -> str:
        """Answer a tool call (async client): the saved paths or URLs, or an ``Error: ...`` text."""
        return (await self._acall(arguments)).text

    # -- the calls

    def _call(self, arguments: str | Mapping[str, Any]) -> _Outcome:
        client = self.client
        if not isinstance(client, OpenAI):
            raise TypeError(
                "this tool was built with an AsyncOpenAI client: use `await tool.arun(...)`"
            )
        try:
            request = self._request(arguments)
            response = client.images.generate(**request)
            paths = save_images(response, self.output_dir) if self.output_dir else None
        except _ToolCallError as exc:
            return _Outcome(f"Error: {exc}", None)
        except _REPORTED_ERRORS as exc:
            return _Outcome(f"Error: {_error_text(exc)}", None)
        self.last_response = response
        return _Outcome(self._summary(response, paths), response)

    async def _acall(self, arguments: str | Mapping[str, Any]) -> _Outcome:
        client = self.client
        if not isinstance(client, AsyncOpenAI):
            raise TypeError("this tool was built with an OpenAI (sync) client: use `tool.run(...)`")
        try:
            request = self._request(arguments)
            response = await client.images.generate(**request)
            paths = await asave_images(response, self.output_dir) if self.output_dir else None
        except _ToolCallError as exc:
            return _Outcome(f"Error: {exc}", None)
        except _REPORTED_ERRORS as exc:
            return _Outcome(f"Error: {_error_text(exc)}", None)
        self.last_response = response
        return _Outcome(self._summary(response, paths), response)

    def _request(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        """The ``images.generate`` keyword arguments for a tool call's arguments."""
        args = _parse_arguments(arguments)
        problems = check_arguments(args, self.parameters, model=self.model.id)
        if problems:
            raise _ToolCallError("\n".join(problems))
        extra = image_params(
            aspect_ratio=args.get("aspect_ratio"),
            seed=args.get("seed"),
            input_images=args.get("input_images"),
            quality=args.get("quality"),
        )
        request: dict[str, Any] = {
            "model": self.model.id,
            "prompt": args["prompt"],
            # Saved files come from base64 (one round trip); without a directory, links.
            "response_format": "b64_json" if self.output_dir else "url",
            "extra_body": extra,
        }
        if "n" in args:
            request["n"] = args["n"]
        return request

    def _summary(self, response: ImagesResponse, paths: Sequence[Path] | None) -> str:
        items = response.data or []
        head = f"Generated {self._count(len(items))} with {self.model.id}"
        if paths is not None:
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
            raise _ToolCallError(f"the arguments are not valid JSON ({exc})") from None
    else:
        raise TypeError(
            f"arguments must be a JSON string or a mapping, not {type(arguments).__name__}"
        )
    if not isinstance(parsed, dict):
        raise _ToolCallError(f"the arguments must be a JSON object, got {type(parsed).__name__}")
    bad_keys = [key for key in parsed if not isinstance(key, str)]
    if bad_keys:
        raise _ToolCallError(f"argument names must be strings, got {bad_keys[0]!r}")
    return parsed


def _error_text(exc: BaseException) -> str:
    """One or a few lines about a failed call, written for whoever decides what to try next."""
    if isinstance(exc, ImageUnavailableError):
        saved = "".join(f"\n{path}" for path in exc.saved)
        return f"{exc}{saved}"
    if isinstance(exc, openai.APIStatusError):
        said = gateway_message(exc.body, exc.message)
        return f"the gateway refused the request (HTTP {exc.status_code}): {said}"
    if isinstance(exc, OutcomeUnknownError):
        return str(exc)  # it says the render may have been billed
    if isinstance(exc, openai.APIConnectionError):
        return f"could not reach the gateway: {exc}"
    return str(exc) or type(exc).__name__
