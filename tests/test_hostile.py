"""A hostile gateway: answers built to break a client, sent through the real SDK path.

Each case is one answer to ``POST /v1/images/generations`` from a tiny loopback server
that writes raw bytes. Every case checks the error class the caller gets, how many
requests the server received (a generation that went out is never re-sent), and, where
memory is the point, the peak of what the call allocated.
"""

from __future__ import annotations

import gzip
import json
import socket
import socketserver
import ssl
import threading
import time
import tracemalloc
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import openai
import pytest

import airforce_openai as af
from airforce_openai._compat import SENDS_WITH_HTTPX2
from airforce_openai.testing import httpx as sdk_httpx

KEY = "sk-air-hostile-0123456789abcdef"
MIB = 1024 * 1024
# A piece of an answer: bytes to write, or seconds to wait before the next piece.
Piece = bytes | float
Script = Callable[["Received"], Sequence[Piece]]


@dataclass(frozen=True)
class Received:
    """One request as the hostile server read it."""

    method: str
    path: str
    body: bytes


class HostileGateway:
    """A loopback HTTP/1.1 server that answers each request with a scripted list of pieces.

    Every answer closes its connection. ``received`` lists what arrived, in order.
    """

    def __init__(self, script: Script) -> None:
        self.received: list[Received] = []
        self.stopping = threading.Event()
        gateway = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(5)
                request = _read_request(sock)
                if request is None:
                    return
                gateway.received.append(request)
                try:
                    for piece in script(request):
                        if isinstance(piece, float):
                            if gateway.stopping.wait(piece):
                                return
                        else:
                            sock.sendall(piece)
                except OSError:
                    pass  # the client hung up: that is its right

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> HostileGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def posts(self) -> int:
        return sum(1 for r in self.received if r.method == "POST")


def _read_request(sock: socket.socket) -> Received | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Received(method, path, body)


def answer(
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: Sequence[tuple[str, str]] = (),
    length: bool = True,
) -> list[Piece]:
    """The bytes of one HTTP answer; without ``length`` the body ends with the connection."""
    lines = [f"HTTP/1.1 {status} Whatever", f"Content-Type: {content_type}", "Connection: close"]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers]
    return [("\r\n".join(lines) + "\r\n\r\n").encode(), body]


RESULT = json.dumps({"created": 1, "data": [{"url": "https://files.example/image.jpeg"}]}).encode()


def inflating(size: int, wbits: int) -> bytes:
    """``size`` zero bytes compressed with ``wbits`` (31: gzip, 15: zlib, -15: raw deflate)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(MIB)
    return b"".join(packer.compress(block) for _ in range(size // MIB)) + packer.flush()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """64 MiB of zeros as gzip: about 64 KiB on the wire."""
    return inflating(64 * MIB, 31)


def client(gateway: HostileGateway, **kwargs: Any) -> af.OpenAI:
    kwargs.setdefault("max_retries", 2)
    kwargs.setdefault("validation", "off")
    kwargs.setdefault("timeout", 5.0)
    return af.OpenAI(api_key=KEY, base_url=gateway.base_url, **kwargs)


def aclient(gateway: HostileGateway, **kwargs: Any) -> af.AsyncOpenAI:
    kwargs.setdefault("max_retries", 2)
    kwargs.setdefault("validation", "off")
    kwargs.setdefault("timeout", 5.0)
    return af.AsyncOpenAI(api_key=KEY, base_url=gateway.base_url, **kwargs)


def generate(gateway: HostileGateway, extra_body: Any = None, **kwargs: Any) -> Any:
    with client(gateway, **kwargs) as c:
        return c.images.generate(model="flux-2-dev", prompt="x", extra_body=extra_body)


async def agenerate(gateway: HostileGateway, extra_body: Any = None, **kwargs: Any) -> Any:
    async with aclient(gateway, **kwargs) as c:
        return await c.images.generate(model="flux-2-dev", prompt="x", extra_body=extra_body)


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Run one generation against a gateway, with the sync or the async client."""
    if request.param == "sync":
        yield generate
        return
    import asyncio

    def run(gateway: HostileGateway, extra_body: Any = None, **kwargs: Any) -> Any:
        return asyncio.run(agenerate(gateway, extra_body, **kwargs))

    yield run


# ---------------------------------------------------------------------------
# 200 answers that are not a result: an unknown outcome, never re-sent


def _sse(data: bytes) -> list[Piece]:
    return answer(200, b"data: " + data + b"\n\ndata: [DONE]\n\n", content_type="text/event-stream")


NOT_A_RESULT: dict[str, tuple[list[Piece], str]] = {
    "html": (
        answer(200, b"<html><body>Bad gateway</body></html>", content_type="text/html"),
        "not JSON",
    ),
    "truncated-json": (answer(200, RESULT[:-5]), "not JSON"),
    "empty": (answer(200, b""), "empty"),
    "invalid-utf8": (answer(200, b'{"data": [{"url": "\xff\xfe\xfd"}]}'), "UTF-8"),
    "utf8-overlong": (answer(200, b'{"data": [{"url": "\xc0\xaf"}]}'), "UTF-8"),
    "nested-list": (answer(200, b"[" * 200_000 + b"]" * 200_000), "nested too deeply"),
    "nested-object": (
        answer(200, b'{"data": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001),
        "nested too deeply",
    ),
    "json-list": (answer(200, b"[]"), "JSON array"),
    "json-null": (answer(200, b"null"), "JSON null"),
    "json-number": (answer(200, b"1e999"), "JSON number"),
    "json-string": (answer(200, b'"ok"'), "JSON string"),
    "json-nan": (answer(200, b"NaN"), "JSON number"),
    "no-data": (answer(200, b'{"created": 1}'), "without data"),
    "null-data": (answer(200, b'{"created": 1, "data": null, "error": null}'), "without data"),
    "string-data": (answer(200, b'{"data": "https://files.example/image.jpeg"}'), "not a list"),
    "list-of-numbers": (answer(200, b'{"data": [1, 2, 3]}'), "other than objects"),
    "large-no-data": (answer(200, json.dumps({"note": "x" * 200_000}).encode()), "without data"),
    "204": (answer(204, b""), "empty"),
    "sse-nested": (_sse(b"[" * 200_000 + b"]" * 200_000), "without a result"),
    "sse-invalid-utf8": (_sse(b'{"data": [{"url": "\xff"}]}'), "without a result"),
    "sse-large-invalid-utf8": (
        _sse(b'{"data": [{"b64_json": "' + b"\xff" * 100_000 + b'"}]}'),
        "not valid UTF-8",
    ),
    "sse-large-structurally-balanced-garbage": (
        _sse(b'{"data": [1 2 3], "pad": "' + b"A" * 100_000 + b'"}'),
        "not JSON",
    ),
}


@pytest.mark.parametrize("case", NOT_A_RESULT, ids=list(NOT_A_RESULT))
def test_a_200_that_is_not_a_result_is_an_unknown_outcome(
    case: str, call: Callable[..., Any]
) -> None:
    pieces, reason = NOT_A_RESULT[case]
    sse = af.image_params(sse=True) if case.startswith("sse") else None
    with (
        HostileGateway(lambda r: pieces) as gateway,
        pytest.raises(af.OutcomeUnknownError, match="billed") as info,
    ):
        call(gateway, sse)
    assert reason in str(info.value)
    assert not isinstance(info.value.__cause__, (RecursionError, UnicodeDecodeError))
    assert gateway.posts == 1


@pytest.mark.parametrize("path", ["plain", "raw", "streaming"])
def test_not_a_result_through_every_call_path(path: str) -> None:
    with (
        HostileGateway(lambda r: answer(200, b"[1, 2]")) as gateway,
        client(gateway) as c,
        pytest.raises(af.OutcomeUnknownError),
    ):
        if path == "plain":
            c.images.generate(model="m", prompt="x")
        elif path == "raw":
            c.images.with_raw_response.generate(model="m", prompt="x")
        else:
            with c.images.with_streaming_response.generate(model="m", prompt="x") as s:
                s.parse()
    assert gateway.posts == 1


# ---------------------------------------------------------------------------
# Errors inside 200s, whatever their size


def _padded_error(message: str) -> bytes:
    return json.dumps({"error": message, "detail": "x" * (128 * 1024)}).encode()


@pytest.mark.parametrize(
    ("body", "error", "posts"),
    [
        (_padded_error("Insufficient balance: add credits to continue"), openai.APIStatusError, 1),
        (_padded_error("Model not found"), openai.NotFoundError, 1),
        (_padded_error("Rate limit exceeded"), openai.RateLimitError, 3),
        (_padded_error("provider returned status 503"), openai.InternalServerError, 3),
    ],
    ids=["402", "404", "429", "503"],
)
def test_a_large_error_inside_a_200_is_an_error(
    body: bytes, error: type[openai.APIStatusError], posts: int, call: Callable[..., Any]
) -> None:
    script = answer(200, body, headers=[("Retry-After", "0")])
    with HostileGateway(lambda r: script) as gateway, pytest.raises(error):
        call(gateway)
    assert gateway.posts == posts  # 429 and 5xx are refusals: retried (max_retries=2)


def test_an_error_with_a_deeply_nested_body_is_a_status_error(call: Callable[..., Any]) -> None:
    nested = b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with (
        HostileGateway(lambda r: answer(500, nested)) as gateway,
        pytest.raises(openai.InternalServerError),
    ):
        call(gateway, max_retries=0)
    assert gateway.posts == 1


def test_an_error_with_invalid_utf8_is_a_status_error(call: Callable[..., Any]) -> None:
    with (
        HostileGateway(lambda r: answer(400, b"\xff\xfe bad \xc0")) as gateway,
        pytest.raises(openai.BadRequestError),
    ):
        call(gateway)
    assert gateway.posts == 1


# ---------------------------------------------------------------------------
# retry_after that is no delay at all


ABSURD_RETRY_AFTER = [
    (b'{"error": "slow down", "retry_after": 1e306}', []),
    (b'{"error": "slow down", "retry_after": -5}', []),
    (b'{"error": "slow down", "retry_after": NaN}', []),
    (b'{"error": "slow down", "retry_after": Infinity}', []),
    (b'{"error": "slow down", "retry_after": "later"}', []),
    (b'{"error": {"message": "slow down", "retry_after": 1e400}}', []),
    (b'{"error": "slow down"}', [("Retry-After", "Mon, 01 Jan 99999 00:00:00 GMT")]),
    (b'{"error": "slow down"}', [("Retry-After", "nan")]),
    (b'{"error": "slow down"}', [("Retry-After-Ms", "-1e306")]),
]


@pytest.mark.parametrize(("body", "headers"), ABSURD_RETRY_AFTER)
def test_an_absurd_retry_after_never_breaks_the_retry(
    body: bytes, headers: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []
    monkeypatch.setattr("time.sleep", delays.append)
    script = answer(429, body, headers=headers)
    with HostileGateway(lambda r: script) as gateway, pytest.raises(openai.RateLimitError):
        generate(gateway, max_retries=1)
    # One retry after the SDK's own short backoff; openai 3.x may rather give up at once.
    assert gateway.posts == 1 + len(delays)
    assert all(0 <= delay <= 8 for delay in delays), delays


@pytest.mark.parametrize(("body", "headers"), ABSURD_RETRY_AFTER[:1] + ABSURD_RETRY_AFTER[-3:-2])
async def test_an_absurd_retry_after_never_breaks_the_retry_async(
    body: bytes, headers: list[tuple[str, str]]
) -> None:
    script = answer(429, body, headers=headers)
    with HostileGateway(lambda r: script) as gateway, pytest.raises(openai.RateLimitError):
        await agenerate(gateway, max_retries=1)
    assert gateway.posts in (1, 2)


# ---------------------------------------------------------------------------
# Answers too large to hold: read within max_answer_bytes, never re-sent


def _peak_of(run: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        run()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _chunked(body: bytes, size: int = 64 * 1024) -> list[Piece]:
    """``body`` as one HTTP/1.1 chunked answer, so nothing announces its length."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    chunks = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return [head, *chunks, b"0\r\n\r\n"]


@pytest.mark.parametrize(
    "encoding", ["gzip", "deflate", "raw-deflate", "gzip, gzip"], ids=lambda e: e.replace(", ", "+")
)
def test_a_compression_bomb_stops_at_max_answer_bytes(
    encoding: str, gzip_bomb: bytes, call: Callable[..., Any]
) -> None:
    if encoding == "gzip":
        bomb = gzip_bomb
    elif encoding == "gzip, gzip":
        bomb = gzip.compress(gzip_bomb)
    else:
        bomb = inflating(64 * MIB, 15 if encoding == "deflate" else -15)
    header = "deflate" if encoding == "raw-deflate" else encoding
    script = answer(200, bomb, headers=[("Content-Encoding", header)])
    with HostileGateway(lambda r: script) as gateway:
        caught: list[BaseException] = []

        def run() -> None:
            try:
                call(gateway, max_answer_bytes=MIB)
            except af.OutcomeUnknownError as exc:
                caught.append(exc)

        peak = _peak_of(run)
    assert caught, "the bomb was accepted"
    assert "max_answer_bytes=1048576" in str(caught[0])
    assert gateway.posts == 1
    assert peak < 16 * MIB, f"peak {peak / MIB:.1f} MiB for a 64 MiB bomb"


@pytest.mark.parametrize("framing", ["content-length", "chunked", "until-close"])
def test_a_big_plain_answer_stops_at_max_answer_bytes(
    framing: str, call: Callable[..., Any]
) -> None:
    big = b'{"data": [{"b64_json": "' + b"A" * (24 * MIB) + b'"}]}'
    if framing == "chunked":
        script = _chunked(big)
    else:
        script = answer(200, big, length=framing == "content-length")
    with HostileGateway(lambda r: script) as gateway:
        caught: list[BaseException] = []

        def run() -> None:
            try:
                call(gateway, max_answer_bytes=2 * MIB)
            except af.OutcomeUnknownError as exc:
                caught.append(exc)

        peak = _peak_of(run)
    assert caught and "max_answer_bytes=2097152" in str(caught[0])
    assert gateway.posts == 1
    assert peak < 12 * MIB, f"peak {peak / MIB:.1f} MiB for a 24 MiB answer"


def test_an_answer_within_max_answer_bytes_is_read(call: Callable[..., Any]) -> None:
    image = b"A" * (3 * MIB)
    body = b'{"created": 1, "data": [{"b64_json": "' + image + b'"}]}'
    for script in (
        answer(200, gzip.compress(body), headers=[("Content-Encoding", "gzip")]),
        _chunked(body),
    ):
        with HostileGateway(lambda r, s=script: s) as gateway:  # type: ignore[misc]
            response = call(gateway, max_answer_bytes=4 * MIB)
        assert response.data[0].b64_json == image.decode()
        assert gateway.posts == 1


def test_max_answer_bytes_keeps_the_streaming_paths_working() -> None:
    body = gzip.compress(RESULT)
    script = answer(200, body, headers=[("Content-Encoding", "gzip")])
    with HostileGateway(lambda r: script) as gateway, client(gateway, max_answer_bytes=1024) as c:
        with c.images.with_streaming_response.generate(model="m", prompt="x") as streamed:
            assert streamed.parse().data
        raw = c.images.with_raw_response.generate(model="m", prompt="x")
        assert raw.http_response.content == RESULT
        assert raw.parse().data
    assert gateway.posts == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1MB", True, None])
def test_max_answer_bytes_must_be_a_positive_int(bad: object) -> None:
    for cls in (af.OpenAI, af.AsyncOpenAI):
        with pytest.raises((TypeError, ValueError), match="max_answer_bytes"):
            cls(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_answer_bytes=bad)  # type: ignore[arg-type]


def test_max_answer_bytes_survives_copy_and_with_options() -> None:
    base = af.OpenAI(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_answer_bytes=1234)
    assert base.max_answer_bytes == 1234
    assert base.copy().max_answer_bytes == 1234
    assert base.with_options(timeout=3).max_answer_bytes == 1234
    assert base.copy(max_answer_bytes=99).max_answer_bytes == 99
    with pytest.raises(ValueError, match="max_answer_bytes"):
        base.copy(max_answer_bytes=0)
    assert af.AsyncOpenAI(api_key=KEY, base_url="http://x/v1").max_answer_bytes == 256 * MIB


# ---------------------------------------------------------------------------
# The caller's key, echoed back


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (401, f"Invalid API key {KEY}".encode(), "text/plain"),
        (
            401,
            json.dumps({"error": {"message": f"Invalid API key {KEY[:16]}..."}}).encode(),
            "application/json",
        ),
        (200, json.dumps({"error": f"Invalid API key {KEY}"}).encode(), "application/json"),
        (
            200,
            b"data: " + json.dumps({"error": {"message": KEY, "code": 401}}).encode() + b"\n\n",
            "text/event-stream",
        ),
    ],
    ids=["401-text", "401-json-prefix", "200-json", "200-sse"],
)
def test_an_echoed_key_never_reaches_the_caller(
    status: int, body: bytes, content_type: str, call: Callable[..., Any]
) -> None:
    script = answer(status, body, content_type=content_type)
    with (
        HostileGateway(lambda r: script) as gateway,
        pytest.raises(openai.AuthenticationError) as info,
    ):
        call(gateway, af.image_params(sse=True))
    error = info.value
    for text in (str(error), repr(error.body), error.response.text):
        assert KEY[:12] not in text
    assert "sk-air-...REDACTED" in f"{error} {error.body}"
    assert gateway.posts == 1


# ---------------------------------------------------------------------------
# A catalog that trickles: a deadline, not a per-read timeout


def _trickling_catalog(where: str) -> Script:
    catalog = json.dumps({"object": "list", "data": []}).encode()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(catalog)
    )

    def script(request: Received) -> list[Piece]:
        if request.method == "POST":
            return answer(200, RESULT)
        trickled = head if where == "headers" else catalog
        # One byte every 0.2 s: never a read timeout, and 20 s or more in all.
        pieces: list[Piece] = [] if where == "headers" else [head]
        for byte in trickled[:100]:
            pieces += [0.2, bytes([byte])]
        return pieces

    return script


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_trickling_catalog_gives_up_at_its_deadline(where: str) -> None:
    with (
        HostileGateway(_trickling_catalog(where)) as gateway,
        client(gateway, validation="strict", timeout=1.0) as c,
    ):
        started = time.monotonic()
        with pytest.warns(af.CapabilityWarning, match="did not arrive within 1 seconds"):
            response = c.images.generate(model="flux-2-dev", prompt="x")
        waited = time.monotonic() - started
    assert response.data
    assert gateway.posts == 1
    assert waited < 10  # the trickle alone would take 20 s


@pytest.mark.parametrize("where", ["headers", "body"])
async def test_a_trickling_catalog_gives_up_at_its_deadline_async(where: str) -> None:
    with HostileGateway(_trickling_catalog(where)) as gateway:
        async with aclient(gateway, validation="strict", timeout=1.0) as c:
            started = time.monotonic()
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                response = await c.images.generate(model="flux-2-dev", prompt="x")
            waited = time.monotonic() - started
    assert response.data
    assert [w.category for w in seen] == [af.CapabilityWarning]
    assert "did not arrive within 1 seconds" in str(seen[0].message)
    assert gateway.posts == 1
    assert waited < 10


def test_a_catalog_timeout_is_an_openai_timeout_error() -> None:
    with (
        HostileGateway(_trickling_catalog("body")) as gateway,
        client(gateway, timeout=0.5) as c,
        pytest.raises(openai.APITimeoutError, match=r"did not arrive within 0\.5 seconds"),
    ):
        c.catalog.refresh()


# ---------------------------------------------------------------------------
# Whatever the transport raises: openai 3.x also sends through an `httpx` client


def _cut_short(request: Received) -> list[Piece]:
    """Headers that promise 1000 bytes, then 10 of them, then the connection closes."""
    return answer(200, RESULT[:10], headers=[("Content-Length", "1000")], length=False)


LEGACY_CASES: dict[str, tuple[Script, type[BaseException], str]] = {
    "corrupt-gzip": (
        lambda r: answer(200, b"\x1f\x8b\x08\x00 garbage", headers=[("Content-Encoding", "gzip")]),
        af.OutcomeUnknownError,
        "could not be read",
    ),
    "gzip-bomb": (
        lambda r: answer(200, inflating(16 * MIB, 31), headers=[("Content-Encoding", "gzip")]),
        af.OutcomeUnknownError,
        "max_answer_bytes",
    ),
    "cut-short": (_cut_short, af.OutcomeUnknownError, "could not be read"),
    "json-list": (lambda r: answer(200, b"[]"), af.OutcomeUnknownError, "JSON array"),
    "sentence-402": (
        lambda r: answer(200, b'{"error": "Insufficient balance"}'),
        openai.APIStatusError,
        "Insufficient balance",
    ),
}


@pytest.mark.parametrize("case", LEGACY_CASES, ids=list(LEGACY_CASES))
@pytest.mark.parametrize("transport", ["sdk", "legacy-httpx"])
def test_every_transport_is_held_to_the_same_rules(case: str, transport: str) -> None:
    script, error, words = LEGACY_CASES[case]
    http_client: Any = None
    if transport == "legacy-httpx":
        if not SENDS_WITH_HTTPX2:
            pytest.skip("only openai 3.x takes an httpx client besides its own httpx2")
        import httpx as legacy

        http_client = legacy.Client()
    with HostileGateway(script) as gateway, pytest.raises(error) as info:
        generate(gateway, http_client=http_client, max_answer_bytes=MIB)
    assert words in str(info.value)
    assert gateway.posts == 1


@pytest.mark.parametrize("transport", ["sdk", "legacy-httpx"])
def test_a_connect_failure_is_still_retried(transport: str) -> None:
    attempts: list[str] = []

    def count(request: Any) -> None:
        attempts.append(request.url.path)

    if transport == "legacy-httpx":
        if not SENDS_WITH_HTTPX2:
            pytest.skip("only openai 3.x takes an httpx client besides its own httpx2")
        import httpx as legacy

        http: Any = legacy.Client(event_hooks={"request": [count]})
    else:
        http = sdk_httpx.Client(event_hooks={"request": [count]})
    # Port 9 on loopback: nothing listens, so the connection is refused.
    c = af.OpenAI(
        api_key=KEY,
        base_url="http://127.0.0.1:9/v1",
        max_retries=1,
        validation="off",
        http_client=http,
    )
    with pytest.raises(openai.APIConnectionError) as info:
        c.images.generate(model="m", prompt="x")
    assert not isinstance(info.value, af.OutcomeUnknownError)
    assert attempts == ["/v1/images/generations"] * 2


class _Refused(Exception):
    """What a test double (a cassette player, say) raises for a request it will not serve."""


@pytest.mark.parametrize(
    ("raised", "unknown"),
    [
        (ConnectionResetError("reset by peer"), af.OutcomeUnknownError),
        (BrokenPipeError("broken pipe"), af.OutcomeUnknownError),
        (TimeoutError("timed out"), af.OutcomeUnknownTimeoutError),
        (ssl.SSLError("bad record mac"), af.OutcomeUnknownError),
        (sdk_httpx.TooManyRedirects("redirect loop"), af.OutcomeUnknownError),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else "",
)
def test_raw_transport_failures_are_unknown_outcomes(
    raised: BaseException, unknown: type[af.OutcomeUnknownError]
) -> None:
    calls: list[str] = []

    def handler(request: Any) -> Any:
        calls.append(request.url.path)
        raise raised

    http = sdk_httpx.Client(transport=sdk_httpx.MockTransport(handler))
    with (
        af.OpenAI(
            api_key=KEY,
            base_url="http://127.0.0.1:9/v1",
            max_retries=2,
            validation="off",
            http_client=http,
        ) as c,
        pytest.raises(unknown),
    ):
        c.images.generate(model="m", prompt="x")
    assert calls == ["/v1/images/generations"]


def test_an_error_that_is_no_transports_is_not_called_an_unknown_outcome() -> None:
    def handler(request: Any) -> Any:
        raise _Refused("no recorded answer for this request")

    http = sdk_httpx.Client(transport=sdk_httpx.MockTransport(handler))
    with (
        af.OpenAI(
            api_key=KEY,
            base_url="http://127.0.0.1:9/v1",
            max_retries=0,
            validation="off",
            http_client=http,
        ) as c,
        pytest.raises((_Refused, openai.APIConnectionError)) as info,
    ):
        c.images.generate(model="m", prompt="x")
    assert not isinstance(info.value, af.OutcomeUnknownError)


def test_an_identity_encoded_answer_announced_too_large_is_refused_unread() -> None:
    big = b'{"data": [{"b64_json": "' + b"A" * (4 * MIB) + b'"}]}'
    script = answer(200, big, headers=[("Content-Encoding", "identity")])
    with HostileGateway(lambda r: script) as gateway, pytest.raises(af.OutcomeUnknownError) as info:
        generate(gateway, max_answer_bytes=MIB)
    assert f"it announced {len(big)} bytes" in str(info.value)
    assert gateway.posts == 1


# ---------------------------------------------------------------------------
# The send steps both clients drive: what a failure while sending means


def _sending(path: str, *, stream: bool = False, headers: dict[str, str] | None = None) -> Any:
    from airforce_openai._client import _Sending

    method = "POST" if path.endswith("generations") else "GET"
    url = f"http://127.0.0.1:9/v1/{path}"
    return _Sending(sdk_httpx.Request(method, url, headers=headers), stream)


def _raised_through(sending: Any, exc: BaseException) -> BaseException:
    with pytest.raises(BaseException) as info, sending:
        raise exc
    return info.value


def test_the_send_steps_call_a_failure_after_a_generation_went_out_an_unknown_outcome() -> None:
    timeout = sdk_httpx.ReadTimeout("read timed out")
    unknown = _raised_through(_sending("images/generations"), timeout)
    assert isinstance(unknown, af.OutcomeUnknownTimeoutError)
    assert unknown.__cause__ is timeout
    # Once the answer came back, any failure to read it comes after the gateway took it.
    sending = _sending("images/generations")
    assert sending.must_read(sdk_httpx.Response(200))
    refused = _Refused("not a transport's error")
    assert isinstance(_raised_through(sending, refused), af.OutcomeUnknownError)


@pytest.mark.parametrize(
    "raised",
    [
        sdk_httpx.ConnectError("refused"),  # nothing left
        _Refused("no recorded answer"),  # no sign that anything left
        openai.APIConnectionError(request=sdk_httpx.Request("POST", "http://127.0.0.1:9/")),
        KeyboardInterrupt(),
    ],
    ids=lambda v: type(v).__name__,
)
def test_the_send_steps_let_other_failures_of_a_generation_through(raised: BaseException) -> None:
    assert _raised_through(_sending("images/generations"), raised) is raised


def test_the_send_steps_leave_other_requests_alone() -> None:
    sending = _sending("models")
    assert sending.wire_stream is False
    timeout = sdk_httpx.ReadTimeout("read timed out")
    assert _raised_through(sending, timeout) is timeout
    response = sdk_httpx.Response(200)
    assert not _sending("models").must_read(response)
    assert response.request.url.path == "/v1/models"


def test_the_send_steps_stream_every_generation_but_read_only_the_callers_result() -> None:
    sending = _sending("images/generations")
    assert sending.wire_stream is True  # read here, within max_answer_bytes
    assert sending.must_read(sdk_httpx.Response(200))
    # A caller's `stream=True` (the SDK's event stream) is theirs to read; with_streaming_response
    # streams too, but marks its request so, and its answer is a result, read here.
    assert not _sending("images/generations", stream=True).must_read(sdk_httpx.Response(200))
    marked = {"X-Stainless-Raw-Response": "stream"}
    assert _sending("images/generations", stream=True, headers=marked).must_read(
        sdk_httpx.Response(200)
    )
