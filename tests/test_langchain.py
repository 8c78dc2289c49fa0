"""The LangChain tool, with the real langchain_core, against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip(
    "langchain_core", reason="needs the [langchain] extra: pip install 'airforce-openai[langchain]'"
)

from _tool_cases import CASE_PARAMS, ToolCase
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai.langchain import AirforceImageTool
from airforce_openai.testing import Emulator, Fault
from airforce_openai.tools import image_tool

ROOT = Path(__file__).resolve().parents[1]
FLUX_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_importing_the_package_does_not_import_langchain() -> None:
    result = _python(
        """
        import sys
        import airforce_openai, airforce_openai.tools, airforce_openai._batch
        assert "langchain_core" not in sys.modules, "langchain_core was imported"
        assert "airforce_openai.langchain" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_missing_langchain_names_the_extra() -> None:
    result = _python(
        """
        import sys
        sys.modules["langchain_core"] = None  # as if it were not installed
        try:
            import airforce_openai.langchain
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("imported without langchain_core")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "airforce-openai[langchain]" in result.stdout


# --------------------------------------------------------------------------- the schema


@pytest.mark.parametrize("model", ["flux-2-dev", "nano-banana-2", "suno-v5"])
def test_args_schema_matches_the_plain_tool_schema(client: af.OpenAI, model: str) -> None:
    parameters = image_tool(client, model).parameters
    args_schema = AirforceImageTool(client=client, model=model).args_schema
    assert isinstance(args_schema, type)
    schema = args_schema.model_json_schema()
    assert schema["required"] == ["prompt"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(parameters["properties"])
    for name, expected in parameters["properties"].items():
        shown = {k: v for k, v in schema["properties"][name].items() if k != "title"}
        assert shown == expected, name


def test_tool_is_a_langchain_tool_showing_the_caps(client: af.OpenAI) -> None:
    tool = AirforceImageTool(client=client, model="flux-2-dev")
    assert isinstance(tool, BaseTool)
    assert tool.name == "generate_image"
    assert tool.response_format == "content_and_artifact"
    function = convert_to_openai_tool(tool)["function"]
    assert "flux-2-dev" in function["description"]
    properties = function["parameters"]["properties"]
    assert properties["aspect_ratio"]["enum"] == FLUX_RATIOS
    assert properties["n"]["maximum"] == 4
    assert properties["input_images"]["maxItems"] == 4
    assert function["parameters"]["required"] == ["prompt"]


def test_unknown_model_is_refused_at_construction(client: af.OpenAI) -> None:
    with pytest.raises(af.CapabilityError, match="flux-2-dev"):
        AirforceImageTool(client=client, model="flux-2-devv")


def test_async_client_must_be_async(client: af.OpenAI) -> None:
    with pytest.raises(TypeError, match="AsyncOpenAI"):
        AirforceImageTool(client=client, model="flux-2-dev", async_client=client)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- calls


def test_invoke_saves_and_answers_with_paths(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = AirforceImageTool(client=client, model="flux-2-dev", output_dir=tmp_path)
    content = tool.invoke({"prompt": "an otter", "aspect_ratio": "16:9"})
    lines = content.splitlines()
    assert lines[0] == "Generated 1 image with flux-2-dev, saved as:"
    assert Path(lines[1]).is_file()
    (sent,) = emulator.generation_requests()
    assert sent.json["aspect_ratio"] == "16:9"
    assert "n" not in sent.json  # arguments the model left out are not sent


def test_tool_call_gives_a_tool_message_with_the_response(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = AirforceImageTool(client=client, model="flux-2-dev", output_dir=tmp_path)
    message = AIMessage(
        content="",
        tool_calls=[{"name": tool.name, "args": {"prompt": "an otter", "n": 2}, "id": "call_7"}],
    )
    result = tool.invoke(message.tool_calls[0])
    assert isinstance(result, ToolMessage)
    assert result.tool_call_id == "call_7"
    assert result.status == "success"
    assert isinstance(result.artifact, ImagesResponse)
    assert len(result.artifact.data or []) == 2
    paths = [Path(line) for line in str(result.content).splitlines()[1:]]
    assert len(paths) == 2 and all(path.is_file() for path in paths)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"prompt": "x", "aspect_ratio": "5:4"}, "aspect_ratio '5:4'"),
        ({"prompt": "x", "n": 9}, "n 9"),
        ({"prompt": "x", "style": "noir"}, "style"),
    ],
)
def test_arguments_outside_the_schema_come_back_as_error_messages(
    client: af.OpenAI, emulator: Emulator, args: dict[str, object], expected: str
) -> None:
    tool = AirforceImageTool(client=client, model="flux-2-dev")
    call = {"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"}
    result = tool.invoke(call)
    assert isinstance(result, ToolMessage)
    assert result.status == "error"
    assert str(result.content).startswith("Error: ")
    assert expected in str(result.content)
    assert result.artifact is None
    assert emulator.generation_requests() == []


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_langchain_and_the_plain_tool_accept_and_refuse_the_same_arguments(
    client: af.OpenAI, emulator: Emulator, case: ToolCase
) -> None:
    plain = image_tool(client, case.model).call(case.arguments)
    sent_plain = [request.json for request in emulator.generation_requests()]
    emulator.clear()
    tool = AirforceImageTool(client=client, model=case.model)
    result = tool.invoke(
        {"name": tool.name, "args": case.arguments, "id": "c", "type": "tool_call"}
    )
    sent_langchain = [request.json for request in emulator.generation_requests()]
    assert isinstance(result, ToolMessage)
    assert (result.status == "error") is plain.is_error is (case.needle is not None), result.content
    assert sent_langchain == sent_plain  # the same request, or none at all
    assert len(sent_plain) == (0 if plain.is_error else 1)


def test_failures_on_the_way_come_back_as_error_messages(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = AirforceImageTool(client=client, model="flux-2-dev")
    missing = tmp_path / "missing.png"
    call = {
        "name": tool.name,
        "args": {"prompt": "x", "input_images": [str(missing)]},
        "id": "call_2",
        "type": "tool_call",
    }
    result = tool.invoke(call)
    assert result.status == "error"
    assert "file not found" in str(result.content)

    emulator.inject(Fault.status(402))
    assert tool.invoke({"prompt": "x"}).startswith("Error: the gateway refused the request")


async def test_ainvoke_uses_the_async_client(
    client: af.OpenAI, aclient: af.AsyncOpenAI, emulator: Emulator
) -> None:
    tool = AirforceImageTool(client=client, model="flux-2-dev", async_client=aclient)
    content = await tool.ainvoke({"prompt": "an otter"})
    assert content.startswith("Generated 1 image with flux-2-dev:")
    assert len(emulator.generation_requests()) == 1

    emulator.inject(Fault.status(402))
    result = await tool.ainvoke(
        {"name": tool.name, "args": {"prompt": "x"}, "id": "c", "type": "tool_call"}
    )
    assert result.status == "error"
    assert "HTTP 402" in str(result.content)


async def test_ainvoke_without_an_async_client_runs_the_sync_path(
    client: af.OpenAI, emulator: Emulator
) -> None:
    tool = AirforceImageTool(client=client, model="nano-banana-2")
    result = await tool.ainvoke(
        {"name": tool.name, "args": {"prompt": "an otter"}, "id": "c", "type": "tool_call"}
    )
    assert result.status == "success"
    assert isinstance(result.artifact, ImagesResponse)
    assert len(emulator.generation_requests()) == 1
