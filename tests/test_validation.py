"""Tests for airforce_openai._validation: bodies against a parsed catalog, and the modes."""

from __future__ import annotations

import collections
import datetime
import enum
import math
import types
import warnings
from typing import Any

import pytest

import airforce_openai as af
from airforce_openai._catalog import ImageModel, parse_catalog
from airforce_openai._validation import (
    ValidationReport,
    check_mode,
    check_request,
    enforce,
    refuse_unsendable,
    unsendable_values,
)

FLUX_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]

CATALOG: dict[str, ImageModel] = parse_catalog(
    {
        "object": "list",
        "data": [
            {
                "id": "flux-2-dev",
                "output_modalities": ["image"],
                "image_caps": {
                    "max_n": 4,
                    "aspect_ratios": FLUX_RATIOS,
                    "max_input_images": 4,
                    "supports_url_input": True,
                    "supports_seed": True,
                },
            },
            {
                "id": "flux-2-klein-4b",
                "output_modalities": ["image"],
                "image_caps": {"max_n": 1, "aspect_ratios": FLUX_RATIOS, "max_input_images": 0},
            },
            {
                "id": "nano-banana-2",
                "media_type": "image",
                "image_caps": {
                    "max_n": 2,
                    "aspect_ratios": ["1:1", "16:9", "9:16", "4:3"],
                    "qualities": ["standard", "hd"],
                    "resolutions": ["512", "1024", "2048"],
                    "max_input_images": 2,
                    "supports_url_input": False,
                    "supports_seed": False,
                },
            },
            # An old-shape entry that states no caps at all.
            {"id": "legacy-image", "supports_images": True, "image_caps": None},
            {"id": "suno-v5", "media_type": "audio", "output_modalities": ["audio"]},
            {"id": "wan-2.2", "media_type": "video", "video_caps": {"max_n": 1}},
            {"id": "gpt-4o-mini", "supports_chat": True, "output_modalities": ["text"]},
        ],
    }
)


def check(**body: Any) -> ValidationReport:
    return check_request(body, CATALOG)


def request(model: str = "flux-2-dev", prompt: str = "an otter", **extra: Any) -> ValidationReport:
    return check_request({"model": model, "prompt": prompt, **extra}, CATALOG)


# --------------------------------------------------------------------------- clean requests


@pytest.mark.parametrize(
    "body",
    [
        {"model": "flux-2-dev", "prompt": "an otter"},
        {
            "model": "flux-2-dev",
            "prompt": "an otter",
            "n": 4,
            "aspect_ratio": "21:9",
            "seed": 7,
            "size": "1024x1024",
            "response_format": "b64_json",
            "input_images": [{"url": "https://example.com/a.jpg"}, {"b64_json": "AAAA"}],
            "image_urls": ["https://example.com/b.jpg", "data:image/png;base64,AAAA"],
        },
        {"model": "nano-banana-2", "prompt": "an otter", "quality": "hd", "aspectRatio": "4:3"},
        {
            "model": "nano-banana-2",
            "prompt": "x",
            "input_images": [{"b64_json": "AAAA"}],
            "image_urls": ["data:image/png;base64,AAAA"],
        },
        # A model whose entry states no caps is not restricted.
        {"model": "legacy-image", "prompt": "x", "n": 10, "aspect_ratio": "5:4", "quality": "max"},
        # Audio and video models go through the same endpoint.
        {"model": "suno-v5", "prompt": "a song", "custom": True, "style": "EDM"},
        {"model": "wan-2.2", "prompt": "a clip", "n": 1},
        # Unknown parameters are never rejected; None means "not given".
        {"model": "flux-2-dev", "prompt": "x", "whatever": {"a": 1}, "n": None, "seed": None},
        {"model": "flux-2-dev", "prompt": "x", "models": ["legacy-image", "flux-2-dev"]},
        {"model": "flux-2-dev", "prompt": "x", "models": None},
        # Provider-specific sizes pass through (reference.md): a size need not be WxH.
        {"model": "flux-2-dev", "prompt": "x", "size": "square_hd"},
        {"model": "flux-2-dev", "prompt": "x", "size": "1280*720", "response_format": "url"},
        # A stated resolution, as a string or a number; unstated resolutions are not checked.
        {"model": "nano-banana-2", "prompt": "x", "resolution": "2048"},
        {"model": "nano-banana-2", "prompt": "x", "resolution": 1024},
        {"model": "flux-2-dev", "prompt": "x", "resolution": "4k"},
        # Line-wrapped base64, and data: URLs in any case, are inline data.
        {
            "model": "nano-banana-2",
            "prompt": "x",
            "input_images": [{"b64_json": "AAAA\nBBBB\n"}],
            "image_urls": ["Data:image/png;base64,AAAA"],
        },
        {"model": "nano-banana-2", "prompt": "x", "input_images": [{"url": "DATA:,AAAA"}]},
        # A null inside an item means "not given".
        {
            "model": "flux-2-dev",
            "prompt": "x",
            "input_images": [{"url": "http://a", "b64_json": None}],
        },
        # Suno's parameters, with their documented types.
        {"model": "suno-v5", "prompt": "x", "custom": False, "instrumental": True, "style": ""},
        {"model": "flux-2-dev", "prompt": "x", "sse": False, "vendor": [1.5, {"deep": None}]},
    ],
)
def test_a_request_within_the_caps_has_no_violations(body: dict[str, Any]) -> None:
    report = check_request(body, CATALOG)
    assert report.errors == ()
    assert report.warnings == ()
    assert report.ok


def test_the_report_carries_the_model_and_its_entry() -> None:
    report = request("nano-banana-2")
    assert report.model == "nano-banana-2"
    assert report.model_info is CATALOG["nano-banana-2"]


def test_a_chat_model_is_reported_with_its_entry() -> None:
    report = request("gpt-4o-mini")
    assert report.model_info is CATALOG["gpt-4o-mini"]


def test_the_body_is_not_modified() -> None:
    images = [{"url": "http://a"}]
    body = {"model": "flux-2-dev", "prompt": "x", "n": 9, "input_images": images}
    snapshot = {**body, "input_images": [dict(images[0])]}
    check_request(body, CATALOG)
    assert body == snapshot


# --------------------------------------------------------------------------- one rule per row


@pytest.mark.parametrize(
    ("body", "param", "value", "allowed", "needles"),
    [
        # model
        ({"prompt": "x"}, "model", None, None, ["model is required"]),
        ({"model": None, "prompt": "x"}, "model", None, None, ["model is required"]),
        ({"model": 3, "prompt": "x"}, "model", 3, None, ["model must be", "3 (int)"]),
        ({"model": "", "prompt": "x"}, "model", "", None, ["model is an empty string"]),
        (
            {"model": "flux-2-dv", "prompt": "x"},
            "model",
            "flux-2-dv",
            ["flux-2-dev"],
            ["unknown model 'flux-2-dv'; did you mean flux-2-dev?"],
        ),
        (
            {"model": "zzzzzz", "prompt": "x"},
            "model",
            "zzzzzz",
            [],
            ["unknown model 'zzzzzz'", "client.catalog.image_models()"],
        ),
        (
            {"model": "gpt-4o-mini", "prompt": "x"},
            "model",
            "gpt-4o-mini",
            None,
            ["`gpt-4o-mini` is a chat model; it cannot generate images"],
        ),
        # models (fallbacks)
        (
            {"model": "flux-2-dev", "prompt": "x", "models": "nano-banana-2"},
            "models",
            "nano-banana-2",
            3,
            ["models must be a list of up to 3 model ids", "(str)"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "models": ["wan-2.2"] * 4},
            "models",
            ["wan-2.2"] * 4,
            3,
            ["models lists 4 ids", "at most 3"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "models": ["wan-2.2", ""]},
            "models",
            "",
            None,
            ["models[1] is an empty string"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "models": [None]},
            "models",
            None,
            None,
            ["models[0] is required"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "models": ["nano-banana-3"]},
            "models",
            "nano-banana-3",
            ["nano-banana-2"],
            ["models[0]: unknown model 'nano-banana-3'; did you mean nano-banana-2?"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "models": ["gpt-4o-mini"]},
            "models",
            "gpt-4o-mini",
            None,
            ["models[0]: `gpt-4o-mini` is a chat model"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "n": 2, "models": ["flux-2-klein-4b"]},
            "n",
            2,
            1,
            ["flux-2-klein-4b: n 2 is above the maximum of 1"],
        ),
        # prompt
        ({"model": "flux-2-dev"}, "prompt", None, None, ["flux-2-dev: prompt is required"]),
        ({"model": "flux-2-dev", "prompt": " \n\t"}, "prompt", " \n\t", None, ["prompt is empty"]),
        ({"model": "flux-2-dev", "prompt": ["a"]}, "prompt", ["a"], None, ["prompt must be"]),
        # n
        (
            {"model": "flux-2-dev", "prompt": "x", "n": 5},
            "n",
            5,
            4,
            ["flux-2-dev: n 5 is above the maximum of 4"],
        ),
        ({"model": "flux-2-dev", "prompt": "x", "n": 0}, "n", 0, 1, ["n 0 is below the minimum"]),
        ({"model": "legacy-image", "prompt": "x", "n": -1}, "n", -1, 1, ["below the minimum"]),
        (
            {"model": "flux-2-dev", "prompt": "x", "n": "2"},
            "n",
            "2",
            None,
            ["n must be an integer"],
        ),
        ({"model": "flux-2-dev", "prompt": "x", "n": True}, "n", True, None, ["n must be"]),
        ({"model": "flux-2-dev", "prompt": "x", "n": 2.0}, "n", 2.0, None, ["n must be"]),
        # aspect ratio, both spellings
        (
            {"model": "flux-2-dev", "prompt": "x", "aspect_ratio": "5:4"},
            "aspect_ratio",
            "5:4",
            tuple(FLUX_RATIOS),
            ["flux-2-dev: aspect_ratio '5:4' is not one of 1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "aspectRatio": "21:9"},
            "aspectRatio",
            "21:9",
            ("1:1", "16:9", "9:16", "4:3"),
            ["nano-banana-2: aspectRatio '21:9' is not one of 1:1, 16:9, 9:16, 4:3"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "aspect_ratio": 16},
            "aspect_ratio",
            16,
            None,
            ["aspect_ratio must be a string"],
        ),
        # quality
        (
            {"model": "nano-banana-2", "prompt": "x", "quality": "ultra"},
            "quality",
            "ultra",
            ("standard", "hd"),
            ["nano-banana-2: quality 'ultra' is not one of standard, hd"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "quality": 2},
            "quality",
            2,
            None,
            ["quality must be a string"],
        ),
        # input images: count, text-only, types
        (
            {
                "model": "nano-banana-2",
                "prompt": "x",
                "input_images": [{"b64_json": "AAAA"}, {"b64_json": "BBBB"}],
                "image_urls": ["data:image/png;base64,CCCC"],
            },
            "input_images",
            3,
            2,
            ["nano-banana-2: 3 input images", "above the maximum of 2"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "image_urls": ["data:,a"] * 3},
            "image_urls",
            3,
            2,
            ["3 input images", "maximum of 2"],
        ),
        (
            {"model": "flux-2-klein-4b", "prompt": "x", "input_images": [{"b64_json": "AAAA"}]},
            "input_images",
            1,
            0,
            ["flux-2-klein-4b", "text-only", "takes no input images"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "input_images": {"url": "http://a"}},
            "input_images",
            {"url": "http://a"},
            None,
            ["input_images must be a list"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "image_urls": "http://a"},
            "image_urls",
            "http://a",
            None,
            ["image_urls must be a list"],
        ),
        # URL inputs to a model that takes none
        (
            {
                "model": "nano-banana-2",
                "prompt": "x",
                "input_images": [{"b64_json": "AAAA"}, {"url": "https://example.com/a.jpg"}],
            },
            "input_images",
            "https://example.com/a.jpg",
            "inline data (b64_json or a data: URL)",
            [
                "nano-banana-2: input_images[1] is a URL",
                "InputImage.from_path(...)",
                "InputImage.from_bytes(...)",
            ],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "image_urls": ["HTTP://EXAMPLE.COM/a.png"]},
            "image_urls",
            "HTTP://EXAMPLE.COM/a.png",
            "inline data (b64_json or a data: URL)",
            ["image_urls[0] is a URL"],
        ),
        # seed of the wrong type
        ({"model": "flux-2-dev", "prompt": "x", "seed": "42"}, "seed", "42", None, ["seed must"]),
        ({"model": "flux-2-dev", "prompt": "x", "seed": 4.0}, "seed", 4.0, None, ["seed must"]),
        # response_format: the two documented values
        (
            {"model": "flux-2-dev", "prompt": "x", "response_format": "png"},
            "response_format",
            "png",
            ("url", "b64_json"),
            ["flux-2-dev: response_format 'png' is not one of url, b64_json"],
        ),
        (
            {"model": "legacy-image", "prompt": "x", "response_format": 1},
            "response_format",
            1,
            ("url", "b64_json"),
            ["response_format 1 (int)"],
        ),
        # parameters with a documented type and free values
        (
            {"model": "flux-2-dev", "prompt": "x", "size": 1024},
            "size",
            1024,
            None,
            ["size must be a string such as '1024x1024', got 1024 (int)"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "resolution": [1024]},
            "resolution",
            [1024],
            None,
            ["resolution must be a string such as '1024'"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "resolution": True},
            "resolution",
            True,
            None,
            ["resolution must be", "True (bool)"],
        ),
        ({"model": "suno-v5", "prompt": "x", "style": 3}, "style", 3, None, ["style must be"]),
        (
            {"model": "suno-v5", "prompt": "x", "custom": "yes"},
            "custom",
            "yes",
            None,
            ["custom must be true or false, got 'yes' (str)"],
        ),
        (
            {"model": "suno-v5", "prompt": "x", "instrumental": 1},
            "instrumental",
            1,
            None,
            ["instrumental must be true or false"],
        ),
        ({"model": "flux-2-dev", "prompt": "x", "sse": "yes"}, "sse", "yes", None, ["sse must"]),
        # resolution: the values the entry states
        (
            {"model": "nano-banana-2", "prompt": "x", "resolution": "4096"},
            "resolution",
            "4096",
            ("512", "1024", "2048"),
            ["nano-banana-2: resolution '4096' is not one of 512, 1024, 2048"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "resolution": 4096},
            "resolution",
            "4096",
            ("512", "1024", "2048"),
            ["resolution '4096'"],
        ),
        # input images: the shape of each item
        (
            {"model": "flux-2-dev", "prompt": "x", "input_images": ["https://e.x/a.png"]},
            "input_images",
            "https://e.x/a.png",
            "{'url': ...} or {'b64_json': ...}",
            ["input_images[0] must be {'url': ...} or {'b64_json': ...}", "(str)"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "input_images": [{}]},
            "input_images",
            {},
            "{'url': ...} or {'b64_json': ...}",
            ["input_images[0] gives neither url nor b64_json"],
        ),
        (
            {
                "model": "flux-2-dev",
                "prompt": "x",
                "input_images": [
                    {"b64_json": "AAAA"},
                    {"url": "https://e.x/a", "b64_json": "AAAA"},
                ],
            },
            "input_images",
            {"url": "https://e.x/a", "b64_json": "AAAA"},
            "{'url': ...} or {'b64_json': ...}",
            ["input_images[1] gives both url and b64_json"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "input_images": [{"url": " "}]},
            "input_images",
            " ",
            None,
            ["input_images[0].url must be a URL"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "input_images": [{"b64_json": "not base64!"}]},
            "input_images",
            "not base64!",
            "base64 text",
            ["input_images[0].b64_json is not base64 data", "InputImage.from_path"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "input_images": [{"b64_json": 12}]},
            "input_images",
            12,
            "base64 text",
            ["b64_json is not base64 data (12 (int))"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "image_urls": ["https://e.x/a", 3]},
            "image_urls",
            3,
            None,
            ["image_urls[1] must be a URL string, got 3 (int)"],
        ),
        (
            {"model": "flux-2-dev", "prompt": "x", "image_urls": [""]},
            "image_urls",
            "",
            None,
            ["image_urls[0] must be a URL string"],
        ),
        # the count is named after the first list that holds images
        (
            {
                "model": "flux-2-klein-4b",
                "prompt": "x",
                "input_images": [],
                "image_urls": ["data:image/png;base64,AAAA"],
            },
            "image_urls",
            1,
            0,
            ["flux-2-klein-4b: image_urls gives 1 input image", "text-only"],
        ),
        # anything but inline data is a URL the gateway would fetch
        (
            {"model": "nano-banana-2", "prompt": "x", "image_urls": ["ftp://e.x/a.png"]},
            "image_urls",
            "ftp://e.x/a.png",
            "inline data (b64_json or a data: URL)",
            ["image_urls[0] is a URL"],
        ),
        (
            {"model": "nano-banana-2", "prompt": "x", "input_images": [{"url": "e.x/a.png"}]},
            "input_images",
            "e.x/a.png",
            "inline data (b64_json or a data: URL)",
            ["input_images[0] is a URL (e.x/a.png)"],
        ),
    ],
)
def test_each_rule_reports_one_violation(
    body: dict[str, Any], param: str, value: object, allowed: object, needles: list[str]
) -> None:
    report = check_request(body, CATALOG)
    assert len(report.errors) == 1, [v.message for v in report.errors]
    violation = report.errors[0]
    assert violation.param == param
    assert violation.value == value
    assert violation.allowed == allowed
    for needle in needles:
        assert needle in violation.message
    assert str(violation) == violation.message
    assert report.warnings == ()
    assert not report.ok


def test_a_seed_the_model_ignores_is_only_a_warning() -> None:
    report = request("nano-banana-2", seed=42)
    assert report.errors == ()
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert (warning.param, warning.value) == ("seed", 42)
    assert "nano-banana-2" in warning.message
    assert "ignore" in warning.message


def test_a_seed_is_fine_where_support_is_unstated() -> None:
    assert request("legacy-image", seed=42).warnings == ()


def test_data_urls_are_inline_data_not_url_inputs() -> None:
    report = request(
        "nano-banana-2",
        input_images=[{"url": "data:image/png;base64,AAAA"}],
        image_urls=["data:image/png;base64,BBBB"],
    )
    assert report.errors == ()


def test_the_close_matches_skip_chat_models() -> None:
    report = request("gpt-4o-min")
    assert report.errors[0].allowed == []
    assert "did you mean" not in report.errors[0].message


def test_an_empty_catalog_lists_nothing_to_suggest() -> None:
    report = check_request({"model": "flux-2-dev", "prompt": "x"}, {})
    assert [v.param for v in report.errors] == ["model"]
    assert "client.catalog.image_models()" in report.errors[0].message


def test_a_fallback_that_repeats_the_model_is_checked_once() -> None:
    report = request(n=9, models=["flux-2-dev"])
    assert [v.message for v in report.errors] == ["flux-2-dev: n 9 is above the maximum of 4"]


def test_each_fallback_model_is_held_to_its_own_caps() -> None:
    report = request(
        aspect_ratio="21:9",
        quality="hd",
        seed=1,
        models=["nano-banana-2", "flux-2-klein-4b"],
        input_images=[{"url": "https://example.com/a.jpg"}],
    )
    messages = [v.message for v in report.errors]
    assert messages == [
        "nano-banana-2: aspect_ratio '21:9' is not one of 1:1, 16:9, 9:16, 4:3",
        messages[1],
        messages[2],
    ]
    assert messages[1].startswith("nano-banana-2: input_images[0] is a URL")
    assert messages[2].startswith("flux-2-klein-4b: input_images gives 1 input image")
    assert [v.message.split(":")[0] for v in report.warnings] == ["nano-banana-2"]


def test_all_violations_are_reported_at_once() -> None:
    report = check(
        model="nano-banana-2",
        prompt="",
        n=3,
        aspect_ratio="5:4",
        aspectRatio="21:9",
        quality="ultra",
        seed=7,
        input_images=[{"url": "https://example.com/a.jpg"}, {"b64_json": "AAAA"}],
        image_urls=["https://example.com/b.jpg"],
        models=["flux-2-dv", "gpt-4o-mini", "flux-2-klein-4b"],
    )
    params = [v.param for v in report.errors]
    assert params == [
        "models",  # flux-2-dv is unknown
        "models",  # gpt-4o-mini is a chat model
        "prompt",
        # nano-banana-2
        "n",
        "aspect_ratio",
        "aspectRatio",
        "quality",
        "input_images",  # 3 images, max 2
        "input_images",  # a URL at [0]
        "image_urls",  # a URL at [0]
        # flux-2-klein-4b
        "n",
        "aspect_ratio",
        "input_images",  # text-only
    ]
    assert all(":" in v.message for v in report.errors)
    assert [v.param for v in report.warnings] == ["seed"]
    assert report.model == "nano-banana-2"


def test_wrong_types_are_reported_once_however_many_models() -> None:
    report = request(n="2", models=["nano-banana-2", "legacy-image"])
    assert [(v.param, v.value) for v in report.errors] == [("n", "2")]


def test_a_long_url_is_shortened_in_the_message() -> None:
    url = "https://example.com/" + "a" * 500
    report = request("nano-banana-2", image_urls=[url])
    violation = report.errors[0]
    assert violation.value == url
    assert len(violation.message) < 300
    assert "..." in violation.message


def test_a_cap_stated_as_empty_allows_nothing() -> None:
    # An ImageCaps built by hand may state an empty tuple; parse_catalog never does.
    from airforce_openai._catalog import ImageCaps

    models = {"m": ImageModel("m", ImageCaps(qualities=()), output="image")}
    report = check_request({"model": "m", "prompt": "x", "quality": "hd"}, models)
    assert [v.param for v in report.errors] == ["quality"]
    assert "takes none" in report.errors[0].message


# --------------------------------------------------------------------------- unsendable values


class _Thing:
    pass


class _Dumpable:
    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        return {}


class _Colour(str, enum.Enum):
    RED = "red"


class _Level(enum.IntEnum):
    HIGH = 3


_NAN = float("nan")


@pytest.mark.parametrize(
    ("extra", "param", "needles"),
    [
        ({"seed": _NAN}, "seed", ["seed is nan; JSON numbers are finite"]),
        ({"n": math.inf}, "n", ["n is inf"]),
        ({"vendor_knob": [1, 2, -math.inf]}, "vendor_knob[2]", ["vendor_knob[2] is -inf"]),
        ({"vendor": {"depth": {"x": _NAN}}}, "vendor.depth.x", ["vendor.depth.x is nan"]),
        ({"vendor": {"a b": [_NAN]}}, "vendor['a b'][0]", ["vendor['a b'][0] is nan"]),
        ({"tags": {"a", "b"}}, "tags", ["tags is a set", "pass a list"]),
        ({"tags": frozenset()}, "tags", ["is a frozenset"]),
        ({"input_images": [{"b64_json": b"\x89PNG"}]}, "input_images[0].b64_json", ["bytes"]),
        ({"blob": bytearray(b"x")}, "blob", ["is bytearray", "InputImage.from_bytes"]),
        ({"blob": memoryview(b"x")}, "blob", ["is memoryview"]),
        ({"when": datetime.datetime(2026, 1, 1)}, "when", ["is a datetime", "isoformat()"]),
        ({"day": datetime.date(2026, 1, 1)}, "day", ["is a date"]),
        ({"span": datetime.timedelta(seconds=3)}, "span", ["is a timedelta", "seconds"]),
        ({"thing": _Thing()}, "thing", ["thing is of type _Thing, which JSON cannot carry"]),
        ({"model_obj": _Dumpable()}, "model_obj", ["model_dump(mode='json')"]),
        ({"view": types.MappingProxyType({})}, "view", ["is of type mappingproxy", "dict(value)"]),
        ({"seq": range(3)}, "seq", ["seq is of type range"]),
        ({"gen": (i for i in ())}, "gen", ["gen is of type generator"]),
        ({"fn": len}, "fn", ["builtin_function_or_method"]),
        ({"vendor": {1: "a"}}, "vendor", ["vendor has the key 1 (int); JSON object keys"]),
        ({"vendor": {(1, 2): "a"}}, "vendor", ["the key (1, 2) (tuple)"]),
        ({"vendor": {None: "a"}}, "vendor", ["the key None (NoneType)"]),
        ({3: "top"}, "body", ["the request body has the key 3 (int)"]),
        ({"prompt": "otter \ud800"}, "prompt", ["lone surrogate ('\\ud800' at index 6)"]),
        ({"vendor": {"k\udcff": 1}}, "vendor", ["vendor has a key that holds a lone surrogate"]),
    ],
)
def test_values_json_cannot_carry_are_named_by_their_path(
    extra: dict[Any, Any], param: str, needles: list[str]
) -> None:
    body = {"model": "flux-2-dev", "prompt": "x", **extra}
    (found,) = unsendable_values(body)
    assert found.param == param
    for needle in needles:
        assert needle in found.message, found.message
    assert "JSON" in str(found.allowed)
    report = check_request(body, CATALOG)
    # Listed once, as unsendable, whatever else the value breaks; refused in every mode.
    assert report.unsendable == (found,)
    assert report.errors == (found,)
    assert not report.ok


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**70),
        1.5,
        -0.0,
        "",
        "text \u2603",
        "\U0001f9a6 emoji and \u00e9",
        _Colour.RED,
        _Level.HIGH,
        [],
        (),
        (1, [2, (3,)]),
        {"a": {"b": [None, {"c": 1e308}]}},
        collections.OrderedDict(a=1),
    ],
)
def test_plain_json_values_are_sendable(value: object) -> None:
    body = {"model": "flux-2-dev", "prompt": "x", "vendor": value, "other": [value, {"v": value}]}
    assert unsendable_values(body) == []
    assert check_request(body, CATALOG).ok


def test_every_culprit_is_listed_at_once_in_body_order() -> None:
    body = {
        "model": "flux-2-dev",
        "prompt": "x",
        "seed": _NAN,
        "vendor": [{"a": {1}}, b"x"],
        "n": 9,
    }
    report = check_request(body, CATALOG)
    assert [v.param for v in report.unsendable] == ["seed", "vendor[0].a", "vendor[1]"]
    # The other rules still report what they find in the values that can be sent.
    assert [v.param for v in report.errors] == ["seed", "vendor[0].a", "vendor[1]", "n"]


def test_a_wrong_type_that_cannot_be_sent_is_reported_once() -> None:
    report = check_request({"model": "flux-2-dev", "prompt": {"x"}, "n": _NAN}, CATALOG)
    assert [v.param for v in report.errors] == ["prompt", "n"]
    assert all("JSON" in v.message for v in report.errors)


def test_a_model_id_that_cannot_be_sent_is_not_looked_up() -> None:
    report = check_request({"model": b"flux-2-dev", "prompt": "x"}, CATALOG)
    assert [v.param for v in report.errors] == ["model"]
    assert report.errors[0].message.startswith("model is bytes")
    assert report.model is None


def test_a_structure_that_contains_itself_is_refused_not_walked_forever() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    knot: dict[str, Any] = {}
    knot["self"] = {"again": knot}
    (first, second) = unsendable_values({"model": "m", "loop": loop, "knot": knot})
    assert (first.param, second.param) == ("loop[1]", "knot.self.again")
    assert "contains itself" in first.message and "circular" in second.message


def test_shared_values_that_are_not_circular_are_fine() -> None:
    shared = {"url": "https://e.x/a.png"}
    body = {"model": "flux-2-dev", "prompt": "x", "input_images": [shared, shared, shared]}
    assert unsendable_values(body) == []


def test_deep_nesting_is_walked_without_recursion() -> None:
    deep: Any = _NAN
    for _ in range(20_000):
        deep = [deep]
    (found,) = unsendable_values({"model": "m", "deep": deep})
    assert found.param == "deep" + "[0]" * 20_000
    assert found.value != found.value  # the NaN itself


def test_many_culprits_are_listed_up_to_twenty_and_counted() -> None:
    body = {"model": "m", "vendor": [_NAN] * 50}
    found = unsendable_values(body)
    assert len(found) == 20
    assert [v.param for v in found] == [f"vendor[{i}]" for i in range(20)]
    assert "(and 30 more values JSON cannot carry)" in found[-1].message
    assert all("more values" not in v.message for v in found[:-1])
    exactly = unsendable_values({"model": "m", "vendor": [_NAN] * 20})
    assert len(exactly) == 20 and all("more values" not in v.message for v in exactly)


def test_keys_given_in_extra_body_are_named_there() -> None:
    body = {"model": "flux-2-dev", "prompt": "x", "seed": _NAN, "vendor_knob": [1, 2, {3}]}
    extra_body = {"vendor_knob": [1, 2, {3}], 7: "x"}
    found = unsendable_values({**body, 7: "x"}, extra_body=extra_body)
    # A container's own keys come before what it holds.
    assert [v.param for v in found] == ["body", "seed", "vendor_knob[2]"]
    assert found[0].message.startswith("extra_body has the key 7 (int)")
    assert found[1].message.startswith("seed is nan")
    assert found[2].message.startswith("extra_body.vendor_knob[2] is a set")


def test_unsendable_values_leaves_the_body_alone() -> None:
    inner = {"x": [_NAN, {1, 2}]}
    body = {"model": "m", "vendor": inner}
    unsendable_values(body)
    check_request(body, CATALOG)
    assert body == {"model": "m", "vendor": inner} and inner["x"][1] == {1, 2}


# --------------------------------------------------------------------------- policy: modes

HARD = af.Violation("n", 9, 4, "flux-2-dev: n 9 is above the maximum of 4")
SOFT = af.Violation("seed", 3, None, "nano-banana-2: seed 3 is ignored by this model")
NAN = af.Violation("seed", float("nan"), "a JSON value", "seed is nan; JSON numbers are finite")


def _report(
    errors: tuple[af.Violation, ...] = (),
    warns: tuple[af.Violation, ...] = (),
    unsendable: tuple[af.Violation, ...] = (),
) -> ValidationReport:
    return ValidationReport("flux-2-dev", None, unsendable + errors, warns, unsendable)


@pytest.mark.parametrize("mode", ["strict", "warn", "off"])
def test_the_three_modes_are_accepted(mode: str) -> None:
    assert check_mode(mode) == mode


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bogus", "validation='bogus' is not one of 'strict', 'warn', 'off'"),
        ("", "validation='' is not one of"),
        (
            "STRICT",
            "validation='STRICT' is not one of 'strict', 'warn', 'off'; did you mean 'strict'?",
        ),
        (" warn ", "did you mean 'warn'?"),
        (None, "validation=None (NoneType) is not one of 'strict', 'warn', 'off'"),
        (True, "validation=True (bool) is not one of"),
        (0, "validation=0 (int)"),
        (["strict"], "validation=['strict'] (list)"),
        ({"mode": "strict"}, "validation={'mode': 'strict'} (dict)"),
    ],
)
def test_a_bad_mode_is_named_with_what_is_allowed(mode: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_mode(mode)
    assert message in str(caught.value)


def test_a_str_subclass_equal_to_a_mode_is_accepted() -> None:
    class Mode(str):
        pass

    assert check_mode(Mode("warn")) == "warn"


def test_strict_raises_every_error_and_keeps_warnings_quiet() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        with pytest.raises(af.CapabilityError) as caught:
            enforce(_report((HARD,), (SOFT,)), "strict")
    assert caught.value.violations == [HARD]
    assert caught.value.model == "flux-2-dev"


def test_strict_warns_for_soft_rules_only() -> None:
    with pytest.warns(af.CapabilityWarning, match="seed 3 is ignored"):
        enforce(_report((), (SOFT,)), "strict")


def test_warn_turns_errors_into_warnings() -> None:
    with pytest.warns(af.CapabilityWarning) as caught:
        enforce(_report((HARD,), (SOFT,)), "warn")
    assert [str(w.message) for w in caught] == [HARD.message, SOFT.message]


def test_off_does_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        enforce(_report((HARD,), (SOFT,)), "off")


@pytest.mark.parametrize("mode", ["strict", "warn", "off"])
def test_values_json_cannot_carry_are_refused_in_every_mode(mode: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", af.CapabilityWarning)
        with pytest.raises(af.CapabilityError) as caught:
            enforce(_report((HARD,), (SOFT,), (NAN,)), mode)
    # strict lists everything; warn and off list only what cannot be sent at all.
    expected = [NAN, HARD] if mode == "strict" else [NAN]
    assert caught.value.violations == expected


def test_refuse_unsendable_names_the_path_and_the_model() -> None:
    body = {"model": "flux-2-dev", "prompt": "x", "vendor_knob": [1, 2, float("inf")]}
    with pytest.raises(af.CapabilityError) as caught:
        refuse_unsendable(body, {"vendor_knob": body["vendor_knob"]})
    error = caught.value
    assert error.model == "flux-2-dev"
    assert [v.param for v in error.violations] == ["vendor_knob[2]"]
    assert str(error).startswith("extra_body.vendor_knob[2] is inf")
    assert isinstance(error, ValueError) and isinstance(error, af.AirforceError)


def test_refuse_unsendable_lets_plain_json_through() -> None:
    refuse_unsendable({"model": "flux-2-dev", "prompt": "x", "vendor": [1, {"a": None}]})
    with pytest.raises(af.CapabilityError) as caught:
        refuse_unsendable({"model": 3.5, "seed": float("nan")})
    assert caught.value.model is None
