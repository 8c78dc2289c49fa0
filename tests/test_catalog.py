"""Tests for airforce_openai._catalog: lenient parsing of GET /models."""

from __future__ import annotations

import json
import logging
from typing import Any

import openai
import pytest

import airforce_openai as af
from airforce_openai import _exceptions
from airforce_openai._catalog import ImageCaps, ImageModel, parse_catalog

FLUX: dict[str, Any] = {
    "id": "flux-2-dev",
    "object": "model",
    "output_modalities": ["image"],
    "image_caps": {
        "max_n": 4,
        "aspect_ratios": ["1:1", "16:9"],
        "qualities": ["standard", "hd"],
        "max_input_images": 4,
        "supports_url_input": True,
        "supports_seed": False,
    },
    "priceperthousandimages": 300,
    "tier": "free",
}
CHAT: dict[str, Any] = {"id": "gpt-4o-mini", "supports_chat": True, "output_modalities": ["text"]}


def envelope(*entries: object) -> dict[str, Any]:
    return {"object": "list", "data": list(entries)}


def one(entry: dict[str, Any]) -> ImageModel:
    return parse_catalog(envelope(entry))[entry["id"]]


# --------------------------------------------------------------------------- parse_catalog


def test_the_envelope_gives_the_models_in_order() -> None:
    entries = [{"id": "b", "supports_images": True}, FLUX, CHAT]
    assert list(parse_catalog(envelope(*entries))) == ["b", "flux-2-dev", "gpt-4o-mini"]


def test_an_envelope_sent_as_text_is_decoded() -> None:
    # A gateway that labels its JSON text/plain: the SDK hands the text over as it is.
    assert list(parse_catalog(json.dumps(envelope(FLUX, CHAT)))) == ["flux-2-dev", "gpt-4o-mini"]


def test_a_full_entry_is_parsed() -> None:
    model = one(FLUX)
    assert model.id == "flux-2-dev"
    assert model.output == "image"
    assert model.is_image and not model.is_text_only
    assert model.caps == ImageCaps(
        max_n=4,
        aspect_ratios=("1:1", "16:9"),
        qualities=("standard", "hd"),
        max_input_images=4,
        supports_url_input=True,
        supports_seed=False,
    )


def test_unknown_fields_are_kept_in_raw() -> None:
    entry = {**FLUX, "brand_new_field": {"nested": [1, 2]}, "status": "degraded"}
    model = one(entry)
    assert model.raw["brand_new_field"] == {"nested": [1, 2]}
    assert model.raw["status"] == "degraded"
    assert model.raw == entry


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"output_modalities": ["image"]}, "image"),
        ({"output_modalities": ["text", "image"]}, "image"),
        ({"output_modalities": ["IMAGE"]}, "image"),
        ({"output_modalities": ["video"]}, "video"),
        ({"output_modalities": ["video", "audio"]}, "video"),
        ({"output_modalities": ["audio"]}, "audio"),
        ({"output_modalities": ["music"]}, "audio"),
        ({"output_modalities": ["speech"]}, "audio"),
        ({"output_modalities": ["sfx"]}, "audio"),
        ({"output_modalities": ["text"], "supports_chat": True}, "text"),
        ({"output_modalities": ["text"]}, "text"),
        # output_modalities wins over the older fields when it says something.
        ({"output_modalities": ["image"], "media_type": "video"}, "image"),
        ({"output_modalities": ["text"], "supports_images": True}, "text"),
        # an empty or useless list falls through to the older fields.
        ({"output_modalities": [], "media_type": "image"}, "image"),
        ({"output_modalities": None, "media_type": "video"}, "video"),
        ({"media_type": "image"}, "image"),
        ({"media_type": "video"}, "video"),
        ({"media_type": "audio"}, "audio"),
        ({"media_type": "speech"}, "audio"),
        ({"media_type": "sfx"}, "audio"),
        ({"media_type": "music"}, "audio"),
        ({"media_type": "image", "supports_chat": True}, "image"),
        ({"supports_images": True}, "image"),
        ({"supports_images": True, "supports_chat": True}, "image"),
        ({"supports_chat": True}, "text"),
        ({"supports_chat": True, "supports_images": False}, "text"),
        ({"supports_chat": True, "media_type": "text"}, "text"),
        ({"media_type": "text"}, "unknown"),
        ({"output_modalities": "image"}, "image"),
        ({"output_modalities": 7, "supports_images": True}, "image"),
        # something else is stated: a chat flag alone does not make it a chat model.
        ({"supports_chat": True, "media_type": "embedding"}, "unknown"),
        ({"supports_chat": True, "output_modalities": ["embedding"]}, "unknown"),
        ({"supports_chat": False}, "unknown"),
        ({}, "unknown"),
        ({"output_modalities": None, "media_type": None, "supports_images": None}, "unknown"),
    ],
)
def test_output_kind_is_detected_across_drifted_shapes(
    entry: dict[str, Any], expected: str
) -> None:
    assert one({"id": "m", **entry}).output == expected


def test_every_field_may_be_null() -> None:
    entry: dict[str, Any] = dict.fromkeys(FLUX)
    entry["id"] = "nulls"
    entry["image_caps"] = {key: None for key in FLUX["image_caps"]}
    model = one(entry)
    assert model.caps == ImageCaps()
    assert model.price_per_image_usd is None
    assert model.output == "unknown"


def test_missing_or_null_caps_give_empty_caps() -> None:
    assert one({"id": "a", "supports_images": True}).caps == ImageCaps()
    assert one({"id": "b", "supports_images": True, "image_caps": None}).caps == ImageCaps()


def test_caps_are_coerced_leniently() -> None:
    model = one(
        {
            "id": "m",
            "image_caps": {
                "max_n": "4",
                "max_input_images": "2.0",
                "aspect_ratios": ("1:1", " 16:9 "),
                "qualities": "standard, hd",
                "supports_url_input": "false",
                "supports_seed": 1,
            },
        }
    )
    assert model.caps == ImageCaps(
        max_n=4,
        aspect_ratios=("1:1", "16:9"),
        qualities=("standard", "hd"),
        max_input_images=2,
        supports_url_input=False,
        supports_seed=True,
    )
    other = one(
        {
            "id": "m",
            "image_caps": {"max_n": 3.0, "supports_seed": " TRUE ", "supports_url_input": 0},
        }
    )
    assert other.caps == ImageCaps(max_n=3, supports_seed=True, supports_url_input=False)


def test_numbers_in_a_list_of_labels_become_strings() -> None:
    assert one({"id": "m", "image_caps": {"qualities": [1024, "2k"]}}).caps.qualities == (
        "1024",
        "2k",
    )


def test_an_empty_list_states_nothing() -> None:
    assert one({"id": "m", "image_caps": {"aspect_ratios": []}}).caps.aspect_ratios is None


def test_caps_sent_as_a_json_string_are_decoded() -> None:
    caps = one({"id": "m", "image_caps": '{"max_n": 2, "aspect_ratios": ["1:1"]}'}).caps
    assert caps.max_n == 2
    assert caps.aspect_ratios == ("1:1",)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_n", "many"),
        ("max_n", True),
        ("max_n", -1),
        ("max_n", 2.5),
        ("max_n", "2.5"),
        ("max_n", [4]),
        ("max_input_images", {"max": 1}),
        ("aspect_ratios", 16),
        ("aspect_ratios", ["1:1", {"w": 16}]),
        ("qualities", [None]),
        ("supports_seed", "sometimes"),
        ("supports_url_input", 7),
    ],
)
def test_a_hopeless_cap_field_becomes_none_and_is_logged(
    field: str, value: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airforce_openai")
    models = parse_catalog(
        envelope({"id": "odd", "image_caps": {"supports_seed": True, field: value}})
    )
    assert "odd" in models  # the model stays listed
    assert getattr(models["odd"].caps, field) is None
    if field != "supports_seed":
        assert models["odd"].caps.supports_seed is True
    messages = [r.getMessage() for r in caplog.records if r.name == "airforce_openai"]
    assert any("odd" in m and field in m for m in messages), messages


def test_video_and_audio_models_fall_back_to_their_own_caps() -> None:
    video = one({"id": "wan", "media_type": "video", "video_caps": {"max_n": 1}})
    audio = one({"id": "suno", "output_modalities": ["audio"], "audio_caps": {"max_n": "2"}})
    assert video.caps.max_n == 1
    assert audio.caps.max_n == 2


def test_image_caps_win_over_video_caps() -> None:
    model = one(
        {"id": "wan", "media_type": "video", "image_caps": {"max_n": 3}, "video_caps": {"max_n": 1}}
    )
    assert model.caps.max_n == 3


def test_an_image_model_ignores_video_caps() -> None:
    model = one({"id": "m", "supports_images": True, "video_caps": {"max_n": 1}})
    assert model.caps.max_n is None


@pytest.mark.parametrize(
    ("entry", "culprit"),
    [
        ("flux-2-dev", "entry 1"),
        (42, "entry 1"),
        (None, "entry 1"),
        ({"object": "model"}, "entry 1"),
        ({"id": None}, "entry 1"),
        ({"id": 17}, "entry 1"),
        ({"id": "  "}, "entry 1"),
        ({"id": "bad-caps", "image_caps": ["max_n", 4]}, "bad-caps"),
        ({"id": "bad-json", "image_caps": "{not json"}, "bad-json"),
        ({"id": "json-list", "image_caps": "[1, 2]"}, "json-list"),
        ({"id": "bad-video", "media_type": "video", "video_caps": 3}, "bad-video"),
    ],
)
def test_a_malformed_entry_is_skipped_with_a_warning(
    entry: object, culprit: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airforce_openai")
    models = parse_catalog(envelope(FLUX, entry, CHAT))
    assert list(models) == ["flux-2-dev", "gpt-4o-mini"]
    records = [r for r in caplog.records if r.name == "airforce_openai"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert culprit in records[0].getMessage()
    assert "skipped" in records[0].getMessage()


def test_a_repeated_id_keeps_the_first_entry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="airforce_openai")
    models = parse_catalog(envelope(FLUX, {"id": "flux-2-dev", "media_type": "video"}))
    assert models["flux-2-dev"].output == "image"
    assert "flux-2-dev" in caplog.text


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ([FLUX, CHAT], "is a list, expected a JSON object"),
        ([], "is a list"),
        ("models", "not JSON: 'models'"),
        ("<html>\n502 Bad Gateway\n</html>", "not JSON: '<html> 502 Bad Gateway </html>'"),
        ("", "not JSON: an empty body"),
        ('"a JSON string"', "is a str"),
        ("x" * 500, "x" * 60 + "...'"),
        (None, "is null"),
        (42, "is an int"),
        ({"object": "list"}, "no 'data' key"),
        ({"object": "list", "data": None}, "'data' is null"),
        ({"object": "list", "data": {"id": "x"}}, "'data' is a dict"),
        ({"object": "list", "data": "flux-2-dev"}, "'data' is a str"),
        (json.dumps({"data": 3}), "'data' is an int"),
    ],
)
def test_an_answer_without_a_data_list_raises(payload: object, needle: str) -> None:
    with pytest.raises(af.CatalogFormatError, match="the GET /models answer") as excinfo:
        parse_catalog(payload)
    assert needle in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert isinstance(excinfo.value, af.AirforceError)
    assert isinstance(excinfo.value, ValueError)  # as it was before it joined the error tree


def test_the_error_is_part_of_the_documented_tree() -> None:
    assert af.CatalogFormatError is _exceptions.CatalogFormatError
    assert "CatalogFormatError" in af.__all__
    assert issubclass(af.CatalogFormatError, openai.OpenAIError)
    # The client's "a catalog that cannot be fetched never blocks a request" catches Exception.
    assert issubclass(af.CatalogFormatError, Exception)
    assert "CatalogFormatError" in (_exceptions.__doc__ or "")


def test_odd_entries_in_a_usable_list_are_still_skipped_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="airforce_openai"):
        models = parse_catalog(envelope("flux-2-dev", None, {"id": 3}, FLUX))
    assert list(models) == ["flux-2-dev"]
    assert len(caplog.records) == 3


def test_an_empty_catalog_is_empty() -> None:
    assert parse_catalog(envelope()) == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"priceperthousandimages": 300}, 0.003),
        ({"priceperthousandimages": 2500}, 0.025),
        ({"priceperthousandimages": "450"}, 0.0045),
        ({"priceperthousandimages": 0}, 0.0),
        ({"price_per_generation_cents": 12}, 0.12),
        ({"price_per_generation_cents": 12, "priceperthousandimages": 300}, 0.003),
        ({"price_per_generation_cents": 12, "priceperthousandimages": None}, 0.12),
        ({"price_per_generation_cents": 12, "priceperthousandimages": "n/a"}, 0.12),
        ({"priceperthousandimages": None}, None),
        ({"priceperthousandimages": "free"}, None),
        ({"priceperthousandimages": True}, None),
        ({"priceperthousandimages": -5}, None),
        ({"priceperthousandimages": float("nan")}, None),
        ({"priceperthousandimages": [300]}, None),
        ({"pricepermilliontokens": 15}, None),
        ({}, None),
    ],
)
def test_price_per_image_is_converted_from_cents(
    fields: dict[str, Any], expected: float | None
) -> None:
    price = one({"id": "m", "supports_images": True, **fields}).price_per_image_usd
    if expected is None:
        assert price is None
    else:
        assert price == pytest.approx(expected)
