"""Tests for airforce_openai._results: saving generation results, against a loopback file host."""

from __future__ import annotations

import base64
import copy
import http.server
import json
import pathlib
import pickle
import re
import struct
import threading
import tracemalloc
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from _loopback import serve
from openai.types import ImagesResponse

from airforce_openai import ImageUnavailableError
from airforce_openai._results import (
    MAX_REDIRECTS,
    _Download,
    _hop_request,
    _ItemFailed,
    _Route,
    address_problem,
    asave_images,
    gateway_host_of,
    record_gateway_host,
    save_images,
)
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
HTML = b"<!DOCTYPE html><html><body>Access denied</body></html>" + b" " * 64

SAMPLES = {
    ".png": PNG,
    ".jpg": JPEG,
    ".webp": WEBP,
    ".gif": GIF,
    ".mp3": MP3,
    ".mp4": MP4,
    ".wav": WAV,
}
# The loopback file host is a private address: tests that download from it say so.
ALLOW = ["127.0.0.1"]


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

        def redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def route(self) -> None:
            path, _, query = self.path.partition("?")
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
            elif parts[0] == "to":
                # /to?<location>: a redirect to any URL, the hostile file host's best trick.
                self.redirect(urllib.parse.unquote(query))
            elif parts[0] in ("ping", "pong"):
                self.redirect("/pong/image.jpeg" if parts[0] == "ping" else "/ping/image.jpeg")
            elif parts[0] == "chain":
                self.redirect(f"/chain/{int(parts[1]) + 1}/image.jpeg")
            elif parts[0] == "html":
                self.send(200, HTML, "image/jpeg")
            elif parts[0] == "huge":
                # 256 MiB of a "PNG", no Content-Length: only reading finds out.
                self.send_response(200)
                self.end_headers()
                self.wfile.write(PNG)
                block = bytes(64 * 1024)
                for _ in range(4096):
                    if host.stop.is_set():
                        break
                    self.wfile.write(block)
            else:
                self.send(404, b"unknown route", "text/plain")

    return Handler


@pytest.fixture
def host() -> Iterator[FileHost]:
    state = FileHost()
    with serve(_handler(state)) as origin:
        state.base_url = origin
        try:
            yield state
        finally:
            # Let handlers that wait on the test go, before the server stops.
            state.stop.set()
            if state.barrier is not None:
                state.barrier.abort()


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
            {"url": f"data:image/gif,{urllib.parse.quote_from_bytes(GIF)}"},
            {"url": f"data:image/png;base64,{urllib.parse.quote(b64(PNG), safe='')}"},
        ]
    }
    paths = save_images(response, tmp_path)
    assert [p.name for p in paths] == ["image-0.webp", "image-1.gif", "image-2.png"]
    assert [p.read_bytes() for p in paths] == [WEBP, GIF, PNG]


# ---------------------------------------------------------------------------
# Downloading


def test_downloads_are_named_by_content_not_by_url(host: FileHost, tmp_path: pathlib.Path) -> None:
    response = images(
        {"url": host.url("/file/.png/image.jpeg"), "b64_json": None},
        {"url": host.url("/file/.webp/image.jpeg"), "b64_json": None},
        {"url": host.url("/file/.mp4/image.jpeg")},
    )
    paths = save_images(response, tmp_path, allowed_hosts=ALLOW)
    assert [p.name for p in paths] == ["image-0.png", "image-1.webp", "image-2.mp4"]
    assert [p.read_bytes() for p in paths] == [PNG, WEBP, MP4]
    assert len(host.requests) == 3
    assert host.authorization_headers == []


def test_credentials_on_a_given_client_are_not_sent(host: FileHost, tmp_path: pathlib.Path) -> None:
    headers = {"Authorization": "Bearer sk-air-secret", "OpenAI-Organization": "org-1"}
    with httpx.Client(headers=headers) as client:
        paths = save_images(
            images({"url": host.url("/file/.png/image.jpeg")}),
            tmp_path,
            http_client=client,
            allowed_hosts=ALLOW,
        )
        assert not client.is_closed  # the caller's client is left open
    assert paths == [tmp_path / "image-0.png"]
    assert host.authorization_headers == []
    assert all("openai-organization" not in h for _, h in host.requests)


def test_follows_redirects_to_http(host: FileHost, tmp_path: pathlib.Path) -> None:
    paths = save_images(
        images({"url": host.url("/redirect/file/.gif/image.jpeg")}), tmp_path, allowed_hosts=ALLOW
    )
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
        save_images(response, tmp_path, max_bytes=1024 * 1024, allowed_hosts=ALLOW)
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
        save_images(response, tmp_path, timeout=0.3, allowed_hosts=ALLOW)
    assert caught.value.indexes == [0]
    assert caught.value.paths == [None, tmp_path / "image-1.png"]
    assert "127.0.0.1" in str(caught.value)
    assert "timed out" in str(caught.value)


def test_connection_refused_names_the_host(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(
            images({"url": "http://127.0.0.1:9/image.jpeg"}),
            tmp_path,
            timeout=2,
            allowed_hosts=ALLOW,
        )
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
    paths = await asave_images(response, tmp_path, prefix="a", allowed_hosts=ALLOW)
    assert [p.name for p in paths] == ["a-0.webp", "a-1.gif", "a-2.mp3"]
    assert [p.read_bytes() for p in paths] == [WEBP, GIF, MP3]
    assert host.authorization_headers == []


async def test_async_downloads_overlap(host: FileHost, tmp_path: pathlib.Path) -> None:
    # Each request waits at the barrier until all four are in flight: a sequential
    # download would break the barrier and get a 500.
    host.barrier = threading.Barrier(4, timeout=5)
    response = images(*({"url": host.url(f"/together/{i}/image.jpeg")} for i in range(4)))
    paths = await asave_images(response, tmp_path, concurrency=8, allowed_hosts=ALLOW)
    assert [p.name for p in paths] == [f"image-{i}.png" for i in range(4)]
    assert host.max_in_flight == 4


async def test_async_concurrency_is_bounded(host: FileHost, tmp_path: pathlib.Path) -> None:
    host.barrier = threading.Barrier(2, timeout=5)
    response = images(*({"url": host.url(f"/together/{i}/image.jpeg")} for i in range(6)))
    paths = await asave_images(response, tmp_path, concurrency=2, allowed_hosts=ALLOW)
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
        await asave_images(response, tmp_path, timeout=0.3, allowed_hosts=ALLOW)
    assert caught.value.indexes == [0, 2, 3]
    assert caught.value.paths == [None, tmp_path / "image-1.png", None, None]
    assert "timed out" in str(caught.value) and "503" in str(caught.value)


async def test_async_credentials_on_a_given_client_are_not_sent(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-air-secret"}) as client:
        paths = await asave_images(
            images({"url": host.url("/file/.jpg/image.jpeg")}),
            tmp_path,
            http_client=client,
            allowed_hosts=ALLOW,
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


# --- Where downloads may go: public addresses, the gateway's host, allowed hosts ----------------

# (url, what the refusal says); {port} is the loopback file host's, which must see no request.
PRIVATE_URLS = [
    ("http://127.0.0.1:{port}/file/.png/image.jpeg", "127.0.0.1 is a loopback address"),
    ("http://localhost:{port}/file/.png/image.jpeg", "localhost resolves to "),
    ("http://LocalHost:{port}/file/.png/image.jpeg", "localhost resolves to "),
    ("http://[::1]:{port}/file/.png/image.jpeg", "::1 is a loopback address"),
    ("http://0.0.0.0:{port}/file/.png/image.jpeg", "0.0.0.0 is an unspecified address"),
    ("http://[::ffff:127.0.0.1]:{port}/x", "::ffff:127.0.0.1 is a loopback address"),
    ("http://2130706433:{port}/x", "2130706433 resolves to 127.0.0.1, a loopback address"),
    ("http://127.1:{port}/x", "127.1 resolves to 127.0.0.1, a loopback address"),
    ("http://10.1.2.3/image.jpeg", "10.1.2.3 is a private address"),
    ("http://172.16.5.4/image.jpeg", "172.16.5.4 is a private address"),
    ("https://192.168.0.1/image.jpeg", "192.168.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[fd00::1]/image.jpeg", "fd00::1 is a private address"),
    ("http://[fe80::1]/image.jpeg", "fe80::1 is a link-local address"),
    ("http://100.64.0.1/image.jpeg", "100.64.0.1 is a non-public address"),
    ("http://224.0.0.1/image.jpeg", "224.0.0.1 is a multicast address"),
]


def _private(host: FileHost) -> list[tuple[str, str]]:
    port = host.base_url.rsplit(":", 1)[1]
    return [(url.format(port=port), expected) for url, expected in PRIVATE_URLS]


@pytest.mark.parametrize("index", range(len(PRIVATE_URLS)), ids=[u for u, _ in PRIVATE_URLS])
def test_private_addresses_are_refused(host: FileHost, tmp_path: pathlib.Path, index: int) -> None:
    url, expected = _private(host)[index]
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(images({"url": url}), tmp_path, timeout=2)
    assert caught.value.indexes == [0]
    message = str(caught.value)
    assert "item 0: download from " in message
    assert expected in message
    assert "allowed_hosts" in message
    assert host.requests == []  # refused before connecting
    assert list(tmp_path.iterdir()) == []


async def test_async_private_addresses_are_refused(host: FileHost, tmp_path: pathlib.Path) -> None:
    cases = _private(host)
    response = images(*({"url": url} for url, _ in cases))
    with pytest.raises(ImageUnavailableError) as caught:
        await asave_images(response, tmp_path, timeout=2)
    assert caught.value.indexes == list(range(len(cases)))
    lines = str(caught.value).splitlines()[1:]
    for line, (_, expected) in zip(lines, cases, strict=True):
        assert expected in line
    assert host.requests == []


@pytest.mark.parametrize(
    "allowed", [["127.0.0.1"], ["LOCALHOST.", "127.0.0.1"], ("[::1]", "127.0.0.1")]
)
def test_allowed_hosts_are_reached_whatever_their_address(
    host: FileHost, tmp_path: pathlib.Path, allowed: list[str]
) -> None:
    paths = save_images(
        images({"url": host.url("/file/.png/image.jpeg")}), tmp_path, allowed_hosts=allowed
    )
    assert [p.read_bytes() for p in paths] == [PNG]


@pytest.mark.parametrize(
    ("allowed", "error", "match"),
    [
        ("127.0.0.1", TypeError, r"allowed_hosts must be a list of host names, got str"),
        (None, TypeError, r"allowed_hosts must be a list"),
        ([b"127.0.0.1"], TypeError, r"allowed_hosts\[0\] must be a host name \(str\), got bytes"),
        (["http://127.0.0.1"], ValueError, r"allowed_hosts\[0\] .* got 'http://127\.0\.0\.1'"),
        (["ok.example", "127.0.0.1:8080"], ValueError, r"allowed_hosts\[1\] .*without .*port"),
        ([""], ValueError, r"allowed_hosts\[0\] must be a host name"),
    ],
)
async def test_allowed_hosts_must_be_host_names(
    tmp_path: pathlib.Path, allowed: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        save_images({"data": []}, tmp_path, allowed_hosts=allowed)
    with pytest.raises(error, match=match):
        await asave_images({"data": []}, tmp_path, allowed_hosts=allowed)


async def test_an_unknown_host_name_is_refused(tmp_path: pathlib.Path) -> None:
    response = images({"url": "http://no-such-host.invalid/image.jpeg"})
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(response, tmp_path, timeout=2)
    with pytest.raises(ImageUnavailableError) as acaught:
        await asave_images(response, tmp_path, timeout=2)
    for message in (str(caught.value), str(acaught.value)):
        assert "item 0: download from no-such-host.invalid failed: " in message
        # Whichever the resolver does first: give up, or run out of time.
        assert (
            "cannot look up no-such-host.invalid" in message
            or "looking up no-such-host.invalid timed out" in message
        )


# Where the loopback file host (trusted by ALLOW) sends a download next.
REDIRECTS = [
    ("http://localhost:{port}/file/.png/image.jpeg", "redirected to localhost: localhost resolves"),
    ("http://[::1]:{port}/file/.png/image.jpeg", "redirected to ::1: ::1 is a loopback address"),
    ("http://10.0.0.7/image.jpeg", "redirected to 10.0.0.7: 10.0.0.7 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://0.0.0.0:{port}/image.jpeg", "0.0.0.0 is an unspecified address"),
    ("file:///etc/passwd", "redirected to a 'file' URL"),
    # Older httpx lines refuse to parse this Location at all.
    ("javascript:alert(1)", "redirected to a 'javascript' URL | redirected to an invalid URL"),
    ("ftp://files.example/image.jpeg", "redirected to a 'ftp' URL"),
    ("gopher://files.example/image.jpeg", "redirected to a 'gopher' URL"),
]


def _redirects(host: FileHost) -> list[tuple[str, str]]:
    port = host.base_url.rsplit(":", 1)[1]
    return [
        (host.url("/to?" + urllib.parse.quote(target.format(port=port), safe="")), expected)
        for target, expected in REDIRECTS
    ]


def test_every_redirect_is_checked_like_the_first_url(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    cases = _redirects(host)
    response = images(*({"url": url} for url, _ in cases))
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(response, tmp_path, timeout=2, allowed_hosts=ALLOW)
    assert caught.value.indexes == list(range(len(cases)))
    for line, (_, expected) in zip(str(caught.value).splitlines()[1:], cases, strict=True):
        assert "download from 127.0.0.1 failed: " in line
        assert any(e in line for e in expected.split(" | ")), line
    # Each redirect was asked for once; none of its targets was ever reached.
    assert [path.split("?")[0] for path, _ in host.requests] == ["/to"] * len(cases)
    assert list(tmp_path.iterdir()) == []


async def test_async_every_redirect_is_checked_like_the_first_url(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    cases = _redirects(host)
    response = images(*({"url": url} for url, _ in cases))
    with pytest.raises(ImageUnavailableError) as caught:
        await asave_images(response, tmp_path, timeout=2, allowed_hosts=ALLOW)
    assert caught.value.indexes == list(range(len(cases)))
    for line, (_, expected) in zip(str(caught.value).splitlines()[1:], cases, strict=True):
        assert any(e in line for e in expected.split(" | ")), line
    assert [path.split("?")[0] for path, _ in host.requests] == ["/to"] * len(cases)


def test_a_trusted_gateway_host_does_not_vouch_for_where_it_redirects(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    port = host.base_url.rsplit(":", 1)[1]
    onward = urllib.parse.quote(f"http://localhost:{port}/file/.png/image.jpeg", safe="")
    response = images({"url": host.url(f"/to?{onward}")}, {"url": host.url("/file/.gif/x")})
    record_gateway_host(response, "http://127.0.0.1:1/v1")  # the gateway, on another port
    with pytest.raises(ImageUnavailableError) as caught:
        save_images(response, tmp_path, timeout=2)
    assert caught.value.indexes == [0]
    assert "redirected to localhost: localhost resolves to" in str(caught.value)
    assert caught.value.saved == [tmp_path / "image-1.gif"]


@pytest.mark.parametrize(
    ("path", "expected", "requests"),
    [
        ("/loop/image.jpeg", "the redirects loop back to", 1),
        ("/ping/image.jpeg", "the redirects loop back to", 2),
        ("/chain/0/image.jpeg", "more than 10 redirects", 11),
    ],
)
async def test_redirect_loops_end(
    host: FileHost, tmp_path: pathlib.Path, path: str, expected: str, requests: int
) -> None:
    response = images({"url": host.url(path)})
    with pytest.raises(ImageUnavailableError, match=expected):
        save_images(response, tmp_path / "sync", allowed_hosts=ALLOW)
    with pytest.raises(ImageUnavailableError, match=expected):
        await asave_images(response, tmp_path / "async", allowed_hosts=ALLOW)
    assert len(host.requests) == 2 * requests


def test_the_route_decides_each_hop_and_the_drivers_only_send() -> None:
    source = _Download(httpx.URL("https://files.test/a/image.jpeg"))
    route = _Route(source, trusted=frozenset({"files.test"}), timeout=5, max_bytes=10)
    (request,) = route.requests()  # a trusted host: one request, by its name, no look-up
    assert request.url == source.url and "sni_hostname" not in request.extensions

    def answer(status: int, **headers: str) -> httpx.Response:
        return httpx.Response(status, headers=headers, request=request)

    for hop in range(MAX_REDIRECTS):
        assert route.follow(answer(302, location=f"/hop/{hop}")) is True
    assert route.url == httpx.URL(f"https://files.test/hop/{MAX_REDIRECTS - 1}")
    with pytest.raises(_ItemFailed, match=re.escape("loop back to 'https://files.test/hop/3'")):
        route.follow(answer(302, location="/hop/3"))
    with pytest.raises(_ItemFailed, match=f"more than {MAX_REDIRECTS} redirects"):
        route.follow(answer(302, location="/one/more"))
    assert route.follow(answer(200, **{"content-length": "10"})) is False
    with pytest.raises(_ItemFailed, match="11 bytes, more than max_bytes=10"):
        route.follow(answer(200, **{"content-length": "11"}))
    with (
        pytest.raises(_ItemFailed, match=r"^download from files\.test failed: HTTP 404"),
        route.failures(),
    ):
        route.follow(answer(404))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///etc/passwd", "url is a 'file' URL ('file:///etc/passwd')"),
        ("ftp://files.example/image.jpeg", "url is a 'ftp' URL"),
        ("javascript:alert(document.cookie)", "url is a 'javascript' URL"),
        ("ws://files.example/image.jpeg", "url is a 'ws' URL"),
        ("about:blank", "url is a 'about' URL"),
        ("//files.example/image.jpeg", "url is a URL without a scheme"),
        ("/files/image.jpeg", "url is a URL without a scheme"),
        ("http:///image.jpeg", "url 'http:///image.jpeg' has no host"),
        ("http://[::1/image.jpeg", "url 'http://[::1/image.jpeg' is not a valid URL"),
    ],
)
async def test_only_http_and_https_urls_are_downloaded(
    tmp_path: pathlib.Path, url: str, expected: str
) -> None:
    response = images({"url": url}, {"b64_json": b64(PNG)})
    for call in (save_images, asave_images):
        with pytest.raises(ImageUnavailableError) as caught:
            result = call(response, tmp_path / call.__name__)
            if not isinstance(result, list):
                await result
        assert caught.value.indexes == [0]
        assert f"item 0: {expected}" in str(caught.value)
        assert caught.value.saved == [tmp_path / call.__name__ / "image-1.png"]


# --- What a download carries: our headers only -------------------------------------------------

_CALLER_SETTINGS: dict[str, Any] = {
    "headers": {
        "Authorization": "Bearer sk-air-secret",
        "X-Api-Key": "sk-air-secret",
        "Cookie": "session=secret",
        "OpenAI-Organization": "org-secret",
    },
    "cookies": {"jar": "secret"},
    "params": {"api_key": "secret"},
    "auth": ("user", "secret"),
    "follow_redirects": True,
}


def _assert_no_caller_credentials(host: FileHost) -> None:
    assert host.requests
    for path, headers in host.requests:
        assert "?" not in path or path.startswith("/to?")
        assert "secret" not in path
        assert set(headers) == {"host", "user-agent", "accept"}, headers
        assert headers["user-agent"].startswith("airforce-openai/")


def test_a_given_client_lends_its_transport_not_its_credentials(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    response = images(
        {"url": host.url("/redirect/file/.png/image.jpeg")},
        {"url": host.url("/file/.webp/image.jpeg")},
    )
    with httpx.Client(**_CALLER_SETTINGS) as client:
        paths = save_images(response, tmp_path, http_client=client, allowed_hosts=ALLOW)
        assert not client.is_closed
    assert [p.read_bytes() for p in paths] == [PNG, WEBP]
    assert len(host.requests) == 3  # the redirect was followed by hand, not by the client
    _assert_no_caller_credentials(host)


async def test_async_a_given_client_lends_its_transport_not_its_credentials(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    response = images(
        {"url": host.url("/redirect/file/.png/image.jpeg")},
        {"url": host.url("/file/.webp/image.jpeg")},
    )
    async with httpx.AsyncClient(**_CALLER_SETTINGS) as client:
        paths = await asave_images(response, tmp_path, http_client=client, allowed_hosts=ALLOW)
        assert not client.is_closed
    assert [p.read_bytes() for p in paths] == [PNG, WEBP]
    assert len(host.requests) == 3
    _assert_no_caller_credentials(host)


def test_a_download_connects_to_the_checked_address_and_names_the_host(host: FileHost) -> None:
    # The request a checked public name gets: sent to its address, Host and SNI naming it.
    port = host.base_url.rsplit(":", 1)[1]
    url = httpx.URL(f"http://localhost:{port}/file/.png/image.jpeg")
    with httpx.Client() as client:
        answer = client.send(_hop_request(url, "127.0.0.1", 5.0))
    assert answer.content == PNG
    ((path, headers),) = host.requests
    assert path == "/file/.png/image.jpeg"
    assert headers["host"] == f"localhost:{port}"
    secure = _hop_request(httpx.URL("https://files.example/a.png"), "93.184.215.14", 5.0)
    assert str(secure.url) == "https://93.184.215.14/a.png"
    assert secure.headers["host"] == "files.example"
    assert secure.extensions["sni_hostname"] == "files.example"


# --- Size limits: downloads, data: URLs and b64_json ----------------------------------------------


def test_a_huge_download_is_cut_off_with_bounded_memory(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ImageUnavailableError) as caught:
            save_images(
                images({"url": host.url("/huge/image.jpeg")}),
                tmp_path,
                max_bytes=2 * 1024 * 1024,
                allowed_hosts=ALLOW,
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than max_bytes=2097152 (stopped reading)" in str(caught.value)
    assert peak < 8 * 1024 * 1024  # of the 256 MiB on offer
    assert list(tmp_path.iterdir()) == []


async def test_async_a_huge_download_is_cut_off_with_bounded_memory(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ImageUnavailableError) as caught:
            await asave_images(
                images({"url": host.url("/huge/image.jpeg")}),
                tmp_path,
                max_bytes=2 * 1024 * 1024,
                allowed_hosts=ALLOW,
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than max_bytes=2097152 (stopped reading)" in str(caught.value)
    assert peak < 8 * 1024 * 1024


_SIX_MIB_OF_BASE64 = "A" * (8 * 1024 * 1024)  # decodes to 6 MiB


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"b64_json": _SIX_MIB_OF_BASE64}, "item 0: b64_json holds 6291456 bytes"),
        (
            {"b64_json": "\n".join([_SIX_MIB_OF_BASE64[:4096]] * 2048)},
            "item 0: b64_json holds 6291456 bytes",
        ),
        (
            {"url": f"data:image/png;base64,{_SIX_MIB_OF_BASE64}"},
            "item 0: the data: URL holds 6291456 bytes",
        ),
        ({"url": "data:image/gif," + "%00" * (3 * 1024 * 1024)}, "the data: URL holds at least"),
        ({"url": "data:image/gif," + "a" * (6 * 1024 * 1024)}, "the data: URL holds 6291456"),
        (
            {"b64_json": f"data:image/png;base64,{_SIX_MIB_OF_BASE64}"},
            "item 0: the data: URL holds 6291456 bytes",
        ),
    ],
    ids=[
        "b64_json",
        "b64_json-wrapped",
        "data-url",
        "data-url-escaped",
        "data-url-raw",
        "b64-data",
    ],
)
async def test_inline_items_over_max_bytes_are_refused_without_decoding(
    tmp_path: pathlib.Path, item: dict[str, str], expected: str
) -> None:
    response = {"data": [item]}
    tracemalloc.start()
    try:
        with pytest.raises(ImageUnavailableError) as caught:
            save_images(response, tmp_path, max_bytes=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert expected in str(caught.value)
    assert "more than max_bytes=1048576 (not decoded)" in str(caught.value)
    assert peak < 1024 * 1024  # the 6 MiB it stands for were never decoded
    with pytest.raises(ImageUnavailableError, match=re.escape(expected)):
        await asave_images(response, tmp_path, max_bytes=1024 * 1024)
    assert list(tmp_path.iterdir()) == []


def test_an_item_at_max_bytes_is_saved(tmp_path: pathlib.Path) -> None:
    exact = PNG + bytes(1024 - len(PNG))
    response = {"data": [{"b64_json": b64(exact)}, {"url": f"data:image/png;base64,{b64(exact)}"}]}
    paths = save_images(response, tmp_path, max_bytes=1024)
    assert [p.read_bytes() for p in paths] == [exact, exact]
    with pytest.raises(ImageUnavailableError, match="1025 bytes, more than max_bytes=1024"):
        save_images({"data": [{"b64_json": b64(exact + b"!")}]}, tmp_path, max_bytes=1024)


# --- Content that is not media ---------------------------------------------------------------


async def test_content_that_is_not_media_is_not_saved(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    response = images(
        {"b64_json": b64(HTML)},
        {"url": host.url("/html/image.jpeg")},
        {"url": "data:text/plain,hello%20there"},
        {"url": f"data:text/html;base64,{b64(HTML)}"},
        {"b64_json": b64(b"\x00" * 100)},
        {"b64_json": b64(GIF)},
    )
    for call in (save_images, asave_images):
        folder = tmp_path / call.__name__
        with pytest.raises(ImageUnavailableError) as caught:
            result = call(response, folder, allowed_hosts=ALLOW)
            if not isinstance(result, list):
                await result
        assert caught.value.indexes == [0, 1, 2, 3, 4]
        lines = str(caught.value).splitlines()[1:]
        assert all("not a recognised image, audio or video file" in line for line in lines)
        assert "starts with b'<!DOCTYPE html><'" in lines[0]
        assert "download from 127.0.0.1 failed" in lines[1]
        assert "starts with b'hello there'" in lines[2]
        assert [p.name for p in folder.iterdir()] == ["image-5.gif"]


# --- The gateway's own host, learnt from the response -------------------------------------------


def test_files_on_the_gateway_host_are_saved_whatever_the_port(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    import airforce_openai as af
    from airforce_openai.testing import Emulator

    with Emulator() as emu:
        with af.OpenAI(api_key=emu.api_key, base_url=emu.base_url, max_retries=0) as client:
            response = client.images.generate(model="flux-2-dev", prompt="a fox", n=2)
        assert gateway_host_of(response) == "127.0.0.1"
        # A file host on another port of the gateway's host counts as the gateway.
        (response.data or [])[1].url = host.url("/file/.webp/image.jpeg")
        # Saved once the client is closed, from a copy and from a pickled copy.
        assert [p.suffix for p in save_images(response, tmp_path / "a")] == [".png", ".webp"]
        assert len(save_images(copy.deepcopy(response), tmp_path / "b")) == 2
        assert len(save_images(pickle.loads(pickle.dumps(response)), tmp_path / "c")) == 2
        # The record is no field: it is in no dump, and a rebuilt response has none.
        assert "127.0.0.1" not in json.dumps(response.model_dump(exclude={"data"}))
        assert "_airforce" not in response.model_dump_json()
        rebuilt = ImagesResponse.model_validate(response.model_dump())
        assert gateway_host_of(rebuilt) is None
        with pytest.raises(ImageUnavailableError) as caught:
            save_images(rebuilt, tmp_path / "d")
    assert caught.value.indexes == [0, 1]
    assert "127.0.0.1 is a loopback address" in str(caught.value)


async def test_async_files_on_the_gateway_host_are_saved(
    host: FileHost, tmp_path: pathlib.Path
) -> None:
    import airforce_openai as af
    from airforce_openai.testing import Emulator

    with Emulator() as emu:
        async with af.AsyncOpenAI(api_key=emu.api_key, base_url=emu.base_url) as client:
            response = await client.images.generate(model="flux-2-dev", prompt="a fox", n=2)
            raw = await client.images.with_raw_response.generate(model="flux-2-dev", prompt="x")
            parsed = raw.parse()
        (response.data or [])[1].url = host.url("/file/.gif/image.jpeg")
        paths = await asave_images(response, tmp_path)
        assert gateway_host_of(parsed) == "127.0.0.1"
        assert len(await asave_images(parsed, tmp_path / "raw")) == 1
        with pytest.raises(ImageUnavailableError, match="loopback"):
            await asave_images(response.model_dump(), tmp_path / "dict")
    assert [p.suffix for p in paths] == [".png", ".gif"]


def test_hand_built_responses_have_no_gateway_host() -> None:
    assert gateway_host_of(images({"url": "https://x.example/a.png"})) is None
    assert gateway_host_of({"data": []}) is None
    assert gateway_host_of(SimpleNamespace(data=[])) is None
    as_dict: dict[str, Any] = {"data": []}
    record_gateway_host(as_dict, "http://127.0.0.1:1/v1")  # a dict takes no record
    assert as_dict == {"data": []}
    response = images()
    record_gateway_host(response, "https://API.Airforce/v1")
    assert gateway_host_of(response) == "api.airforce"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:93.184.215.14", None),
        ("64:ff9b::5db8:d70e", None),  # NAT64 for a public IPv4 address
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.31.255.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fdff::1", "private"),
        ("169.254.0.1", "link-local"),
        ("fe80::1%2", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("not an address", "unrecognised"),
    ],
)
def test_address_problem(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem
