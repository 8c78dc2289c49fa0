"""The extra_body helpers: plain dicts, None dropped, images read and checked at the call."""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from airforce_openai import InputImageError
from airforce_openai.params import InputImage, image_params, suno_params


def _png() -> bytes:
    """A valid 1x1 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _jpeg() -> bytes:
    """A valid 1x1 grey baseline JPEG: one DC-only block, one-code Huffman tables."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
        + segment(0xC4, b"\x00\x01" + bytes(15) + b"\x00")
        + segment(0xC4, b"\x10\x01" + bytes(15) + b"\x00")
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f\xff\xd9"
    )


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)
PNG = _png()
JPEG = _jpeg()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "ref.png"
    path.write_bytes(PNG)
    return path


@pytest.fixture
def jpeg_named_png(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(JPEG)
    return path


# -- plain dicts, None dropped ---------------------------------------------------------------


def test_no_arguments_give_an_empty_dict() -> None:
    assert image_params() == {}
    assert suno_params() == {}


def test_image_params_returns_a_plain_dict_that_merges() -> None:
    params = image_params(aspect_ratio="16:9", seed=7)
    assert type(params) is dict
    merged = params | {"n": 2}
    assert merged == {"aspect_ratio": "16:9", "seed": 7, "n": 2}


def test_none_is_dropped_including_unknown_keywords() -> None:
    params = image_params(aspect_ratio=None, seed=None, sse=None, quality=None, custom_knob=None)
    assert params == {}
    assert suno_params(custom=None, style=None, lyrics=None) == {}


def test_false_zero_and_empty_are_kept() -> None:
    params = image_params(seed=0, sse=False, n=0, enhance=False, negative_prompt="", tags=[])
    assert params == {
        "seed": 0,
        "sse": False,
        "n": 0,
        "enhance": False,
        "negative_prompt": "",
        "tags": [],
    }
    assert suno_params(custom=False, instrumental=False, style="") == {
        "custom": False,
        "instrumental": False,
        "style": "",
    }


def test_unknown_keywords_pass_through_unchanged() -> None:
    nested = {"steps": 30, "guidance": 3.5}
    params = image_params(aspectRatio="16:9", provider_options=nested, steps=30)
    assert params == {"aspectRatio": "16:9", "provider_options": nested, "steps": 30}
    assert params["provider_options"] is nested
    assert suno_params(lyrics="la la", title="x") == {"lyrics": "la la", "title": "x"}


def test_known_image_fields() -> None:
    params = image_params(
        aspect_ratio="9:16",
        seed=42,
        resolution="2048",
        sse=True,
        models=["flux-2-dev", "flux-2-klein-9b"],
    )
    assert params == {
        "aspect_ratio": "9:16",
        "seed": 42,
        "resolution": "2048",
        "sse": True,
        "models": ["flux-2-dev", "flux-2-klein-9b"],
    }


def test_values_are_not_checked_against_capabilities() -> None:
    # Whether a model takes "7:3" or seed -1 is the validator's call, not the helper's.
    assert image_params(aspect_ratio="7:3", seed=-1, resolution="99k") == {
        "aspect_ratio": "7:3",
        "seed": -1,
        "resolution": "99k",
    }


def test_suno_fields() -> None:
    assert suno_params(custom=True, instrumental=True, style="EDM, Bass") == {
        "custom": True,
        "instrumental": True,
        "style": "EDM, Bass",
    }


# -- wrong types name the parameter ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"seed": "7"}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 7.0}, "seed"),
        ({"aspect_ratio": 16}, "aspect_ratio"),
        ({"aspect_ratio": (16, 9)}, "aspect_ratio"),
        ({"resolution": 1024}, "resolution"),
        ({"sse": "true"}, "sse"),
        ({"sse": 1}, "sse"),
    ],
)
def test_image_params_wrong_type_names_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        image_params(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"custom": 1}, "custom"),
        ({"custom": "yes"}, "custom"),
        ({"instrumental": 0}, "instrumental"),
        ({"style": ["EDM", "Bass"]}, "style"),
    ],
)
def test_suno_params_wrong_type_names_the_parameter(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        suno_params(**kwargs)


def test_seed_accepts_int_subclasses_as_plain_int() -> None:
    class Seed(int):
        pass

    params = image_params(seed=Seed(5))
    assert params == {"seed": 5}
    assert type(params["seed"]) is int


# -- models ----------------------------------------------------------------------------------


def test_models_accepts_any_sequence_and_returns_a_list() -> None:
    assert image_params(models=("a", "b"))["models"] == ["a", "b"]
    assert image_params(models=(m for m in ["x"]))["models"] == ["x"]


def test_models_refuses_a_lone_str() -> None:
    with pytest.raises(TypeError, match=r"^models must be a list, got a single str"):
        image_params(models="flux-2-dev")


def test_models_items_must_be_non_empty_str() -> None:
    with pytest.raises(TypeError, match=r"^models\[1\] must be a model id"):
        image_params(models=["flux-2-dev", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"^models\[0\] is an empty model id"):
        image_params(models=[" ", "flux-2-dev"])


def test_models_must_be_iterable() -> None:
    with pytest.raises(TypeError, match=r"^models must be a list, got int"):
        image_params(models=3)  # type: ignore[arg-type]


# -- input_images: the mix, normalised -------------------------------------------------------


def test_input_images_mix_is_normalised(png_file: Path, jpeg_named_png: Path) -> None:
    data_url = f"data:image/png;base64,{b64(PNG)}"
    params = image_params(
        input_images=[
            InputImage.from_url("https://example.com/a.jpg"),
            InputImage.from_path(png_file),
            InputImage.from_bytes(JPEG),
            {"url": "http://example.com/b.png"},
            {"b64_json": b64(PNG)},
            "https://example.com/c.webp",
            data_url,
            jpeg_named_png,
            str(png_file),
            PNG,
            bytearray(JPEG),
            memoryview(PNG),
        ]
    )
    assert params["input_images"] == [
        {"url": "https://example.com/a.jpg"},
        {"b64_json": b64(PNG)},
        {"b64_json": b64(JPEG)},
        {"url": "http://example.com/b.png"},
        {"b64_json": b64(PNG)},
        {"url": "https://example.com/c.webp"},
        {"url": data_url},
        {"b64_json": b64(JPEG)},
        {"b64_json": b64(PNG)},
        {"b64_json": b64(PNG)},
        {"b64_json": b64(JPEG)},
        {"b64_json": b64(PNG)},
    ]


def test_input_images_encoding_round_trips(jpeg_named_png: Path) -> None:
    (item,) = image_params(input_images=[jpeg_named_png])["input_images"]
    assert base64.b64decode(item["b64_json"], validate=True) == JPEG


def test_input_images_accepts_any_non_str_iterable(png_file: Path) -> None:
    def gen() -> Iterator[Path]:
        yield png_file

    assert image_params(input_images=gen())["input_images"] == [{"b64_json": b64(PNG)}]
    assert image_params(input_images=(png_file,))["input_images"] == [{"b64_json": b64(PNG)}]
    assert image_params(input_images=[]) == {"input_images": []}


def test_a_ready_dict_is_copied_and_explicit_none_is_ignored() -> None:
    given = {"url": "https://example.com/a.png", "b64_json": None}
    (item,) = image_params(input_images=[given])["input_images"]
    assert item == {"url": "https://example.com/a.png"}
    assert item is not given


def test_relative_str_is_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "cat.png").write_bytes(PNG)
    monkeypatch.chdir(tmp_path)
    assert image_params(input_images=["refs/cat.png"])["input_images"] == [{"b64_json": b64(PNG)}]


def test_url_schemes_are_case_insensitive() -> None:
    url = "HTTPS://example.com/A.PNG"
    assert image_params(input_images=[url])["input_images"] == [{"url": url}]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("https://example.com/a.png", id="str"),
        pytest.param(b"\x89PNG", id="bytes"),
        pytest.param(Path("a.png"), id="path"),
        pytest.param({"url": "https://example.com/a.png"}, id="dict"),
    ],
)
@pytest.mark.parametrize("name", ["input_images", "image_urls"])
def test_a_lone_item_is_refused(name: str, value: object) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(
        TypeError, match=rf"^{name} must be a list, got a single .*wrap it in a list"
    ):
        image_params(**kwargs)


def test_an_unsupported_item_type_names_its_position() -> None:
    with pytest.raises(TypeError, match=r"^input_images\[1\]: expected a URL.*got int"):
        image_params(input_images=["https://example.com/a.png", 42])  # type: ignore[list-item]


# -- input_images: bad input names the position and the culprit ------------------------------


def _error(**kwargs: Any) -> InputImageError:
    with pytest.raises(InputImageError) as info:
        image_params(**kwargs)
    return info.value


def test_error_is_a_value_error_and_an_openai_error(tmp_path: Path) -> None:
    err = _error(input_images=[tmp_path / "missing.png"])
    assert isinstance(err, ValueError)
    assert isinstance(err, openai.OpenAIError)


def test_missing_file_names_position_and_path(tmp_path: Path, png_file: Path) -> None:
    missing = tmp_path / "missing.png"
    err = _error(input_images=["https://example.com/a.png", png_file, str(missing)])
    assert str(err) == f"input_images[2]: file not found: {missing}"
    assert err.source == str(missing)


def test_missing_path_object_is_the_source(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    err = _error(input_images=[missing])
    assert str(err) == f"input_images[0]: file not found: {missing}"
    assert err.source == missing


def test_directory_is_refused(tmp_path: Path) -> None:
    err = _error(input_images=[tmp_path])
    assert str(err) == f"input_images[0]: {tmp_path} is a directory, not a file"


def test_unreadable_path_is_refused(png_file: Path) -> None:
    # A path through a regular file cannot be opened, whoever runs the test.
    inside_a_file = png_file / "nested.png"
    err = _error(input_images=[inside_a_file])
    assert str(err).startswith(f"input_images[0]: cannot read {inside_a_file}: ")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_file_without_read_permission_is_refused(png_file: Path) -> None:
    png_file.chmod(0)
    try:
        err = _error(input_images=[png_file])
    finally:
        png_file.chmod(0o644)
    assert str(err) == f"input_images[0]: cannot read {png_file}: permission denied"


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    err = _error(input_images=[empty])
    assert str(err) == f"input_images[0]: file is empty: {empty}"


def test_file_that_is_not_an_image_says_what_it_is(tmp_path: Path) -> None:
    song = tmp_path / "cover.png"
    song.write_bytes(MP3)
    err = _error(input_images=[song])
    assert str(err) == f"input_images[0]: {song} is MP3 audio, not an image"


def test_file_of_unknown_content_lists_the_formats(tmp_path: Path) -> None:
    page = tmp_path / "ref.png"
    page.write_bytes(b"<!DOCTYPE html><html></html>")
    message = str(_error(input_images=[page]))
    assert message.startswith(f"input_images[0]: {page} is not a recognised image format")
    assert "PNG, JPEG" in message
    assert "<!DOCTYPE h" in message


def test_bytes_that_are_not_an_image(png_file: Path) -> None:
    err = _error(input_images=[png_file, MP3])
    assert str(err) == "input_images[1]: the data is MP3 audio, not an image"
    assert err.source == "input_images[1]"
    assert str(_error(input_images=[b""])) == "input_images[0]: the data is empty"


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("ftp://example.com/a.png", "ftp"),
        ("file:///tmp/a.png", "file"),
        ("s3://bucket/a.png", "s3"),
    ],
)
def test_url_with_another_scheme_is_refused(url: str, scheme: str) -> None:
    err = _error(input_images=[url])
    assert str(err).startswith(f"input_images[0]: unsupported URL scheme {scheme!r} in {url!r}")
    assert err.source == url


def test_http_url_without_host_is_refused() -> None:
    err = _error(input_images=["https:///a.png"])
    assert str(err) == "input_images[0]: URL has no host: 'https:///a.png'"


def test_data_url_that_is_not_base64_is_refused() -> None:
    err = _error(input_images=["data:image/png,%89PNG"])
    assert str(err).startswith("input_images[0]: data: URL is not base64 image data")
    err = _error(input_images=["data:image/png;base64"])
    assert str(err).startswith("input_images[0]: data: URL is not base64 image data")


def test_data_url_with_invalid_base64_is_refused() -> None:
    err = _error(input_images=["data:image/png;base64,@@@not-base64@@@"])
    assert str(err).startswith("input_images[0]: the data: URL payload is not valid base64")


def test_data_url_that_holds_audio_is_refused_whatever_it_claims() -> None:
    err = _error(input_images=[f"data:image/png;base64,{b64(MP3)}"])
    assert str(err) == "input_images[0]: the data: URL is MP3 audio, not an image"


def test_data_url_type_claim_is_not_trusted_for_images() -> None:
    url = f"data:application/octet-stream;base64,{b64(JPEG)}"
    assert image_params(input_images=[url])["input_images"] == [{"url": url}]


def test_long_values_are_shortened_in_messages() -> None:
    url = "data:image/png," + "x" * 10_000
    message = str(_error(input_images=[url]))
    assert len(message) < 300
    assert message.endswith("...'")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({}, "input_images[0]: the dict has neither 'url' nor 'b64_json'; give exactly one"),
        (
            {"url": None},
            "input_images[0]: the dict has neither 'url' nor 'b64_json'; give exactly one",
        ),
        (
            {"url": "https://example.com/a.png", "b64_json": b64(PNG)},
            "input_images[0]: the dict has both 'url' and 'b64_json'; give exactly one",
        ),
        ({"url": 3}, "input_images[0]: 'url' must be a str, got int"),
        ({"b64_json": PNG}, "input_images[0]: 'b64_json' must be a str, got bytes"),
    ],
)
def test_bad_dicts_are_refused(item: dict[str, Any], expected: str) -> None:
    assert str(_error(input_images=[item])) == expected


def test_dict_with_unknown_key_is_refused() -> None:
    err = _error(input_images=[{"url": "https://example.com/a.png", "detail": "high"}])
    assert str(err).startswith("input_images[0]: unexpected key(s) 'detail'")


def test_dict_url_must_be_a_url() -> None:
    err = _error(input_images=[{"url": "cat.png"}])
    assert str(err) == "input_images[0]: 'url' must be an http(s) or data: URL, got 'cat.png'"
    err = _error(input_images=[{"url": "ftp://example.com/a.png"}])
    assert str(err).startswith("input_images[0]: unsupported URL scheme 'ftp'")


def test_dict_b64_json_must_be_base64_of_an_image() -> None:
    err = _error(input_images=[{"b64_json": "not base64!"}])
    assert str(err).startswith("input_images[0]: the b64_json value is not valid base64")
    err = _error(input_images=[{"b64_json": b64(MP3)}])
    assert str(err) == "input_images[0]: the b64_json data is MP3 audio, not an image"
    err = _error(input_images=[{"b64_json": f"data:image/png;base64,{b64(PNG)}"}])
    assert "must be plain base64, not a data: URL" in str(err)


# -- image_urls: URL strings on the wire -----------------------------------------------------


def test_image_urls_mix_becomes_url_strings(png_file: Path, jpeg_named_png: Path) -> None:
    params = image_params(
        image_urls=[
            "https://example.com/a.jpg",
            InputImage.from_url("http://example.com/b.png"),
            InputImage.from_path(png_file),
            {"b64_json": b64(JPEG)},
            jpeg_named_png,
            str(png_file),
            JPEG,
            f"data:image/png;base64,{b64(PNG)}",
        ]
    )
    assert params["image_urls"] == [
        "https://example.com/a.jpg",
        "http://example.com/b.png",
        f"data:image/png;base64,{b64(PNG)}",
        f"data:image/jpeg;base64,{b64(JPEG)}",
        f"data:image/jpeg;base64,{b64(JPEG)}",  # the content decides, not the ".png" name
        f"data:image/png;base64,{b64(PNG)}",
        f"data:image/jpeg;base64,{b64(JPEG)}",
        f"data:image/png;base64,{b64(PNG)}",
    ]


def test_image_urls_and_input_images_together(png_file: Path) -> None:
    params = image_params(input_images=[png_file], image_urls=[png_file])
    assert params == {
        "input_images": [{"b64_json": b64(PNG)}],
        "image_urls": [f"data:image/png;base64,{b64(PNG)}"],
    }


def test_image_urls_errors_name_their_position(tmp_path: Path) -> None:
    missing = tmp_path / "gone.jpg"
    err = _error(image_urls=["https://example.com/a.png", missing])
    assert str(err) == f"image_urls[1]: file not found: {missing}"
    err = _error(image_urls=["ftp://example.com/a.png"])
    assert str(err).startswith("image_urls[0]: unsupported URL scheme 'ftp'")
    err = _error(image_urls=[MP3])
    assert str(err) == "image_urls[0]: the data is MP3 audio, not an image"


# -- InputImage ------------------------------------------------------------------------------


def test_from_path_reads_and_encodes_the_file(jpeg_named_png: Path) -> None:
    image = InputImage.from_path(jpeg_named_png)
    assert type(image) is dict
    assert list(image) == ["b64_json"]
    assert base64.b64decode(image["b64_json"], validate=True) == JPEG
    assert InputImage.from_path(str(jpeg_named_png)) == image


def test_from_path_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    with pytest.raises(InputImageError) as info:
        InputImage.from_path(missing)
    assert str(info.value) == f"file not found: {missing}"
    assert info.value.source == missing
    song = tmp_path / "song.mp3"
    song.write_bytes(MP3)
    with pytest.raises(InputImageError, match=r"song\.mp3 is MP3 audio, not an image$"):
        InputImage.from_path(song)
    with pytest.raises(TypeError, match=r"^path must be a str or os.PathLike, got bytes"):
        InputImage.from_path(b"/tmp/a.png")  # type: ignore[arg-type]


def test_from_bytes_encodes_an_image() -> None:
    assert InputImage.from_bytes(PNG) == {"b64_json": b64(PNG)}
    assert InputImage.from_bytes(memoryview(JPEG)) == {"b64_json": b64(JPEG)}


def test_from_bytes_refuses_what_is_not_an_image() -> None:
    with pytest.raises(InputImageError, match=r"^the data is MP3 audio, not an image$"):
        InputImage.from_bytes(MP3)
    with pytest.raises(InputImageError, match=r"^the data is empty$"):
        InputImage.from_bytes(b"")
    with pytest.raises(TypeError, match=r"^data must be bytes, got str"):
        InputImage.from_bytes("iVBORw0KGgo=")  # type: ignore[arg-type]


def test_from_url_checks_the_url() -> None:
    assert InputImage.from_url("https://example.com/a.png") == {"url": "https://example.com/a.png"}
    data_url = f"data:image/png;base64,{b64(PNG)}"
    assert InputImage.from_url(data_url) == {"url": data_url}
    with pytest.raises(InputImageError, match=r"^not an http\(s\) or data: URL: 'cat\.png'"):
        InputImage.from_url("cat.png")
    with pytest.raises(InputImageError, match=r"^unsupported URL scheme 'ftp'"):
        InputImage.from_url("ftp://example.com/a.png")
    with pytest.raises(InputImageError, match=r"^the data: URL is MP3 audio, not an image$"):
        InputImage.from_url(f"data:audio/mpeg;base64,{b64(MP3)}")


def test_input_image_is_a_namespace_not_a_value() -> None:
    with pytest.raises(TypeError, match=r"InputImage\.from_url"):
        InputImage()


def test_empty_string_is_neither_url_nor_path() -> None:
    err = _error(input_images=[""])
    assert str(err) == "input_images[0]: an empty string is neither a URL nor a path"
