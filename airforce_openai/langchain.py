"""A LangChain tool for one image model, with an argument schema derived from its capabilities.

    >>> tool = AirforceImageTool(client=client, model="flux-2-dev", output_dir="out")
    >>> print(tool.invoke({"prompt": "an otter", "aspect_ratio": "16:9"}))
    Generated 1 image with flux-2-dev, saved as:
    out/image-0.png

Needs the ``langchain`` extra: ``pip install 'airforce-openai[langchain]'``. The tool's
content is a short text (the saved paths or the links), its artifact the ``ImagesResponse``.
Refused calls come back as an ``Error: ...`` text with ``status="error"``, never as exceptions.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, Literal

try:
    from langchain_core.tools import BaseTool, ToolException
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without the extra
    raise ImportError(
        "airforce_openai.langchain needs langchain-core; "
        "install it with: pip install 'airforce-openai[langchain]'"
    ) from exc

from openai.types import ImagesResponse
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from ._client import AsyncOpenAI, OpenAI
from ._values import shorten
from .tools import DEFAULT_TOOL_NAME, ImageTool, ToolResult, image_tool

__all__ = ["AirforceImageTool"]

_PYTHON_TYPES: dict[str, Any] = {"string": str, "integer": int}


def _args_schema(parameters: Mapping[str, Any]) -> type[BaseModel]:
    """A pydantic model with the same JSON schema as ``parameters`` (an ``ImageTool``'s).

    Enums become ``Literal`` types, ``minimum``/``maximum`` ``ge``/``le`` bounds and
    ``maxItems`` a ``max_length``, so ``convert_to_openai_tool`` shows them. The model is
    strict, as JSON types are (``"2"`` is no integer, ``true`` no seed), so it accepts and
    refuses what ``ImageTool.call`` does.
    """
    required = set(parameters.get("required", ()))
    fields: dict[str, Any] = {}
    for key, schema in parameters.get("properties", {}).items():
        annotation = _annotation(key, schema)
        constraints: dict[str, Any] = {"description": schema.get("description")}
        if "minimum" in schema:
            constraints["ge"] = schema["minimum"]
        if "maximum" in schema:
            constraints["le"] = schema["maximum"]
        if "maxItems" in schema:
            constraints["max_length"] = schema["maxItems"]
        if "minLength" in schema:
            constraints["min_length"] = schema["minLength"]
        if key in required:
            fields[key] = (annotation, Field(**constraints))
        else:
            # Optional in use, yet shown as its plain type: "null" is not an answer to offer.
            fields[key] = (annotation, Field(None, json_schema_extra=_drop_default, **constraints))
    forbid = parameters.get("additionalProperties") is False
    config = ConfigDict(extra="forbid" if forbid else "ignore", strict=True)
    model: type[BaseModel] = create_model("GenerateImageArgs", __config__=config, **fields)
    return model


def _annotation(key: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    if kind == "array":
        item = schema.get("items", {}).get("type", "string")
        return list[_PYTHON_TYPES[item]]  # type: ignore[valid-type]
    if kind in _PYTHON_TYPES:
        return _PYTHON_TYPES[kind]
    raise ValueError(f"parameter {key!r} has a schema type this tool cannot express: {kind!r}")


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _validation_error_text(error: ValidationError) -> str:
    """The tool result for arguments outside the schema: what was given, and what is expected."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        given = "" if item["type"] == "missing" else f" {shorten(repr(item['input']), 60)}"
        lines.append(f"{where}{given}: {item['msg']}")
    return "Error: invalid arguments: " + "; ".join(lines)


class AirforceImageTool(BaseTool):
    """A LangChain tool that generates with one model; only what the model accepts is offered."""

    client: OpenAI
    model: str
    async_client: AsyncOpenAI | None = None
    output_dir: str | os.PathLike[str] | None = None

    name: str = DEFAULT_TOOL_NAME
    description: str = ""
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = _validation_error_text

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _sync_tool: ImageTool = PrivateAttr()
    _async_tool: ImageTool | None = PrivateAttr(default=None)

    def __init__(
        self,
        *,
        client: OpenAI,
        model: str,
        async_client: AsyncOpenAI | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Read ``model``'s caps from ``client.catalog`` (an unknown model raises) and build."""
        if async_client is not None and not isinstance(async_client, AsyncOpenAI):
            raise TypeError(
                "async_client must be an airforce_openai.AsyncOpenAI, "
                f"not {type(async_client).__name__}"
            )
        name = kwargs.get("name", DEFAULT_TOOL_NAME)
        sync_tool = image_tool(
            client,
            model,
            output_dir=output_dir,
            description=kwargs.get("description"),
            name=name,
        )
        kwargs.setdefault("description", sync_tool.description)
        kwargs.setdefault("args_schema", _args_schema(sync_tool.parameters))
        super().__init__(
            client=client,
            model=model,
            async_client=async_client,
            output_dir=output_dir,
            **kwargs,
        )
        self._sync_tool = sync_tool
        if async_client is not None:
            self._async_tool = ImageTool(
                async_client,
                sync_tool.model,
                output_dir=output_dir,
                description=sync_tool.description,
                name=name,
            )

    def _run(self, **arguments: Any) -> tuple[str, ImagesResponse]:
        return _content_and_artifact(self._sync_tool.call(_given(arguments)))

    async def _arun(self, **arguments: Any) -> tuple[str, ImagesResponse]:
        if self._async_tool is None:
            return await asyncio.to_thread(self._run, **arguments)
        return _content_and_artifact(await self._async_tool.acall(_given(arguments)))


def _content_and_artifact(result: ToolResult) -> tuple[str, ImagesResponse]:
    """What LangChain expects of a tool: a refusal is a ``ToolException`` it turns into text."""
    if result.response is None:
        raise ToolException(result.text)
    return result.text, result.response


def _given(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments the model sent: the schema fills the others in with None."""
    return {
        key: value
        for key, value in arguments.items()
        if value is not None and key not in ("run_manager", "config")
    }
