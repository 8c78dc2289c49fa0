"""Tests for airforce_openai.results: saving generation results, against a loopback file host."""

from __future__ import annotations

import base64
import http.server
import pathlib
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from openai.types import ImagesResponse

from airforce_openai import ImageUnavailableError
from airforce_openai.results import asave_images, save_images
from airforce_openai.testing import httpx

# ---------------------------------------------------------------------------
# Sample files: just enough of each format to be recognised by its first bytes


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _riff(form: bytes, body: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + form + body


PNG = _png()
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(64)
    + b"\xff\xd9"
)
WEBP = _riff(b"WEBP", b"VP8 " + struct.pack("<I", 10) + bytes(10))
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(400)
MP4 = (
    struct.pack(">I", 24)
    + b"ftypisom"
    + b"\x00\x00\x02\x00"
    + b"isomiso2"
    + b"\x00\x00\x00\x08free"
)
WAV = _riff(b"WAVE", b"fmt " + struct.pack("<I", 16) + bytes(16) + b"data" + bytes(4))
UNKNOWN = b"just some text, not a media file"

SAMPLES = {
    ".png": PNG,
    ".jpg": JPEG,
    ".webp": WEBP,
    ".gif": GIF,
    ".mp3": MP3,
    ".mp4": MP4,
    ".wav": WAV,
    ".bin": UNKNOWN,
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------
# A loopback file host


@dataclass
class FileHost:
    """What the loopback file host saw, and how to reach it."""

    base_url: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    barrier: threading.Barrier | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def authorization_headers(self) -> list[str]:
        return [h["authorization"] for _, h in self.requests if "authorization" in h]


def _handler(host: FileHost) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with host.lock:
                host.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                host.in_flight += 1
                host.max_in_flight = max(host.max_in_flight, host.in_flight)
            try:
                self.route()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should past max_bytes
            finally:
                with host.lock:
                    host.in_flight -= 1

        def send(self, status: int, body: bytes, content_type: str = "image/jpeg") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def route(self) -> None:
            path = self.path.split("?")[0]
            parts = path.strip("/").split("/")
            if parts[0] == "file" and parts[1] in SAMPLES:
                # Every link ends in /image.jpeg, whatever it serves.
                self.send(200, SAMPLES[parts[1]])
            elif parts[0] == "status":
                self.send(int(parts[1]), b"no such file", "text/plain")
            elif parts[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", "/".join(["", *parts[1:]]))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts[0] == "redirect-to":
                self.send_response(302)
                self.send_header("Location", f"{parts[1]}://elsewhere.example/image.jpeg")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts[0] == "loop":
                self.send_response(302)
                self.send_header("Location", "/loop/image.jpeg")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts[0] == "hang":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(PNG[:10])
                self.wfile.flush()
                host.stop.wait(10)  # bounded; released at teardown
            elif parts[0] == "endless":
                # No Content-Length: the size is only known by reading.
                self.send_response(200)
                self.end_headers()
                self.wfile.write(PNG)
                for _ in range(64):
                    self.wfile.write(bytes(64 * 1024))
            elif parts[0] == "declared-huge":
                self.send_response(200)
                self.send_header("Content-Length", str(10**12))
                self.end_headers()
                self.wfile.write(PNG)
            elif parts[0] == "empty":
                self.send(200, b"")
            elif parts[0] == "together":
                assert host.barrier is not None
                try:
                    host.barrier.wait()
                except threading.BrokenBarrierError:
                    self.send(500, b"requests did not overlap", "text/plain")
                    return
                self.send(200, PNG)
            else:
                self.send(404, b"unknown route", "text/plain")

    return Handler


@pytest.fixture
def host() -> Iterator[FileHost]:
    state = FileHost()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        if state.barrier is not None:
            state.barrier.abort()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def images(*items: dict[str, Any]) -> ImagesResponse:
    return ImagesResponse.model_validate({"created": 1715000000, "data": list(items)})


# ---------------------------------------------------------------------------
# Saving base64 items


def test_b64_items_get_the_extension_of_their_content(tmp_path: pathlib.Path) -> None:
    response = images(*({"b64_json": b64(data), "url": None} for data in SAMPLES.values()))
    paths = save_images(response, tmp_path)
    assert [p.name for p in paths] == [f"image-{i}{ext}" for i, ext in enumerate(SAMPLES)]
    assert [p.read_bytes() for p in paths] == list(SAMPLES.values())


def test_accepts_dicts_and_plain_objects(tmp_path: pathlib.Path) -> None:
    as_dict = {"data": [{"b64_json": b64(JPEG)}, {"b64_json": b64(WEBP)}]}
    assert [p.name for p in save_images(as_dict, tmp_path / "d")] == ["image-0.jpg", "image-1.webp"]
    as_object = SimpleNamespace(data=[SimpleNamespace(b64_json=b64(GIF), url=None)])
    assert [p.name for p in save_images(as_object, tmp_path / "o")] == ["image-0.gif"]


def test_empty_response_saves_nothing(tmp_path: pathlib.Path) -> None:
    assert save_images({"data": None}, tmp_path) == []
    assert save_images(images(), tmp_path) == []


def test_prefix_and_nested_directory(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "a" / "b"
    paths = save_images({"data": [{"b64_json": b64(PNG)}]}, target, prefix="otter")
    assert paths == [target / "otter-0.png"]


def test_never_overwrites_an_existing_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / "image-0.png").write_bytes(b"keep me")
    (tmp_path / "image-0-1.png").write_bytes(b"and me")
    paths = save_images({"data": [{"b64_json": b64(PNG)}]}, tmp_path)
    assert paths == [tmp_path / "image-0-2.png"]
    assert (tmp_path / "image-0.png").read_bytes() == b"keep me"
    assert (tmp_path / "image-0-1.png").read_bytes() == b"and me"
    assert paths[0].read_bytes() == PNG


def test_lenient_base64(tmp_path: pathlib.Path) -> None:
    encoded = b64(PNG)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    urlsafe = base64.urlsafe_b64encode(PNG).decode().rstrip("=")
    data_url = f"data:image/png;base64,{encoded}"
    response = {"data": [{"b64_json": wrapped}, {"b64_json": urlsafe}, {"b64_json": data_url}]}
    assert [p.read_bytes() for p in save_images(response, tmp_path)] == [PNG, PNG, PNG]


def test_data_urls_are_decoded_in_place(tmp_path: pathlib.Path) -> None:
    response = {
        "data": [
            {"url": f"data:image/webp;base64,{b64(WEBP)}"},
            {"url": "data:text/plain,hello%20there"},
        ]
    }
    paths = save_images(response, tmp_path)
    assert [p.name for p in paths] == ["image-0.webp", "image-1.bin"]
    assert paths[1].read_bytes() == b"hello there"


# ---------------------------------------------------------------------------
# Downloading


def test_downloads_are_named_by_content_not_by_url(host: FileHost, tmp_path: pathlib.Path) -> None:
    response = images(
        {"url": host.url("/file/.png/image.jpeg"), "b64_json": None},
        {"url": host.url("/file/.webp/image.jpeg"), "b64_json": None},
        {"url": host.url("/file/.mp4/image.jpeg")},
    )
    paths = save_images(response, tmp_path)
    assert [p.name for p in paths] == ["image-0.png", "image-1.webp", "image-2.mp4"]
    assert [p.read_bytes() for p in paths] == [PNG, WEBP, MP4]
    assert len(host.requests) == 3
    assert host.authorization_headers == []


def test_credentials_on_a_given_client_are_not_sent(host: FileHost, tmp_path: pathlib.Path) -> None:
    headers = {"Authorization": "Bearer sk-air-secret", "OpenAI-Organization": "org-1"}
    with httpx.Client(headers=headers) as client:
        paths = save_images(
            images({"url": host.url("/file/.png/image.jpeg")}), tmp_path, http_client=client
        )
        assert not client.is_closed  # the caller's client is left open
    assert paths == [tmp_path / "image-0.png"]
    assert host.authorization_headers == []
    assert all("openai-organization" not in h for _, h in host.requests)


def test_follows_redirects_to_http(host: FileHost, tmp_path: pathlib.Path) -> None:
    paths = save_images(images({"url": host.url("/redirect/file/.gif/image.jpeg")}), tmp_path)
    assert [p.name for p in paths] == ["image-0.gif"]
    assert [path for path, _ in host.requests] == [
        "/redirect/file/.gif/image.jpeg",
        "/file/.gif/image.jpeg",
    ]


def test_failed_items_are_reported_after_the_others_are_saved(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    response = images(
        {"url": host.url("/file/.png/image.jpeg")},  # 0: fine
        {"url": None, "b64_json": None},  # 1: the gateway could not re-host it
        {"url": host.url("/status/404/image.jpeg")},  # 2: gone
        {"b64_json": b64(JPEG)},  # 3: fine
        {"url": "ftp://files.example/image.jpeg"},  # 4: not http(s)
        {"b64_json": "this is not base64!"},  # 5: undecodable
        {"url": host.url("/endless/image.jpeg")},  # 6: too big, found while reading
        {"url": host.url("/declared-huge/image.jpeg")},  # 7: too big, declared
        {"url": host.url("/redirect-to/file/image.jpeg")},  # 8: redirected to file://
        {"url": host.url("/empty/image.jpeg")},  # 9: empty body
        {"url": host.url("/loop/image.jpeg")},  # 10: endless redirects
    )
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(response, tmp_path, max_bytes=1024 * 1024)
    error = caught.value
    assert error.indexes == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    assert error.paths == [
        tmp_path / "image-0.png",
        *[None] * 2,
        tmp_path / "image-3.jpg",
        *[None] * 7,
    ]
    assert error.saved == [tmp_path / "image-0.png", tmp_path / "image-3.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image-0.png", "image-3.jpg"]

    lines = {int(line.split(":")[0].split()[-1]): line for line in str(error).splitlines()[1:]}
    assert set(lines) == set(error.indexes)
    assert "url: null" in lines[1]
    assert "127.0.0.1" in lines[2] and "404" in lines[2]
    assert "'ftp'" in lines[4]
    assert "base64" in lines[5]
    assert "127.0.0.1" in lines[6] and "max_bytes" in lines[6]
    assert "127.0.0.1" in lines[7] and "max_bytes" in lines[7]
    assert "'file'" in lines[8]
    assert "empty" in lines[9]
    assert "redirects" in lines[10]
    assert host.authorization_headers == []


def test_a_download_that_hangs_times_out(host: FileHost, tmp_path: pathlib.Path) -> None:
    response = images({"url": host.url("/hang/image.jpeg")}, {"b64_json": b64(PNG)})
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(response, tmp_path, timeout=0.3)
    assert caught.value.indexes == [0]
    assert caught.value.paths == [None, tmp_path / "image-1.png"]
    assert "127.0.0.1" in str(caught.value)
    assert "timed out" in str(caught.value)


def test_connection_refused_names_the_host(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(images({"url": "http://127.0.0.1:9/image.jpeg"}), tmp_path, timeout=2)
    assert caught.value.indexes == [0]
    assert "item 0" in str(caught.value) and "127.0.0.1" in str(caught.value)


# ---------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize("prefix", ["", ".", "..", "a/b", "../up", "a\\b"])
def test_prefix_must_be_a_plain_name(prefix: str, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="prefix"):
        save_images({"data": [{"b64_json": b64(PNG)}]}, tmp_path, prefix=prefix)


@pytest.mark.parametrize(
    ("option", "value"), [("max_bytes", 0), ("max_bytes", 1.5), ("timeout", 0), ("timeout", -1)]
)
def test_limits_must_be_positive(option: str, value: Any, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match=option):
        save_images({"data": []}, tmp_path, **{option: value})


@pytest.mark.parametrize("response", [{"items": []}, object(), {"data": "abc"}, 42])
def test_response_without_a_data_list(response: Any, tmp_path: pathlib.Path) -> None:
    with pytest.raises(TypeError, match="data"):
        save_images(response, tmp_path)


def test_directory_that_is_a_file(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "taken"
    target.write_text("a file")
    with pytest.raises(NotADirectoryError, match="taken"):
        save_images({"data": [{"b64_json": b64(PNG)}]}, target)


# ---------------------------------------------------------------------------
# The async version


async def test_async_saves_in_order(host: FileHost, tmp_path: pathlib.Path) -> None:
    response = images(
        {"url": host.url("/file/.webp/image.jpeg")},
        {"b64_json": b64(GIF)},
        {"url": host.url("/file/.mp3/image.jpeg")},
    )
    paths = await asave_images(response, tmp_path, prefix="a")
    assert [p.name for p in paths] == ["a-0.webp", "a-1.gif", "a-2.mp3"]
    assert [p.read_bytes() for p in paths] == [WEBP, GIF, MP3]
    assert host.authorization_headers == []


async def test_async_downloads_overlap(host: FileHost, tmp_path: pathlib.Path) -> None:
    # Each request waits at the barrier until all four are in flight: a sequential
    # download would break the barrier and get a 500.
    host.barrier = threading.Barrier(4, timeout=5)
    response = images(*({"url": host.url(f"/together/{i}/image.jpeg")} for i in range(4)))
    paths = await asave_images(response, tmp_path, concurrency=8)
    assert [p.name for p in paths] == [f"image-{i}.png" for i in range(4)]
    assert host.max_in_flight == 4


async def test_async_concurrency_is_bounded(host: FileHost, tmp_path: pathlib.Path) -> None:
    host.barrier = threading.Barrier(2, timeout=5)
    response = images(*({"url": host.url(f"/together/{i}/image.jpeg")} for i in range(6)))
    paths = await asave_images(response, tmp_path, concurrency=2)
    assert len(paths) == 6
    assert host.max_in_flight == 2


async def test_async_failures(host: FileHost, tmp_path: pathlib.Path) -> None:
    response = images(
        {"url": None},
        {"url": host.url("/file/.png/image.jpeg")},
        {"url": host.url("/hang/image.jpeg")},
        {"url": host.url("/status/503/image.jpeg")},
    )
    with pytest.raises(ImageUnavailableError) as caught:
        await asave_images(response, tmp_path, timeout=0.3)
    assert caught.value.indexes == [0, 2, 3]
    assert caught.value.paths == [None, tmp_path / "image-1.png", None, None]
    assert "timed out" in str(caught.value) and "503" in str(caught.value)


async def test_async_credentials_on_a_given_client_are_not_sent(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-air-secret"}) as client:
        paths = await asave_images(
            images({"url": host.url("/file/.jpg/image.jpeg")}), tmp_path, http_client=client
        )
        assert not client.is_closed
    assert [p.name for p in paths] == ["image-0.jpg"]
    assert host.authorization_headers == []


async def test_async_concurrency_must_be_positive(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await asave_images({"data": []}, tmp_path, concurrency=0)


# --- End to end: the emulator as the gateway and its file host ------------------------


def test_emulator_urls_are_saved_without_the_api_key(tmp_path: pathlib.Path) -> None:
    import airforce_openai as af
    from airforce_openai.testing import Emulator

    with Emulator() as emu:
        client = af.OpenAI(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        response = client.images.generate(model="flux-2-dev", prompt="a fox", n=2)
        assert all(item.url and item.url.endswith("/image.jpeg") for item in response.data or [])
        paths = save_images(response, tmp_path)
        file_gets = [r for r in emu.requests if r.path.startswith("/files/")]
    assert len(file_gets) == 2
    for request in file_gets:
        assert "authorization" not in request.headers
        assert all(emu.api_key not in value for value in request.headers.values())
    # The links all end in /image.jpeg; Flux answers PNG, and the files say so.
    assert [p.suffix for p in paths] == [".png", ".png"]


async def test_emulator_null_urls_raise_naming_the_index(tmp_path: pathlib.Path) -> None:
    import airforce_openai as af
    from airforce_openai.testing import Emulator, Fault

    with Emulator() as emu:
        emu.inject(Fault.null_url())
        async with af.AsyncOpenAI(api_key=emu.api_key, base_url=emu.base_url) as client:
            response = await client.images.generate(model="flux-2-dev", prompt="x", n=2)
            with pytest.raises(ImageUnavailableError, match=r"\b0\b") as info:
                await asave_images(response, tmp_path)
    assert info.value.indexes == [0, 1]
    assert info.value.saved == []
