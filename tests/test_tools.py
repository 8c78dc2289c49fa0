"""Agent tools: the schema derived from a model's caps, and tool calls through the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _tool_cases import CASE_PARAMS, ToolCase

import airforce_openai as af
from airforce_openai._catalog import ImageCaps, ImageModel
from airforce_openai.testing import Emulator, Fault, httpx
from airforce_openai.tools import DEFAULT_TOOL_NAME, ImageTool, ToolResult, aimage_tool, image_tool

FLUX_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)


def _model(**caps: Any) -> ImageModel:
    return ImageModel(id="m-1", caps=ImageCaps(**caps), output="image")


@pytest.fixture
def tool_parameters(client: af.OpenAI) -> Any:
    """The schema a tool offers for a model, built without a catalog fetch."""
    return lambda model: ImageTool(client, model).parameters


def _is_image_file(path: Path) -> bool:
    head = path.read_bytes()[:12]
    return head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    )


# --------------------------------------------------------------------------- tool.parameters


def test_parameters_follow_stated_caps(tool_parameters: Any) -> None:
    model = _model(
        max_n=4,
        aspect_ratios=("1:1", "16:9"),
        qualities=("standard", "hd"),
        max_input_images=3,
        supports_url_input=True,
        supports_seed=True,
    )
    schema = tool_parameters(model)
    props = schema["properties"]
    assert schema["type"] == "object"
    assert schema["required"] == ["prompt"]
    assert schema["additionalProperties"] is False
    assert props["prompt"]["type"] == "string"
    assert props["aspect_ratio"]["enum"] == ["1:1", "16:9"]
    assert props["n"] == {**props["n"], "type": "integer", "minimum": 1, "maximum": 4}
    assert props["quality"]["enum"] == ["standard", "hd"]
    assert props["input_images"]["type"] == "array"
    assert props["input_images"]["items"] == {"type": "string"}
    assert props["input_images"]["maxItems"] == 3
    assert props["seed"]["type"] == "integer"


def test_unstated_caps_are_not_restricted(tool_parameters: Any) -> None:
    props = tool_parameters(_model())["properties"]
    assert props["aspect_ratio"]["type"] == "string"
    assert "enum" not in props["aspect_ratio"]
    assert "maximum" not in props["n"]
    assert "maxItems" not in props["input_images"]
    assert "seed" in props
    # Qualities are offered only when the model lists them.
    assert "quality" not in props


def test_text_only_model_offers_no_input_images(tool_parameters: Any) -> None:
    assert "input_images" not in tool_parameters(_model(max_input_images=0))["properties"]


def test_seed_is_withheld_only_when_the_model_ignores_it(tool_parameters: Any) -> None:
    assert "seed" not in tool_parameters(_model(supports_seed=False))["properties"]
    assert "seed" in tool_parameters(_model(supports_seed=True))["properties"]


def test_url_refusing_model_asks_for_paths(tool_parameters: Any) -> None:
    props = tool_parameters(_model(max_input_images=2, supports_url_input=False))["properties"]
    assert "local file paths" in props["input_images"]["description"]
    assert "http(s)" not in props["input_images"]["description"]


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_each_call_is_accepted_or_refused_with_its_reason(
    client: af.OpenAI, emulator: Emulator, case: ToolCase
) -> None:
    tool = image_tool(client, case.model)
    result = tool.call(case.arguments)
    assert isinstance(result, ToolResult)
    sent = emulator.generation_requests()
    if case.needle is None:
        assert not result.is_error, result.text
        assert result.text.startswith("Generated ")
        assert len(sent) == 1
        assert result.response is not None and tool.last_response is result.response
    else:
        assert result.is_error
        assert result.text.startswith("Error: ")
        assert case.needle in result.text
        assert (result.response, result.paths, sent) == (None, [], [])


def test_every_problem_of_a_kind_is_reported_at_once(client: af.OpenAI) -> None:
    tool = image_tool(client, "flux-2-dev")
    # The arguments' shape first: names and JSON types.
    shape = tool.call({"prompt": 3, "n": "9", "extra": 1}).text
    assert shape.startswith("Error: 3 problems with this request:")
    # Then the validator's rules, all at once.
    rules = tool.call({"prompt": " ", "n": 9, "aspect_ratio": "2:1"}).text
    assert rules.startswith("Error: 3 problems with this request:")
    assert "flux-2-dev: n 9 is above the maximum of 4" in rules


# --------------------------------------------------------------------------- construction


def test_definition_is_an_openai_tools_entry(client: af.OpenAI) -> None:
    tool = image_tool(client, "flux-2-dev")
    definition = tool.definition
    assert definition["type"] == "function"
    function = definition["function"]
    assert function["name"] == DEFAULT_TOOL_NAME
    assert "flux-2-dev" in function["description"]
    assert function["parameters"] == tool.parameters
    assert function["parameters"]["properties"]["aspect_ratio"]["enum"] == FLUX_RATIOS
    assert function["parameters"]["properties"]["quality"]["enum"] == ["standard", "hd"]
    assert function["parameters"]["properties"]["n"]["maximum"] == 4
    assert function["parameters"]["properties"]["input_images"]["maxItems"] == 4
    json.dumps(definition)  # ready to send as it is


def test_name_and_description_are_configurable(client: af.OpenAI) -> None:
    tool = image_tool(client, "nano-banana-2", name="draw", description="Draw a picture.")
    assert tool.definition["function"]["name"] == "draw"
    assert tool.definition["function"]["description"] == "Draw a picture."
    assert "seed" not in tool.parameters["properties"]  # nano-banana-2 ignores seeds


def test_unknown_model_is_refused_with_close_matches(client: af.OpenAI) -> None:
    with pytest.raises(af.CapabilityError) as caught:
        image_tool(client, "flux-2-devv")
    assert caught.value.model == "flux-2-devv"
    assert "flux-2-dev" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_chat_model_is_refused(client: af.OpenAI) -> None:
    with pytest.raises(af.CapabilityError, match="chat model"):
        image_tool(client, "gpt-4o-mini")


def test_image_tool_wants_a_sync_client(aclient: af.AsyncOpenAI) -> None:
    with pytest.raises(TypeError, match="aimage_tool"):
        image_tool(aclient, "flux-2-dev")  # type: ignore[arg-type]


async def test_aimage_tool_wants_an_async_client(client: af.OpenAI) -> None:
    with pytest.raises(TypeError, match="image_tool"):
        await aimage_tool(client, "flux-2-dev")  # type: ignore[arg-type]


def test_output_dir_must_be_a_directory(client: af.OpenAI, tmp_path: Path) -> None:
    file = tmp_path / "taken"
    file.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        image_tool(client, "flux-2-dev", output_dir=file)


def test_tool_is_built_from_a_known_model_without_a_fetch(
    client: af.OpenAI, emulator: Emulator
) -> None:
    tool = ImageTool(client, _model(max_n=2))
    assert tool.parameters["properties"]["n"]["maximum"] == 2
    assert emulator.requests == []


# --------------------------------------------------------------------------- calls


def test_run_returns_links_and_sends_the_arguments(client: af.OpenAI, emulator: Emulator) -> None:
    tool = image_tool(client, "flux-2-dev")
    text = tool.run(json.dumps({"prompt": "an otter", "aspect_ratio": "16:9", "n": 2, "seed": 5}))
    assert text.startswith("Generated 2 images with flux-2-dev")
    urls = [line for line in text.splitlines() if line.startswith("http")]
    assert len(urls) == 2
    assert httpx.get(urls[0], timeout=10).status_code == 200
    (sent,) = emulator.generation_requests()
    assert sent.json["model"] == "flux-2-dev"
    assert sent.json["prompt"] == "an otter"
    assert sent.json["aspect_ratio"] == "16:9"
    assert sent.json["n"] == 2
    assert sent.json["seed"] == 5
    assert tool.last_response is not None
    assert [item.url for item in tool.last_response.data or []] == urls


def test_run_with_output_dir_saves_files(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = image_tool(client, "flux-2-dev", output_dir=tmp_path / "renders")
    text = tool.run({"prompt": "an otter", "quality": "hd"})
    lines = text.splitlines()
    assert lines[0] == "Generated 1 image with flux-2-dev, saved as:"
    path = Path(lines[1])
    assert path.parent == tmp_path / "renders"
    assert _is_image_file(path)
    (sent,) = emulator.generation_requests()
    assert sent.json["response_format"] == "b64_json"
    assert sent.json["quality"] == "hd"


def test_local_input_image_is_sent_inline(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    reference = tmp_path / "ref.png"
    reference.write_bytes(TINY_PNG)
    tool = image_tool(client, "flux-2-dev")
    assert tool.run({"prompt": "same otter", "input_images": [str(reference)]}).startswith(
        "Generated"
    )
    (sent,) = emulator.generation_requests()
    assert len(sent.json["input_images"]) == 1
    assert set(sent.json["input_images"][0]) == {"b64_json"}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("{not json", "Error: the arguments are not valid JSON"),
        ("[1, 2]", "Error: the arguments must be a JSON object, got list"),
        ('{"prompt": "x", "style": "noir"}', "Error: flux-2-dev: unknown argument 'style'"),
        (
            '{"prompt": "x", "aspect_ratio": "5:4"}',
            "Error: flux-2-dev: aspect_ratio '5:4' is not one of 1:1, 16:9",
        ),
        ('{"prompt": "x", "n": 9}', "Error: flux-2-dev: n 9 is above the maximum of 4"),
    ],
)
def test_bad_arguments_come_back_as_text_and_nothing_is_sent(
    client: af.OpenAI, emulator: Emulator, arguments: str, expected: str
) -> None:
    tool = image_tool(client, "flux-2-dev")
    assert tool.run(arguments).startswith(expected)
    assert emulator.generation_requests() == []
    assert tool.last_response is None


def test_schema_is_enforced_even_with_validation_off(emulator: Emulator) -> None:
    with af.OpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url, validation="off", max_retries=0
    ) as loose:
        tool = image_tool(loose, "flux-2-dev")
        assert tool.run({"prompt": "x", "aspect_ratio": "5:4"}).startswith("Error: flux-2-dev:")
        # Every rule of the validator, not only those the schema shows.
        nano = image_tool(loose, "nano-banana-2")
        text = nano.run({"prompt": "x", "input_images": ["https://example.test/ref.png"]})
        assert text.startswith("Error: nano-banana-2: input_images[0] is a URL")
    assert emulator.generation_requests() == []


def test_missing_input_file_comes_back_as_text(client: af.OpenAI, tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    text = image_tool(client, "flux-2-dev").run({"prompt": "x", "input_images": [str(missing)]})
    assert text.startswith("Error: input_images[0]")
    assert str(missing) in text


def test_capability_error_from_the_validator_comes_back_as_text(
    client: af.OpenAI, emulator: Emulator
) -> None:
    tool = image_tool(client, "nano-banana-2")
    text = tool.run({"prompt": "x", "input_images": ["https://example.test/ref.png"]})
    assert text.startswith("Error: nano-banana-2: input_images[0] is a URL")
    assert emulator.generation_requests() == []


def test_gateway_refusal_comes_back_as_text(client: af.OpenAI, emulator: Emulator) -> None:
    tool = image_tool(client, "flux-2-dev")
    assert tool.run({"prompt": "first"}).startswith("Generated")
    first = tool.last_response
    emulator.inject(Fault.status(402))
    text = tool.run({"prompt": "second"})
    assert text.startswith("Error: the gateway refused the request (HTTP 402)")
    assert "insufficient_balance" in text
    assert tool.last_response is first


def test_missing_links_are_reported(client: af.OpenAI, emulator: Emulator) -> None:
    emulator.inject(Fault.null_url())
    text = image_tool(client, "flux-2-dev").run({"prompt": "x"})
    assert "item 0: no URL" in text


def test_failed_save_comes_back_as_text(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.inject(Fault.null_url())
    text = image_tool(client, "flux-2-dev", output_dir=tmp_path).run({"prompt": "x"})
    assert text.startswith("Error: 1 of 1 result item could not be saved")


def test_lost_connection_comes_back_as_text(client: af.OpenAI, emulator: Emulator) -> None:
    emulator.inject(Fault.drop_connection())
    text = image_tool(client, "flux-2-dev").run({"prompt": "x"})
    assert text.startswith("Error: ")
    assert "billed" in text


def test_call_gives_the_saved_paths_and_the_response(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = image_tool(client, "flux-2-dev", output_dir=tmp_path)
    result = tool.call({"prompt": "an otter", "n": 2})
    assert not result.is_error
    assert result.text == "Generated 2 images with flux-2-dev, saved as:\n" + "\n".join(
        str(path) for path in result.paths
    )
    assert len(result.paths) == 2 and all(_is_image_file(path) for path in result.paths)
    assert result.response is tool.last_response is not None
    assert image_tool(client, "flux-2-dev").call({"prompt": "x"}).paths == []  # links only


def test_a_failed_save_is_an_error_result_with_what_was_saved(
    client: af.OpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.inject(Fault.null_url())
    tool = image_tool(client, "flux-2-dev", output_dir=tmp_path)
    result = tool.call({"prompt": "x"})
    assert result.is_error and result.response is None and result.paths == []
    assert result.text.startswith("Error: 1 of 1 result item could not be saved")
    assert tool.last_response is None


def test_arguments_of_another_type_are_a_type_error(client: af.OpenAI) -> None:
    with pytest.raises(TypeError, match="JSON string or a mapping"):
        image_tool(client, "flux-2-dev").run(42)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- async


async def test_arun_with_the_async_client(
    aclient: af.AsyncOpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = await aimage_tool(aclient, "suno-v5", output_dir=tmp_path)
    assert "suno-v5" in tool.description
    text = await tool.arun('{"prompt": "a night drive"}')
    assert text.startswith("Generated 1 file with suno-v5, saved as:")
    path = Path(text.splitlines()[1])
    assert path.suffix == ".mp3"
    assert path.read_bytes()[:3] == b"ID3" or path.read_bytes()[:2] == b"\xff\xfb"
    assert tool.last_response is not None


async def test_acall_gives_the_result_with_the_async_client(
    aclient: af.AsyncOpenAI, emulator: Emulator, tmp_path: Path
) -> None:
    tool = await aimage_tool(aclient, "flux-2-dev", output_dir=tmp_path)
    result = await tool.acall({"prompt": "an otter"})
    assert not result.is_error and len(result.paths) == 1
    assert result.response is tool.last_response is not None
    refused = await tool.acall({"prompt": "x", "n": "2"})
    assert refused.is_error and refused.text.startswith("Error: flux-2-dev: n must be an integer")
    assert len(emulator.generation_requests()) == 1


async def test_arun_reports_errors_as_text(aclient: af.AsyncOpenAI, emulator: Emulator) -> None:
    tool = await aimage_tool(aclient, "flux-2-dev")
    emulator.inject(Fault.status(400, message="Invalid value for 'prompt'"))
    text = await tool.arun({"prompt": "x"})
    assert text.startswith("Error: the gateway refused the request (HTTP 400)")


async def test_run_and_arun_refuse_the_wrong_client(
    client: af.OpenAI, aclient: af.AsyncOpenAI
) -> None:
    sync_tool = image_tool(client, "flux-2-dev")
    async_tool = await aimage_tool(aclient, "flux-2-dev")
    with pytest.raises(TypeError, match=r"tool\.run"):
        await sync_tool.arun({"prompt": "x"})
    with pytest.raises(TypeError, match=r"tool\.arun"):
        async_tool.run({"prompt": "x"})
