"""Format sniffing: magic bytes decide, names and claims never do."""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from airforce_openai import _formats as formats
from airforce_openai._formats import MediaType, is_image, sniff


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def _mpeg_frame(b1: int = 0xFB, b2: int = 0x90, b3: int = 0x64) -> bytes:
    """An MPEG audio frame header (default: MPEG-1 Layer III, 128 kbit/s, 44.1 kHz) and silence."""
    return bytes([0xFF, b1, b2, b3]) + bytes(413)


def _bmp(dib_size: int) -> bytes:
    return b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + struct.pack("<I", dib_size) + bytes(52)


SAMPLES: list[tuple[str, bytes, MediaType]] = [
    ("png", _png_1x1(), formats.PNG),
    ("jpeg-jfif", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(40), formats.JPEG),
    ("jpeg-exif", b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00" + bytes(40), formats.JPEG),
    ("webp", b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(20), formats.WEBP),
    ("gif87a", b"GIF87a\x01\x00\x01\x00" + bytes(20), formats.GIF),
    ("gif89a", b"GIF89a\x01\x00\x01\x00" + bytes(20), formats.GIF),
    ("bmp-info", _bmp(40), formats.BMP),
    ("bmp-v5", _bmp(124), formats.BMP),
    ("tiff-le", b"II*\x00\x08\x00\x00\x00" + bytes(20), formats.TIFF),
    ("tiff-be", b"MM\x00*\x00\x00\x00\x08" + bytes(20), formats.TIFF),
    ("avif", _ftyp(b"avif", b"mif1", b"miaf"), formats.AVIF),
    ("heic", _ftyp(b"heic", b"mif1", b"heic"), formats.HEIC),
    ("mif1-avif", _ftyp(b"mif1", b"avif", b"miaf"), formats.AVIF),
    ("mif1-heic", _ftyp(b"mif1", b"heic"), formats.HEIC),
    ("mif1-alone", _ftyp(b"mif1", b"miaf"), formats.HEIF),
    ("mp3-id3v2.4", b"ID3\x04\x00\x00\x00\x00\x00\x23" + bytes(40), formats.MP3),
    ("mp3-id3v2.3", b"ID3\x03\x00\x00\x00\x00\x07\x76" + bytes(40), formats.MP3),
    ("mp3-frame", _mpeg_frame(), formats.MP3),
    ("mp3-mpeg2-layer3", _mpeg_frame(0xF3, 0x64, 0xC4), formats.MP3),
    ("mp2-frame", _mpeg_frame(0xFD, 0xA4, 0x00), formats.MP3),
    ("aac-adts", b"\xff\xf1\x50\x80\x21\x3f\xfc" + bytes(30), formats.AAC),
    ("wav", b"RIFF\x24\x08\x00\x00WAVEfmt " + bytes(30), formats.WAV),
    ("ogg-vorbis", b"OggS\x00\x02" + bytes(22) + b"\x01vorbis" + bytes(20), formats.OGG),
    ("ogg-theora", b"OggS\x00\x02" + bytes(22) + b"\x80theora" + bytes(20), formats.OGV),
    ("flac", b"fLaC\x00\x00\x00\x22" + bytes(40), formats.FLAC),
    ("m4a", _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), formats.M4A),
    ("mp4-isom", _ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), formats.MP4),
    ("mp4-mp42", _ftyp(b"mp42", b"mp42", b"isom"), formats.MP4),
    ("m4v", _ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42", b"isom"), formats.M4V),
    ("mov", _ftyp(b"qt  ", b"qt  "), formats.MOV),
    ("mp4-by-compatible-brand", _ftyp(b"xyz1", b"xyz2", b"mp42"), formats.MP4),
    ("webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(20), formats.WEBM),
    ("mkv", b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska" + bytes(20), formats.MKV),
    ("avi", b"RIFF\x16\x17\x00\x00AVI LIST" + bytes(20), formats.AVI),
]


@pytest.mark.parametrize(
    ("data", "expected"), [(d, e) for _, d, e in SAMPLES], ids=[n for n, _, _ in SAMPLES]
)
def test_sniff_recognises_signature(data: bytes, expected: MediaType) -> None:
    assert sniff(data) == expected
    assert is_image(data) is (expected.kind == "image")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PN", id="truncated-png"),
        pytest.param(b"image.png", id="a-name-is-not-content"),
        pytest.param(b'{"data": [{"url": "https://x.test/image.jpeg"}]}', id="json"),
        pytest.param(b"<!DOCTYPE html><html>" + bytes(40), id="html"),
        pytest.param(b"RIFF\x00\x00\x00\x00CDXA" + bytes(20), id="riff-unknown-form"),
        pytest.param(b"BM" + bytes(60), id="bm-without-dib-header"),
        pytest.param(_ftyp(b"xyz1", b"xyz2"), id="ftyp-unknown-brands"),
        pytest.param(b"ID3\x09\x00\x00\x00\x00\x00\x23" + bytes(40), id="id3-bad-version"),
        pytest.param(b"ID3\x04\x00\x00\x80\x00\x00\x23" + bytes(40), id="id3-bad-size"),
        pytest.param(_mpeg_frame(0xEB), id="mpeg-reserved-version"),
        pytest.param(_mpeg_frame(0xE1), id="mpeg-reserved-layer-not-adts"),
        pytest.param(_mpeg_frame(b2=0xF0), id="mpeg-bad-bitrate"),
        pytest.param(_mpeg_frame(b2=0x00), id="mpeg-free-bitrate"),
        pytest.param(_mpeg_frame(b2=0x9C), id="mpeg-reserved-sample-rate"),
        pytest.param(_mpeg_frame(b3=0x66), id="mpeg-reserved-emphasis"),
        pytest.param(b"\xff\xf1\x3c\x80" + bytes(30), id="adts-reserved-sample-rate"),
        pytest.param(b"\xff\xd8" + bytes(40), id="jpeg-soi-without-marker"),
        pytest.param(b"\x00" * 100, id="zeros"),
    ],
)
def test_sniff_returns_none_for_unknown_content(data: bytes) -> None:
    assert sniff(data) is None
    assert is_image(data) is False


def test_sniff_ignores_a_signature_that_is_not_at_the_start() -> None:
    assert sniff(b"junk" + _png_1x1()) is None


def test_sniff_reads_only_the_head_of_large_data() -> None:
    # A PNG signature past the head must not matter, and a huge tail must not be scanned.
    big = b"\x00" * 64 + _png_1x1() + b"\x00" * (10 * 1024 * 1024)
    assert sniff(big) is None
    assert sniff(_png_1x1() + b"\x00" * (10 * 1024 * 1024)) == formats.PNG


@pytest.mark.parametrize(
    ("data", "expected"), [(d, e) for _, d, e in SAMPLES], ids=[n for n, _, _ in SAMPLES]
)
def test_the_first_sniff_bytes_decide(data: bytes, expected: MediaType) -> None:
    # A reader may judge a stream by its head and stop there: the verdict cannot change.
    assert sniff(data[: formats.SNIFF_BYTES]) == expected
    assert sniff(data[: formats.SNIFF_BYTES] + b"<html>" * 1000) == expected


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=lambda t: t.__name__)
def test_sniff_accepts_bytes_like(wrap: type) -> None:
    assert sniff(wrap(_png_1x1())) == formats.PNG
    assert is_image(wrap(_png_1x1())) is True


def test_jpeg_labelled_as_png_is_still_jpeg() -> None:
    # The gateway's b64_json claims PNG; only the bytes count.
    jpeg = b"\xff\xd8\xff\xdb\x00\x43\x00" + bytes(64)
    assert sniff(jpeg) == formats.JPEG


def test_media_type_fields_and_text() -> None:
    assert (formats.PNG.mime, formats.PNG.extension, formats.PNG.kind) == (
        "image/png",
        ".png",
        "image",
    )
    assert (formats.JPEG.extension, formats.MP3.extension, formats.MP4.extension) == (
        ".jpg",
        ".mp3",
        ".mp4",
    )
    assert str(formats.MP3) == "MP3 audio"
    assert str(MediaType("image/x-test", ".xt", "image")) == "image/x-test image"
    with pytest.raises(AttributeError):
        formats.PNG.mime = "image/jpeg"  # type: ignore[misc]


def test_known_types_are_consistent() -> None:
    extensions = [t.extension for t in formats.KNOWN_TYPES]
    assert len(set(extensions)) == len(extensions)
    for media in formats.KNOWN_TYPES:
        assert media.extension.startswith(".")
        assert media.mime.split("/")[0] == media.kind
        assert media.name
    assert tuple(t for t in formats.KNOWN_TYPES if t.kind == "image") == formats.IMAGE_TYPES
    assert {t.kind for t in formats.IMAGE_TYPES} == {"image"}
    every_sniffed = {expected for _, _, expected in SAMPLES}
    assert every_sniffed == set(formats.KNOWN_TYPES)


# Real encoders, when the machine has them: proves the signatures match what tools write.
_CONVERT = shutil.which("convert")
_FFMPEG = shutil.which("ffmpeg")


@functools.cache
def _imagemagick() -> str | None:
    """Why ImageMagick cannot be used here, or None. Probed once: `convert` may be another tool."""
    if _CONVERT is None:
        return "ImageMagick convert is not installed"
    try:
        probe = subprocess.run(
            [_CONVERT, "-version"], timeout=30, capture_output=True, check=False, text=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{_CONVERT} does not run: {exc}"
    if not probe.stdout.startswith("Version: ImageMagick"):
        return f"{_CONVERT} is not ImageMagick: {(probe.stdout + probe.stderr)[:120]!r}"
    return None


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (".png", formats.PNG),
        (".jpg", formats.JPEG),
        (".webp", formats.WEBP),
        (".gif", formats.GIF),
        (".bmp", formats.BMP),
        (".tiff", formats.TIFF),
    ],
)
def test_sniff_images_written_by_imagemagick(
    tmp_path: Path, suffix: str, expected: MediaType
) -> None:
    unusable = _imagemagick()
    if unusable is not None:
        pytest.skip(unusable)
    assert _CONVERT is not None
    target = tmp_path / f"out{suffix}"
    command = [_CONVERT, "-size", "4x4", "xc:red", str(target)]
    completed = subprocess.run(command, timeout=30, capture_output=True, check=False)
    if completed.returncode != 0:
        pytest.skip(f"this ImageMagick cannot write {suffix}: {completed.stderr[-200:]!r}")
    assert sniff(target.read_bytes()) == expected


@pytest.mark.skipif(_FFMPEG is None, reason="ffmpeg is not installed")
@pytest.mark.parametrize(
    ("suffix", "source", "expected"),
    [
        (".mp3", "sine=duration=0.1", formats.MP3),
        (".wav", "sine=duration=0.1", formats.WAV),
        (".flac", "sine=duration=0.1", formats.FLAC),
        (".m4a", "sine=duration=0.1", formats.M4A),
        (".mp4", "color=c=red:s=16x16:d=0.1", formats.MP4),
        (".mov", "color=c=red:s=16x16:d=0.1", formats.MOV),
        (".webm", "color=c=red:s=16x16:d=0.1", formats.WEBM),
        (".mkv", "color=c=red:s=16x16:d=0.1", formats.MKV),
    ],
)
def test_sniff_media_written_by_ffmpeg(
    tmp_path: Path, suffix: str, source: str, expected: MediaType
) -> None:
    assert _FFMPEG is not None
    target = tmp_path / f"out{suffix}"
    command = [_FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i", source, str(target)]
    completed = subprocess.run(command, timeout=60, capture_output=True, check=False)
    if completed.returncode != 0:
        pytest.skip(f"this ffmpeg cannot write {suffix}: {completed.stderr[-200:]!r}")
    assert sniff(target.read_bytes()) == expected
