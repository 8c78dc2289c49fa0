"""What the emulator's tests send and how they read the answers, raw: HTTP, images, streams;
and how they run the emulator command.

    response = generate(http, fault="status:429", n=2)  # POST /v1/images/generations
    assert error_of(response)["code"] == "rate_limit_exceeded"

The fixtures they run on (``emu``, ``http``, ``sdk``) are in ``_gateway_plugin``.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from airforce_openai.testing import httpx
from airforce_openai.testing._faults import FAULT_HEADER

T = TypeVar("T")

TINY_PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhg"
    "GAWjR9awAAAABJRU5ErkJggg=="
)
PROVIDER_FAILED = "Image generation failed, provider returned status 503"
REQUIRED_MODELS = {
    "flux-2-klein-4b",
    "flux-2-klein-9b",
    "flux-2-dev",
    "nano-banana-2",
    "nano-banana-2-search",
    "nano-banana-pro",
    "suno-v4.5",
    "suno-v5",
    "gpt-4o-mini",
    "wan-2.2",
}


def generate(
    http: httpx.Client, fault: str | None = None, timeout: float = 10, **body: Any
) -> httpx.Response:
    body.setdefault("model", "flux-2-klein-4b")
    body.setdefault("prompt", "a sea otter")
    headers = {FAULT_HEADER: fault} if fault is not None else {}
    return http.post("/images/generations", json=body, headers=headers, timeout=timeout)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:3] == b"\xff\xd8\xff", data[:3]
    offset = 2
    while data[offset + 1] != 0xC0:
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        offset += 2 + length
    height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
    return width, height


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    error: dict[str, Any] = body["error"]
    return error


def data_events(text: str) -> list[str]:
    """The data of each event in a stream, in order (comments and event names dropped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].strip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            events.append("\n".join(data))
    return events


@contextlib.contextmanager
def serving(
    command: list[str], **popen: Any
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """The emulator ``command`` running in a subprocess, and the variables its ``export`` lines
    set; killed if it still runs when the block ends."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell may start background jobs with Ctrl-C ignored; give the server the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **popen,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    exports: dict[str, str] = {}
    try:
        for _ in range(10):
            line = lines.get(timeout=30)
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                exports[name] = value.strip()
            if len(exports) == 2:  # AIRFORCE_BASE_URL and AIRFORCE_API_KEY
                break
        yield process, exports
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def port_in_use() -> Iterator[int]:
    """A loopback port that something listens on until the block ends."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


def within(seconds: float, call: Callable[[], T]) -> T | None:
    """What ``call()`` returns, or None if it still runs after ``seconds``: it runs in a daemon
    thread, so that a server that wrongly starts cannot hang the suite."""
    results: list[T] = []
    runner = threading.Thread(target=lambda: results.append(call()), daemon=True)
    runner.start()
    runner.join(seconds)
    return results[0] if results else None
