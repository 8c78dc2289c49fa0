"""Tiny, real media files made from a seed: PNG, JPEG, WebP, GIF, MP3 and MP4, stdlib only.

    >>> png(64, 36, b"otter")[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'

Every encoder is deterministic: the same arguments give the same bytes, and a
different seed gives different pixels. The files decode in standard decoders
(libpng, libjpeg, libwebp, ffmpeg); they are meant for tests, not for looks.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import zlib
from collections.abc import Sequence
from typing import Literal

from .._values import is_int, is_number

__all__ = [
    "MediaKind",
    "gif",
    "jpeg",
    "mp3",
    "mp4",
    "png",
    "sniff",
    "tiny",
    "tiny_like",
    "webp",
]

MediaKind = Literal["png", "jpeg", "webp", "gif", "mp3", "mp4"]

# Large enough for any test, small enough that the pure-Python encoders stay fast.
_MAX_SIDE = 4096

RGB = tuple[int, int, int]


def _check_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not is_int(value):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not 1 <= value <= _MAX_SIDE:
            raise ValueError(f"{name} must be between 1 and {_MAX_SIDE}, got {value}")


def _digest(seed: bytes, *salt: int) -> bytes:
    if not isinstance(seed, (bytes, bytearray)):
        raise TypeError(f"seed must be bytes, got {type(seed).__name__}")
    return hashlib.sha256(bytes(seed) + b"".join(s.to_bytes(4, "big") for s in salt)).digest()


def _pattern(digest: bytes, width: int, height: int) -> list[list[RGB]]:
    """A seeded diagonal gradient over a checkerboard: cheap, and different for every seed."""
    base = digest[0:3]
    slope_x = digest[3:6]
    slope_y = digest[6:9]
    cell = 4 + digest[9] % 8
    contrast = 48 + digest[10] % 64
    # Per-column and per-row terms are computed once: the emulator draws while it answers.
    red_x, green_x, blue_x = (
        [(x * 256 // width) * (1 + slope_x[c] % 3) for x in range(width)] for c in range(3)
    )
    cells_x = [x // cell for x in range(width)]
    rows: list[list[RGB]] = []
    for y in range(height):
        fy = y * 256 // height
        red_y, green_y, blue_y = (base[c] + fy * (1 + slope_y[c] % 3) for c in range(3))
        cell_y = y // cell
        row: list[RGB] = []
        for x in range(width):
            checker = contrast if (cells_x[x] + cell_y) % 2 else 0
            row.append(
                (
                    (red_y + red_x[x] + checker) % 256,
                    (green_y + green_x[x] + checker) % 256,
                    (blue_y + blue_x[x] + checker) % 256,
                )
            )
        rows.append(row)
    return rows


# --- PNG -------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width: int, height: int, seed: bytes) -> bytes:
    """An 8-bit RGB PNG of ``width`` x ``height`` pixels with a pattern derived from ``seed``."""
    _check_size(width, height)
    rows = _pattern(_digest(seed), width, height)
    raw = bytearray()
    for row in rows:
        raw.append(0)  # filter type None
        for pixel in row:
            raw.extend(pixel)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _png_chunk(b"IEND", b"")
    )


# --- JPEG (baseline, DC only) ----------------------------------------------------------------

# The standard luminance Huffman tables of ITU T.81 Annex K.3, used for all three components.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = bytes(range(12))
_AC_BITS = (0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D)
_AC_VALUES = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a434445464748494a"
    "535455565758595a636465666768696a737475767778797a838485868788898a"
    "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6"
    "c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"
)
# With every AC coefficient zero, a DC quantiser of 8 makes each stored DC value equal to
# (block level - 128), so a flat block decodes back to exactly its colour.
_QUANT = bytes([8] * 64)
_EOB = 0x00


def _huffman_codes(bits: Sequence[int], values: bytes) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes, symbol -> (code, length), as T.81 Annex C builds them."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    k = 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


_DC_CODES = _huffman_codes(_DC_BITS, _DC_VALUES)
_AC_CODES = _huffman_codes(_AC_BITS, _AC_VALUES)


class _JpegBitWriter:
    """Most-significant-bit-first writer with 0xFF byte stuffing, as entropy-coded data needs."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def write(self, value: int, length: int) -> None:
        self._acc = (self._acc << length) | (value & ((1 << length) - 1))
        self._count += length
        while self._count >= 8:
            self._count -= 8
            byte = (self._acc >> self._count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)
        self._acc &= (1 << self._count) - 1

    def pad(self) -> bytes:
        if self._count:
            fill = 8 - self._count
            self.write((1 << fill) - 1, fill)  # pad with one bits (T.81 F.1.2.3)
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _clamp(value: float) -> int:
    return min(255, max(0, round(value)))


def _ycbcr(pixel: RGB) -> tuple[int, int, int]:
    r, g, b = pixel
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return _clamp(y), _clamp(cb), _clamp(cr)


def _jpeg_scan(blocks: list[list[tuple[int, int, int]]]) -> bytes:
    writer = _JpegBitWriter()
    previous = [0, 0, 0]
    for block_row in blocks:
        for levels in block_row:
            for component, level in enumerate(levels):
                dc = level - 128
                diff = dc - previous[component]
                previous[component] = dc
                size = abs(diff).bit_length()
                writer.write(*_DC_CODES[size])
                if size:
                    writer.write(diff if diff >= 0 else diff + (1 << size) - 1, size)
                writer.write(*_AC_CODES[_EOB])
    return writer.pad()


def jpeg(width: int, height: int, seed: bytes) -> bytes:
    """A baseline JFIF (YCbCr 4:4:4) of ``width`` x ``height``, one flat colour per 8x8 block."""
    _check_size(width, height)
    columns = math.ceil(width / 8)
    rows = math.ceil(height / 8)
    pattern = _pattern(_digest(seed), columns * 8, rows * 8)
    blocks = [
        [_ycbcr(pattern[by * 8 + 4][bx * 8 + 4]) for bx in range(columns)] for by in range(rows)
    ]
    app0 = b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0)
    dqt = b"\x00" + _QUANT
    sof0 = struct.pack(">BHHB", 8, height, width, 3) + b"".join(
        bytes([component, 0x11, 0]) for component in (1, 2, 3)
    )
    dht = b"\x00" + bytes(_DC_BITS) + _DC_VALUES + b"\x10" + bytes(_AC_BITS) + _AC_VALUES
    sos = bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])
    return (
        b"\xff\xd8"
        + _segment(0xE0, app0)
        + _segment(0xDB, dqt)
        + _segment(0xC0, sof0)
        + _segment(0xC4, dht)
        + _segment(0xDA, sos)
        + _jpeg_scan(blocks)
        + b"\xff\xd9"
    )


# --- WebP (lossless VP8L, two colours) -------------------------------------------------------


class _LsbBitWriter:
    """Least-significant-bit-first writer, the bit order of the VP8L bitstream."""

    def __init__(self) -> None:
        self._acc = 0
        self._count = 0

    def write(self, value: int, length: int) -> None:
        self._acc |= (value & ((1 << length) - 1)) << self._count
        self._count += length

    def getvalue(self) -> bytes:
        return self._acc.to_bytes((self._count + 7) // 8, "little")


def _simple_code(writer: _LsbBitWriter, symbols: Sequence[int]) -> None:
    """A VP8L "simple" prefix code of one or two 8-bit symbols."""
    writer.write(1, 1)
    writer.write(len(symbols) - 1, 1)
    first = symbols[0]
    if len(symbols) == 1 and first < 2:
        writer.write(0, 1)
        writer.write(first, 1)
    else:
        writer.write(1, 1)
        writer.write(first, 8)
    if len(symbols) == 2:
        writer.write(symbols[1], 8)


def webp(width: int, height: int, seed: bytes) -> bytes:
    """A lossless WebP (VP8L) of ``width`` x ``height``: a two-colour checkerboard from ``seed``."""
    _check_size(width, height)
    if width > 16384 or height > 16384:
        raise ValueError("webp sides are limited to 16384 pixels")
    digest = _digest(seed)
    colours: tuple[RGB, RGB] = (
        (digest[0], digest[1], digest[2]),
        (digest[3], digest[4], digest[5] ^ 0x80),  # never equal to the first colour
    )
    cell = 4 + digest[6] % 8
    writer = _LsbBitWriter()
    writer.write(width - 1, 14)
    writer.write(height - 1, 14)
    writer.write(0, 1)  # alpha_is_used
    writer.write(0, 3)  # version
    writer.write(0, 1)  # no transform
    writer.write(0, 1)  # no colour cache
    writer.write(0, 1)  # no meta prefix codes
    # Prefix codes in bitstream order: green, red, blue, alpha, distance. A channel whose two
    # colours agree gets a one-symbol code and costs no bits per pixel.
    channel_order = (1, 0, 2)  # green, red, blue within an (r, g, b) tuple
    two_symbol: list[bool] = []
    for channel in channel_order:
        values = sorted({colours[0][channel], colours[1][channel]})
        _simple_code(writer, values)
        two_symbol.append(len(values) == 2)
    _simple_code(writer, [255])  # alpha: opaque
    _simple_code(writer, [0])  # distance: unused
    for y in range(height):
        for x in range(width):
            colour = colours[((x // cell) + (y // cell)) % 2]
            other = colours[1] if colour is colours[0] else colours[0]
            for channel, coded in zip(channel_order, two_symbol, strict=True):
                if coded:
                    # Canonical codes give bit 0 to the smaller of the two symbols.
                    writer.write(int(colour[channel] > other[channel]), 1)
    payload = b"\x2f" + writer.getvalue()
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    if len(payload) % 2:
        chunk += b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


# --- GIF -------------------------------------------------------------------------------------

# The classic 1x1 transparent GIF89a.
_GIF_1X1 = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def gif() -> bytes:
    """A 1x1 transparent GIF89a."""
    return _GIF_1X1


# --- MP3 -------------------------------------------------------------------------------------

# MPEG-1 Layer III, no CRC, 32 kbit/s, 48 kHz, mono: every frame is exactly 144 * 32000 / 48000
# = 96 bytes and holds 1152 samples. A zeroed side-info block encodes a silent granule pair.
_MP3_HEADER = bytes([0xFF, 0xFB, 0x14, 0xC0])
_MP3_FRAME = _MP3_HEADER + bytes(96 - len(_MP3_HEADER))
_MP3_SAMPLES_PER_FRAME = 1152
_MP3_SAMPLE_RATE = 48_000
_MP3_MIN_FRAMES = 8


def _id3v2(title: str) -> bytes:
    text = b"\x00" + title.encode("latin-1")
    frame = b"TIT2" + struct.pack(">I", len(text)) + b"\x00\x00" + text
    size = len(frame)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frame


def mp3(seconds: float, seed: bytes) -> bytes:
    """Silent MPEG-1 Layer III audio of about ``seconds`` (8 frames at least), tagged by seed."""
    if not is_number(seconds):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if not 0 < seconds <= 600:
        raise ValueError(f"seconds must be above 0 and at most 600, got {seconds}")
    # Format probes (ffmpeg's among them) trust an MP3 only after several consecutive frames.
    frames = max(_MP3_MIN_FRAMES, math.ceil(seconds * _MP3_SAMPLE_RATE / _MP3_SAMPLES_PER_FRAME))
    title = "emulator " + _digest(seed).hex()[:16]
    return _id3v2(title) + _MP3_FRAME * frames


# --- MP4 -------------------------------------------------------------------------------------


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)


def _mp4_moov(width: int, height: int, sizes: Sequence[int], frame_ms: int, offset: int) -> bytes:
    duration = frame_ms * len(sizes)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, duration),
        struct.pack(">IH", 0x00010000, 0x0100),
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIII", 0, 0, 1, 0),
        struct.pack(">I", duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(
        b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, 1000, duration, 0x55C4, 0)
    )  # language "und"
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    vmhd = _full_box(b"vmhd", 0, 1, bytes(8))
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    compressor = b"\x0bPhoto - JPEG".ljust(32, b"\x00")
    sample_entry = _box(
        b"jpeg",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        compressor,
        struct.pack(">Hh", 0x0018, -1),
    )
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, len(sizes), frame_ms)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, len(sizes), 1)),
        _full_box(
            b"stsz", 0, 0, struct.pack(">II", 0, len(sizes)), struct.pack(f">{len(sizes)}I", *sizes)
        ),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, offset)),
    )
    minf = _box(b"minf", vmhd, dinf, stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    return _box(b"moov", mvhd, trak)


def mp4(seed: bytes, *, width: int = 64, height: int = 36, frames: int = 4) -> bytes:
    """An ISO-BMFF (MP4) movie of ``frames`` Motion-JPEG frames at 4 fps, drawn from ``seed``.

    Layout: ``ftyp`` (isom), ``moov`` (``mvhd`` and one video ``trak`` whose sample entry is
    ``jpeg``, with one chunk), then ``mdat`` holding the JPEG frames back to back.
    """
    _check_size(width, height)
    if not is_int(frames) or not 1 <= frames <= 240:
        raise ValueError(f"frames must be an int between 1 and 240, got {frames!r}")
    samples = [jpeg(width, height, _digest(seed, index)) for index in range(frames)]
    sizes = [len(sample) for sample in samples]
    frame_ms = 250
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    # The chunk offset is absolute, and the moov size does not depend on its value.
    moov_size = len(_mp4_moov(width, height, sizes, frame_ms, 0))
    offset = len(ftyp) + moov_size + 8
    moov = _mp4_moov(width, height, sizes, frame_ms, offset)
    return ftyp + moov + _box(b"mdat", *samples)


# --- sniffing and tiny stand-ins -------------------------------------------------------------


def sniff(data: bytes) -> MediaKind | None:
    """The format of ``data`` from its first bytes, among those this module writes, or None."""
    head = bytes(data[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def tiny(kind: MediaKind) -> bytes:
    """The smallest useful valid file of ``kind``: a few pixels, one frame of audio or video."""
    seed = b"tiny"
    if kind == "png":
        return png(2, 2, seed)
    if kind == "jpeg":
        return jpeg(8, 8, seed)
    if kind == "webp":
        return webp(2, 2, seed)
    if kind == "gif":
        return gif()
    if kind == "mp3":
        return mp3(0.01, seed)
    if kind == "mp4":
        return mp4(seed, width=8, height=8, frames=1)
    raise ValueError(f"unknown media kind {kind!r}; expected one of {', '.join(_KINDS)}")


_KINDS: tuple[MediaKind, ...] = ("png", "jpeg", "webp", "gif", "mp3", "mp4")


def tiny_like(data: bytes) -> bytes | None:
    """A tiny valid file of the same format as ``data``, or None when the format is not known."""
    kind = sniff(data)
    return None if kind is None else tiny(kind)
