"""File formats recognised from their first bytes, never from a name, a URL or a claim.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(24)).extension
    '.png'

Only the first few dozen bytes are read, so sniffing a 10 MB answer costs nothing.
The gateway labels JPEG and WebP bytes as PNG and its links all end in
``/image.jpeg``; the content is the only thing that can be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Only what other modules and the tests import: the format constants are reached by name.
__all__ = ["IMAGE_TYPES", "KNOWN_TYPES", "SNIFF_BYTES", "MediaType", "is_image", "sniff"]

MediaKind = Literal["image", "audio", "video"]

SNIFF_BYTES = 64
"""How many leading bytes :func:`sniff` looks at: ``sniff(data) == sniff(data[:SNIFF_BYTES])``.

Enough for every signature, including the brand list of an ISO-BMFF ``ftyp`` box
and the DocType of a Matroska/WebM header: a reader can judge a stream by its
first bytes and stop early.
"""


@dataclass(frozen=True)
class MediaType:
    """A file format recognised from its first bytes."""

    mime: str
    extension: str
    kind: MediaKind
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name or self.mime} {self.kind}"


PNG = MediaType("image/png", ".png", "image", "PNG")
JPEG = MediaType("image/jpeg", ".jpg", "image", "JPEG")
WEBP = MediaType("image/webp", ".webp", "image", "WebP")
GIF = MediaType("image/gif", ".gif", "image", "GIF")
BMP = MediaType("image/bmp", ".bmp", "image", "BMP")
AVIF = MediaType("image/avif", ".avif", "image", "AVIF")
HEIC = MediaType("image/heic", ".heic", "image", "HEIC")
HEIF = MediaType("image/heif", ".heif", "image", "HEIF")
TIFF = MediaType("image/tiff", ".tiff", "image", "TIFF")

MP3 = MediaType("audio/mpeg", ".mp3", "audio", "MP3")
AAC = MediaType("audio/aac", ".aac", "audio", "AAC")
WAV = MediaType("audio/wav", ".wav", "audio", "WAV")
OGG = MediaType("audio/ogg", ".ogg", "audio", "Ogg")
FLAC = MediaType("audio/flac", ".flac", "audio", "FLAC")
M4A = MediaType("audio/mp4", ".m4a", "audio", "M4A")

MP4 = MediaType("video/mp4", ".mp4", "video", "MP4")
M4V = MediaType("video/x-m4v", ".m4v", "video", "M4V")
MOV = MediaType("video/quicktime", ".mov", "video", "QuickTime")
WEBM = MediaType("video/webm", ".webm", "video", "WebM")
MKV = MediaType("video/x-matroska", ".mkv", "video", "Matroska")
OGV = MediaType("video/ogg", ".ogv", "video", "Ogg")
AVI = MediaType("video/x-msvideo", ".avi", "video", "AVI")

KNOWN_TYPES: tuple[MediaType, ...] = (
    PNG, JPEG, WEBP, GIF, BMP, AVIF, HEIC, HEIF, TIFF,
    MP3, AAC, WAV, OGG, FLAC, M4A,
    MP4, M4V, MOV, WEBM, MKV, OGV, AVI,
)  # fmt: skip
"""Every format :func:`sniff` can return."""

IMAGE_TYPES: tuple[MediaType, ...] = tuple(t for t in KNOWN_TYPES if t.kind == "image")
"""The image formats :func:`sniff` can return."""

# ISO-BMFF (MP4 family) brands, as found in the ``ftyp`` box.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})  # generic HEIF: the codec brand says which
_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
_M4V_BRANDS = frozenset({b"M4V ", b"M4VH", b"M4VP"})
_MOV_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp71"}
    | {b"avc1", b"dash", b"MSNV", b"F4V ", b"mmp4", b"NDAS", b"XAVC"}
)

# MPEG audio frame header fields that no valid frame uses.
_MPEG_VERSION_RESERVED = 0b01
_MPEG_LAYER_RESERVED = 0b00
_MPEG_BITRATE_FREE = 0b0000
_MPEG_BITRATE_BAD = 0b1111
_MPEG_SAMPLE_RATE_RESERVED = 0b11
_MPEG_EMPHASIS_RESERVED = 0b10
_ADTS_SAMPLE_RATES = 13  # indexes 13-15 are reserved

_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def sniff(data: bytes | bytearray | memoryview) -> MediaType | None:
    """Return the format of ``data`` judged by its magic bytes, or ``None`` if unknown."""
    head = bytes(data[:SNIFF_BYTES])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _riff(head[8:12])
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _iso_bmff(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"webm" in head else MKV
    if head.startswith(b"OggS"):
        return OGV if b"\x80theora" in head else OGG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"fLaC"):
        return FLAC
    if _is_id3_tag(head):
        return MP3
    if _is_bmp(head):
        return BMP
    return _mpeg_audio(head)


def is_image(data: bytes | bytearray | memoryview) -> bool:
    """Return True if ``data`` starts like an image file (PNG, JPEG, WebP, GIF, AVIF...)."""
    media = sniff(data)
    return media is not None and media.kind == "image"


def _riff(form: bytes) -> MediaType | None:
    return {b"WEBP": WEBP, b"WAVE": WAV, b"AVI ": AVI}.get(form)


def _iso_bmff(head: bytes) -> MediaType | None:
    major = head[8:12]
    box_size = int.from_bytes(head[0:4], "big")
    # Compatible brands run from offset 16 to the end of the ftyp box.
    end = min(box_size, len(head)) if box_size >= 16 else 16
    compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]

    found = _brand(major)
    if found is HEIF:
        # A generic HEIF container: a codec brand among the compatible ones is more precise.
        for brand in compatible:
            if brand in _AVIF_BRANDS or brand in _HEIC_BRANDS:
                return _brand(brand)
        return HEIF
    if found is not None:
        return found
    for brand in compatible:
        found = _brand(brand)
        if found is not None:
            return found
    return None


def _brand(brand: bytes) -> MediaType | None:
    if brand in _AVIF_BRANDS:
        return AVIF
    if brand in _HEIC_BRANDS:
        return HEIC
    if brand in _HEIF_BRANDS:
        return HEIF
    if brand in _M4A_BRANDS:
        return M4A
    if brand in _M4V_BRANDS:
        return M4V
    if brand in _MOV_BRANDS:
        return MOV
    if brand in _MP4_BRANDS:
        return MP4
    return None


def _is_id3_tag(head: bytes) -> bool:
    # "ID3", major version 2-4, revision, flags, then a 4-byte synchsafe size (high bits clear).
    return (
        len(head) >= 10
        and head.startswith(b"ID3")
        and head[3] in (2, 3, 4)
        and head[4] != 0xFF
        and all(b < 0x80 for b in head[6:10])
    )


def _is_bmp(head: bytes) -> bool:
    # "BM" alone is too common a prefix; the DIB header size that follows is a known value.
    return (
        len(head) >= 18
        and head.startswith(b"BM")
        and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES
    )


def _mpeg_audio(head: bytes) -> MediaType | None:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    if layer == _MPEG_LAYER_RESERVED:
        # The same 12-bit sync with layer 00 is an ADTS (raw AAC) header.
        if head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 0x0F < _ADTS_SAMPLE_RATES:
            return AAC
        return None
    bitrate = head[2] >> 4
    if (
        version == _MPEG_VERSION_RESERVED
        or bitrate in (_MPEG_BITRATE_FREE, _MPEG_BITRATE_BAD)
        or (head[2] >> 2) & 0b11 == _MPEG_SAMPLE_RATE_RESERVED
        or head[3] & 0b11 == _MPEG_EMPHASIS_RESERVED
    ):
        return None
    return MP3
