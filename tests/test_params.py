"""The extra_body helpers: plain dicts, None dropped, images read and checked at the call."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from airforce_openai import InputImageError
from airforce_openai._params import (
    MAX_INPUT_IMAGE_BYTES,
    InputImage,
    _read_within,
    image_params,
    suno_params,
)


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
    assert str(err) == f"input_images[0]: {tmp_path} is a directory, not a regular file"


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


# -- hostile input files: only regular files, never more than the limit ----------------------

LIMIT = MAX_INPUT_IMAGE_BYTES
LIMIT_TEXT = f"the limit of {LIMIT} bytes (20 MiB, MAX_INPUT_IMAGE_BYTES)"


def _bounded(call: Callable[[], object], *, unblock: Callable[[], None]) -> BaseException:
    """Run ``call`` in a thread, wait at most 5 s, and return what it raised.

    A call that blocks (reading a FIFO) is released with ``unblock`` before failing.
    """
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        unblock()
        thread.join(5)
        pytest.fail("the call blocked instead of refusing the path")
    assert outcome, "the call returned instead of refusing the path"
    return outcome[0]


def _release_fifo(path: Path) -> Callable[[], None]:
    def unblock() -> None:
        # A reader blocked in open() gets a writer, then end of file.
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    return unblock


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize(
    "call",
    [
        lambda p: InputImage.from_path(p),
        lambda p: image_params(input_images=[str(p)]),
        lambda p: image_params(image_urls=[p]),
    ],
    ids=["from_path", "input_images", "image_urls"],
)
def test_a_fifo_is_refused_without_being_opened(
    tmp_path: Path, call: Callable[[Path], object]
) -> None:
    fifo = tmp_path / "ref.png"
    os.mkfifo(fifo)
    error = _bounded(lambda: call(fifo), unblock=_release_fifo(fifo))
    assert isinstance(error, InputImageError)
    assert str(error).endswith(f"{fifo} is a FIFO (named pipe), not a regular file")
    # Never opened for reading: a writer opening without blocking finds no reader.
    with pytest.raises(OSError):
        os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no unix sockets here")
def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as server:
        try:
            server.bind(str(path))
        except OSError as exc:  # a path too long for a socket address
            pytest.skip(f"cannot bind a unix socket here: {exc}")
        err = _error(input_images=[path])
    assert str(err) == f"input_images[0]: {path} is a socket, not a regular file"


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_a_device_is_refused() -> None:
    err = _error(image_urls=["/dev/null"])
    assert str(err) == "image_urls[0]: /dev/null is a character device, not a regular file"
    assert err.source == "/dev/null"


# Reading /dev/zero or /proc/self/pagemap (a "regular" file that says 0 bytes and
# never ends) without a bound exhausts memory: these run in a child process whose
# address space is capped, so a regression fails the test instead of the machine.
_ENDLESS_FILES = r"""
import json, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024,) * 2)
from airforce_openai import InputImage, InputImageError, image_params
out = {}
for name, call in [
    ("zero", lambda: InputImage.from_path("/dev/zero")),
    ("zero_link", lambda: image_params(input_images=[sys.argv[1]])),
    ("pagemap", lambda: InputImage.from_path("/proc/self/pagemap")),
]:
    try:
        call()
        out[name] = "accepted"
    except InputImageError as exc:
        out[name] = str(exc)
    except MemoryError:
        out[name] = "MemoryError"
print(json.dumps(out))
"""


@pytest.mark.skipif(
    not (os.path.exists("/dev/zero") and os.path.exists("/proc/self/pagemap")),
    reason="needs /dev/zero and /proc",
)
def test_endless_files_are_refused_with_bounded_memory(tmp_path: Path) -> None:
    link = tmp_path / "ref.png"
    link.symlink_to("/dev/zero")
    done = subprocess.run(
        [sys.executable, "-c", _ENDLESS_FILES, str(link)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["zero"] == "/dev/zero is a character device, not a regular file"
    assert result["zero_link"] == (
        f"input_images[0]: {link} is a character device, not a regular file"
    )
    assert (
        result["pagemap"]
        == f"/proc/self/pagemap is larger than {LIMIT_TEXT}; reading stopped there"
    )


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes starting like a PNG, made in no time (the rest is a hole)."""
    with path.open("wb") as file:
        file.write(PNG)
        file.truncate(size)
    return path


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "big.png", LIMIT + 1)
    tracemalloc.start()
    try:
        err = _error(input_images=[png_file_path(tmp_path), big])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err) == (
        f"input_images[1]: {big} is {LIMIT + 1} bytes (20.0 MiB), more than {LIMIT_TEXT} "
        "for an input image"
    )
    assert peak < 1024 * 1024  # refused from its size, not read
    with pytest.raises(InputImageError, match=r"^image_urls\[0\]: .*big\.png is 20971521 bytes"):
        image_params(image_urls=[str(big)])
    with pytest.raises(InputImageError, match=r"big\.png is 20971521 bytes"):
        InputImage.from_path(big)


def png_file_path(tmp_path: Path) -> Path:
    path = tmp_path / "small.png"
    path.write_bytes(PNG)
    return path


def test_a_file_at_the_limit_is_accepted(tmp_path: Path) -> None:
    exact = _sparse(tmp_path / "exact.png", LIMIT)
    image = InputImage.from_path(exact)
    assert len(image["b64_json"]) == 4 * -(-LIMIT // 3)


def test_bytes_over_the_limit_are_refused() -> None:
    big = bytearray(PNG) + bytearray(LIMIT + 1 - len(PNG))
    message = f"is {LIMIT + 1} bytes (20.0 MiB), more than {LIMIT_TEXT} for an input image"
    with pytest.raises(InputImageError) as info:
        InputImage.from_bytes(memoryview(big))
    assert str(info.value) == f"the data {message}"
    err = _error(input_images=[PNG, big])
    assert str(err) == f"input_images[1]: the data {message}"
    assert str(_error(image_urls=[bytes(big)])) == f"image_urls[0]: the data {message}"


def _oversized_base64() -> str:
    # Decodes to LIMIT + 1 bytes: refused from its length alone.
    return "A" * (4 * (LIMIT // 3 + 1))


def test_base64_over_the_limit_is_refused_without_decoding_it() -> None:
    text = _oversized_base64()
    tracemalloc.start()
    try:
        err = _error(input_images=[{"b64_json": text}])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err).startswith(
        f"input_images[0]: the b64_json value holds {LIMIT + 1} bytes (20.0 MiB), more than "
    )
    assert peak < 1024 * 1024  # the 20 MiB it stands for were never decoded


@pytest.mark.parametrize(
    "call",
    [
        lambda url: InputImage.from_url(url),
        lambda url: image_params(input_images=[url]),
        lambda url: image_params(input_images=[{"url": url}]),
        lambda url: image_params(image_urls=[url]),
    ],
    ids=["from_url", "input_images", "input_images_dict", "image_urls"],
)
def test_data_url_over_the_limit_is_refused(call: Callable[[str], object]) -> None:
    url = f"data:image/png;base64,{_oversized_base64()}"
    with pytest.raises(InputImageError, match=r"the data: URL payload holds 20971521 bytes"):
        call(url)


def test_symlink_loop_names_the_path(tmp_path: Path) -> None:
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    err = _error(input_images=[loop])
    assert str(err).startswith(f"input_images[0]: cannot read {loop}: ")
    assert "symbolic links" in str(err)


def test_reading_stops_past_the_limit_whatever_size_the_file_claimed() -> None:
    # A file that said 10 bytes and then held more (it grew) is read one byte past the limit.
    grown = io.BytesIO(bytes(100))
    assert _read_within(grown, 50, expected=10) is None
    assert grown.tell() == 51
    assert _read_within(io.BytesIO(bytes(50)), 50, expected=10) == bytes(50)
    assert _read_within(io.BytesIO(bytes(30)), 50, expected=0) == bytes(30)
    assert _read_within(io.BytesIO(bytes(10)), 50, expected=10) == bytes(10)
    assert _read_within(io.BytesIO(bytes(5)), 50, expected=10) == bytes(5)  # it shrank
    assert _read_within(io.BytesIO(b""), 50, expected=0) == b""
    assert _read_within(io.BytesIO(bytes(60)), 50, expected=60) is None


def test_a_path_with_a_nul_byte_is_refused() -> None:
    err = _error(input_images=["ref\x00.png"])
    assert str(err) == "input_images[0]: cannot read 'ref\\x00.png': embedded null byte"
