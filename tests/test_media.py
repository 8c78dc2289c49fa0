"""The media encoders write real files: structure checked byte by byte, and by real decoders."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airforce_openai.testing import _media

SIZES = [(1, 1), (8, 8), (7, 3), (64, 36), (27, 64), (61, 27)]


# --- small parsers --------------------------------------------------------------------------


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF, kind
        yield kind, payload
        offset += 12 + length
    assert offset == len(data)


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    chunks = list(png_chunks(data))
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(p for k, p in chunks if k == b"IDAT"))
    return width, height, raw


def jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The marker segments before the scan, and the entropy-coded data."""
    assert data[:2] == b"\xff\xd8", "SOI"
    assert data[-2:] == b"\xff\xd9", "EOI"
    segments: list[tuple[int, bytes]] = []
    offset = 2
    while True:
        assert data[offset] == 0xFF, offset
        marker = data[offset + 1]
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        segments.append((marker, data[offset + 4 : offset + 2 + length]))
        offset += 2 + length
        if marker == 0xDA:
            return segments, data[offset:-2]


def huffman_table(payload: bytes) -> tuple[dict[tuple[int, int], int], int]:
    """{(length, code): symbol} for one DHT table, and the bytes it used."""
    counts = payload[1:17]
    values = payload[17 : 17 + sum(counts)]
    table: dict[tuple[int, int], int] = {}
    code = 0
    k = 0
    for length, count in enumerate(counts, start=1):
        for _ in range(count):
            table[(length, code)] = values[k]
            code += 1
            k += 1
        code <<= 1
    return table, 17 + sum(counts)


def decode_dc_only(data: bytes) -> tuple[int, int, list[list[int]]]:
    """Decode a baseline DC-only JPEG: (width, height, DC levels per block in scan order)."""
    segments, scan = jpeg_segments(data)
    assert [m for m, _ in segments] == [0xE0, 0xDB, 0xC0, 0xC4, 0xDA]
    assert segments[0][1][:5] == b"JFIF\x00"
    precision, height, width, components = struct.unpack(">BHHB", segments[2][1][:6])
    assert (precision, components) == (8, 3)
    dht = segments[3][1]
    tables: dict[int, dict[tuple[int, int], int]] = {}
    while dht:
        table, used = huffman_table(dht)
        tables[dht[0]] = table
        dht = dht[used:]
    assert set(tables) == {0x00, 0x10}
    assert segments[4][1] == bytes([3, 1, 0, 2, 0, 3, 0, 0, 63, 0])
    # Undo byte stuffing; no other marker may appear inside the scan.
    unstuffed = bytearray()
    i = 0
    while i < len(scan):
        unstuffed.append(scan[i])
        if scan[i] == 0xFF:
            assert scan[i + 1] == 0x00, f"marker inside the scan at {i}"
            i += 1
        i += 1
    bits = "".join(f"{b:08b}" for b in unstuffed)
    position = 0

    def symbol(table: dict[tuple[int, int], int]) -> int:
        nonlocal position
        for length in range(1, 17):
            key = (length, int(bits[position : position + length], 2))
            if key in table:
                position += length
                return table[key]
        raise AssertionError(f"no Huffman code at bit {position}")

    blocks_count = ((width + 7) // 8) * ((height + 7) // 8)
    predictors = [0, 0, 0]
    blocks: list[list[int]] = []
    for _ in range(blocks_count):
        levels = []
        for component in range(3):
            size = symbol(tables[0x00])
            diff = 0
            if size:
                raw = int(bits[position : position + size], 2)
                position += size
                diff = raw if raw >> (size - 1) else raw - (1 << size) + 1
            predictors[component] += diff
            assert symbol(tables[0x10]) == 0x00, "only EOB is expected after the DC"
            levels.append(predictors[component] + 128)
        blocks.append(levels)
    padding = bits[position:]
    assert len(padding) < 8 and set(padding) <= {"1"}, padding
    return width, height, blocks


def mp4_boxes(data: bytes, offset: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[offset:end]."""
    end = len(data) if end is None else end
    boxes = []
    while offset < end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8 and offset + size <= end, kind
        boxes.append((kind, offset + 8, offset + size))
        offset += size
    assert offset == end
    return boxes


def find_box(
    data: bytes, path: list[bytes], skip: dict[bytes, int] | None = None
) -> tuple[int, int]:
    """Payload bounds of the box at ``path``; ``skip`` gives header bytes before children."""
    skip = skip or {}
    start, end = 0, len(data)
    for depth, kind in enumerate(path):
        boxes = {k: (s, e) for k, s, e in mp4_boxes(data, start, end)}
        assert kind in boxes, (path[: depth + 1], list(boxes))
        start, end = boxes[kind]
        start += skip.get(kind, 0)
    return start, end


# --- PNG ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_png_structure(width: int, height: int) -> None:
    w, h, raw = png_pixels(_media.png(width, height, b"seed"))
    assert (w, h) == (width, height)
    assert len(raw) == height * (1 + 3 * width)
    assert all(raw[row * (1 + 3 * width)] == 0 for row in range(height))


def test_png_is_deterministic_and_follows_the_seed() -> None:
    assert _media.png(16, 9, b"a") == _media.png(16, 9, b"a")
    pixels = {png_pixels(_media.png(16, 9, seed))[2] for seed in (b"a", b"b", b"c")}
    assert len(pixels) == 3


# --- JPEG -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_jpeg_structure_decodes(width: int, height: int) -> None:
    w, h, blocks = decode_dc_only(_media.jpeg(width, height, b"seed"))
    assert (w, h) == (width, height)
    assert all(0 <= level <= 255 for block in blocks for level in block)


def test_jpeg_blocks_carry_the_seeded_pattern() -> None:
    blocks = {tuple(map(tuple, decode_dc_only(_media.jpeg(64, 64, s))[2])) for s in (b"a", b"b")}
    assert len(blocks) == 2
    _, _, one = decode_dc_only(_media.jpeg(64, 64, b"a"))
    assert len({tuple(block) for block in one}) > 1, "a flat image shows no pattern"


def test_jpeg_stuffs_ff_bytes() -> None:
    # Over many seeds some scan byte is 0xFF; each must be followed by a stuffed 0x00.
    scans = [jpeg_segments(_media.jpeg(64, 64, bytes([i])))[1] for i in range(40)]
    assert any(b"\xff\x00" in scan for scan in scans)
    for index in range(40):
        decode_dc_only(_media.jpeg(64, 64, bytes([index])))


# --- WebP, GIF ------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_webp_header(width: int, height: int) -> None:
    data = _media.webp(width, height, b"seed")
    assert data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8L"
    (riff_size,) = struct.unpack("<I", data[4:8])
    assert riff_size == len(data) - 8
    (chunk_size,) = struct.unpack("<I", data[16:20])
    assert len(data) - 20 in (chunk_size, chunk_size + 1)
    assert data[20] == 0x2F
    (bits,) = struct.unpack("<I", data[21:25])
    assert (bits & 0x3FFF) + 1 == width
    assert ((bits >> 14) & 0x3FFF) + 1 == height
    assert bits >> 29 == 0  # version


def test_webp_follows_the_seed() -> None:
    assert _media.webp(9, 9, b"a") == _media.webp(9, 9, b"a")
    assert _media.webp(9, 9, b"a") != _media.webp(9, 9, b"b")


def test_gif_header() -> None:
    data = _media.gif()
    assert data[:6] == b"GIF89a" and data.endswith(b";")
    assert struct.unpack("<HH", data[6:10]) == (1, 1)


# --- MP3 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "frames"), [(0.01, 8), (1.0, 42), (2.5, 105)])
def test_mp3_frames(seconds: float, frames: int) -> None:
    data = _media.mp3(seconds, b"seed")
    assert data[:3] == b"ID3"
    size = 0
    for byte in data[6:10]:
        assert byte < 0x80  # syncsafe
        size = (size << 7) | byte
    audio = data[10 + size :]
    assert len(audio) == 96 * frames
    for offset in range(0, len(audio), 96):
        header = audio[offset : offset + 4]
        assert header == b"\xff\xfb\x14\xc0", offset  # MPEG-1 L3, 32 kbit/s, 48 kHz, mono


def test_mp3_tag_follows_the_seed() -> None:
    assert _media.mp3(1, b"a") == _media.mp3(1, b"a")
    assert _media.mp3(1, b"a") != _media.mp3(1, b"b")


# --- MP4 ------------------------------------------------------------------------------------


def test_mp4_structure() -> None:
    data = _media.mp4(b"seed", width=40, height=24, frames=3)
    top = [kind for kind, _, _ in mp4_boxes(data)]
    assert top == [b"ftyp", b"moov", b"mdat"]
    assert data[8:12] == b"isom"
    stbl = [b"moov", b"trak", b"mdia", b"minf", b"stbl"]
    stsd_start, _ = find_box(data, [*stbl, b"stsd"])
    assert data[stsd_start + 12 : stsd_start + 16] == b"jpeg"
    stsz_start, stsz_end = find_box(data, [*stbl, b"stsz"])
    _, _, count = struct.unpack(">III", data[stsz_start : stsz_start + 12])
    sizes = struct.unpack(f">{count}I", data[stsz_start + 12 : stsz_end])
    stco_start, _ = find_box(data, [*stbl, b"stco"])
    (chunk_offset,) = struct.unpack(">I", data[stco_start + 8 : stco_start + 12])
    mdat_start, mdat_end = find_box(data, [b"mdat"])
    assert chunk_offset == mdat_start
    assert count == 3
    assert sum(sizes) == mdat_end - mdat_start
    offset = chunk_offset
    frames = []
    for size in sizes:
        frames.append(data[offset : offset + size])
        offset += size
    assert len(frames) == 3
    for frame in frames:
        width, height, _ = decode_dc_only(frame)
        assert (width, height) == (40, 24)
    assert len(set(frames)) == 3, "every frame is drawn from its own seed"


# --- sniffing and tiny files ----------------------------------------------------------------

KINDS: list[_media.MediaKind] = ["png", "jpeg", "webp", "gif", "mp3", "mp4"]


SAMPLES: dict[str, Callable[[], bytes]] = {
    "png": lambda: _media.png(64, 64, b"big"),
    "jpeg": lambda: _media.jpeg(64, 64, b"big"),
    "webp": lambda: _media.webp(64, 64, b"big"),
    "gif": _media.gif,
    "mp3": lambda: _media.mp3(2.0, b"big"),
    "mp4": lambda: _media.mp4(b"big"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_sniff_and_tiny_like(kind: _media.MediaKind) -> None:
    big = SAMPLES[kind]()
    assert _media.sniff(big) == kind
    small = _media.tiny_like(big)
    assert small is not None
    assert _media.sniff(small) == kind
    assert len(small) <= len(big)
    assert small == _media.tiny(kind)


def test_tiny_like_unknown_is_none() -> None:
    assert _media.tiny_like(b"") is None
    assert _media.tiny_like(b"%PDF-1.7 not an image") is None


def test_bad_arguments_name_the_culprit() -> None:
    with pytest.raises(ValueError, match="width"):
        _media.png(0, 5, b"x")
    with pytest.raises(ValueError, match="height"):
        _media.jpeg(5, 100_000, b"x")
    with pytest.raises(TypeError, match="seed"):
        _media.png(2, 2, "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds"):
        _media.mp3(0, b"x")
    with pytest.raises(ValueError, match="frames"):
        _media.mp4(b"x", frames=0)
    with pytest.raises(ValueError, match="bmp"):
        _media.tiny("bmp")  # type: ignore[arg-type]


# --- real decoders, where the machine has them ------------------------------------------------

IDENTIFY = shutil.which("identify")
FFPROBE = shutil.which("ffprobe")
FFMPEG = shutil.which("ffmpeg")
DJPEG = shutil.which("djpeg")


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(IDENTIFY is None, reason="ImageMagick's identify is not installed")
@pytest.mark.parametrize("kind", ["png", "jpeg", "webp"])
def test_imagemagick_decodes_images(kind: str, tmp_path: Path) -> None:
    encode = {"png": _media.png, "jpeg": _media.jpeg, "webp": _media.webp}[kind]
    path = tmp_path / f"image.{kind}"
    path.write_bytes(encode(61, 27, b"decoder"))
    # -regard-warnings turns any decoder complaint into a failure.
    out = run(str(IDENTIFY), "-regard-warnings", "-format", "%m %w %h", str(path))
    assert out.split() == [kind.upper(), "61", "27"]


@pytest.mark.skipif(IDENTIFY is None, reason="ImageMagick's identify is not installed")
def test_imagemagick_decodes_gif(tmp_path: Path) -> None:
    path = tmp_path / "image.gif"
    path.write_bytes(_media.gif())
    assert run(str(IDENTIFY), "-regard-warnings", "-format", "%m %w %h", str(path)).split() == [
        "GIF",
        "1",
        "1",
    ]


@pytest.mark.skipif(DJPEG is None, reason="libjpeg's djpeg is not installed")
def test_libjpeg_decodes_to_the_same_block_colours(tmp_path: Path) -> None:
    path = tmp_path / "image.jpg"
    data = _media.jpeg(16, 8, b"colours")
    path.write_bytes(data)
    done = subprocess.run(
        [str(DJPEG), "-strict", "-pnm", str(path)], capture_output=True, timeout=30, check=True
    )
    header, pixels = done.stdout.split(b"\n255\n", 1)
    assert header.split() == [b"P6", b"16", b"8"]
    _, _, blocks = decode_dc_only(data)
    for index, (y, cb, cr) in enumerate(blocks):
        r = y + 1.402 * (cr - 128)
        g = y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)
        b = y + 1.772 * (cb - 128)
        offset = (4 * 16 + index * 8 + 4) * 3  # the centre pixel of block ``index``
        for expected, got in zip((r, g, b), pixels[offset : offset + 3], strict=True):
            assert abs(min(255, max(0, expected)) - got) <= 2


@pytest.mark.skipif(FFPROBE is None or FFMPEG is None, reason="ffmpeg is not installed")
def test_ffmpeg_decodes_audio_and_video(tmp_path: Path) -> None:
    audio = tmp_path / "song.mp3"
    audio.write_bytes(_media.mp3(1.0, b"song"))
    video = tmp_path / "clip.mp4"
    video.write_bytes(_media.mp4(b"clip", width=32, height=18, frames=4))
    entries = "stream=codec_name,width,height,nb_frames"
    probe = run(str(FFPROBE), "-v", "error", "-show_entries", entries, "-of", "csv=p=0", str(video))
    assert probe.split() == ["mjpeg,32,18,4"]
    probe = run(
        str(FFPROBE),
        "-v",
        "error",
        "-show_entries",
        "stream=codec_name",
        "-of",
        "csv=p=0",
        str(audio),
    )
    assert probe.split() == ["mp3"]
    for path in (audio, video):
        run(str(FFMPEG), "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-")
