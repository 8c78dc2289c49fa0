"""The emulated gateway's HTTP side: a threaded server and the handler that answers requests.

    >>> server = Server(("127.0.0.1", 0), GatewayState("sk-air-x"))
    >>> server.server_address[0], server.state.api_key
    ('127.0.0.1', 'sk-air-x')
    >>> server.server_close()

``Emulator.start`` runs ``server.serve_forever()`` in a thread. The handler keeps no state of
its own: it records each request, takes faults and stores files through the ``GatewayState``
it is given (the ``Emulator``'s), and answers as the gateway does.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import http.server
import json
import secrets
import socket
import socketserver
import sys
import time
import traceback
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, cast

from ._answers import last_user_text, render, sse_events
from ._catalog import entry_kind, format_cents, price_cents
from ._checks import candidate_models, check_common, check_model, input_images
from ._errors import PROVIDER_FAILED, Refusal, error_object, status_defaults
from ._faults import FAULT_HEADER, Fault, fault_error_body
from ._state import GatewayState, RecordedRequest, StoredFile

__all__ = ["Server"]

_MAX_BODY = 32 * 1024 * 1024
_ANSWERS_EARLY = frozenset({"hang", "drop_connection", "status", "error_in_200"})
_FILE_NAME = "image.jpeg"  # the gateway's file host names every file this way


class _Hangup(Exception):
    """Close the connection now, answering nothing more."""


class Server(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that answers as the gateway whose ``state`` it is given."""

    daemon_threads = True
    block_on_close = False
    # The default backlog of 5 resets connections when many clients start at once.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], state: GatewayState) -> None:
        self.state = state
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away, or the emulator is stopping
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "airforce-emulator/1.0"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection gives its thread back after this
    disable_nagle_algorithm = True
    server: Server
    _deadline = 0.0  # when the generation being answered may be sent

    def setup(self) -> None:
        super().setup()
        self.server.state.connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.state.connection_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.state.log_requests:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- plumbing

    def _handle(self) -> None:
        state = self.server.state
        try:
            try:
                body = self._read_body()
            except Refusal:
                self.close_connection = True
                state.record(self._recorded(b""))
                raise
            record = self._recorded(body)
            state.record(record)
            self._route(record)
        except Refusal as refusal:
            self._send_refusal(refusal)
        except _Hangup:
            self.close_connection = True
        except OSError:
            raise
        except Exception as exc:
            traceback.print_exc()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_refusal(Refusal(500, f"Emulator error: {exc!r}", code="emulator_error"))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            message = f"Invalid Content-Length header: {raw!r}"
            raise Refusal(400, message, code="bad_request") from None
        if length > _MAX_BODY:
            raise Refusal(
                413,
                f"Request body too large: {length} bytes; the limit is {_MAX_BODY}.",
                code="payload_too_large",
            )
        data = self.rfile.read(length)
        if len(data) < length:
            raise _Hangup
        return data

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise Refusal(400, "Malformed chunked request body", code="bad_request") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return bytes(data)
            if len(data) + size > _MAX_BODY:
                raise Refusal(413, "Request body too large", code="payload_too_large")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _Hangup
            data += chunk
            self.rfile.readline(8)

    def _recorded(self, body: bytes) -> RecordedRequest:
        path, _, query = self.path.partition("?")
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            parsed = json.loads(body) if body else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        return RecordedRequest(self.command, path, query, headers, body, parsed)

    def _trace_headers(self) -> list[tuple[str, str]]:
        return [
            ("X-Request-ID", f"req_{secrets.token_hex(12)}"),
            ("x-airforce-trace-id", secrets.token_hex(16)),
        ]

    def _send(
        self,
        status: int,
        data: bytes | None,
        content_type: str,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Send the answer, or only its head when ``data`` is None: the caller sends chunks."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if data is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data is not None and self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(
        self, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        data = json.dumps(payload).encode()
        self._send(status, data, "application/json", [*self._trace_headers(), *headers])

    def _send_refusal(self, refusal: Refusal) -> None:
        kind = status_defaults(refusal.status)[0]
        body = error_object(refusal.message, kind=kind, param=refusal.param, code=refusal.code)
        self._send_json(refusal.status, body)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _authorized_json(self, record: RecordedRequest) -> dict[str, Any]:
        """The body of a request that needs the key, or the refusal its key or body earns."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        key = self.server.state.api_key.encode()
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), key):
            raise Refusal(401, "Invalid API key", code="invalid_api_key")
        if isinstance(record.json, dict):
            return record.json
        if record.json is None and record.body.strip():
            raise Refusal(400, "Request body is not valid JSON.", code="invalid_json")
        raise Refusal(400, "Request body must be a JSON object.", code="invalid_json")

    # -- endpoints

    def _route(self, record: RecordedRequest) -> None:
        path = urllib.parse.unquote(record.path.rstrip("/")) or "/"
        reading = self.command in ("GET", "HEAD")
        if path == "/v1/models" and reading:
            self._models()
        elif path.startswith("/v1/models/") and reading:
            self._model(path.removeprefix("/v1/models/"))
        elif path == "/v1/images/generations" and self.command == "POST":
            self._generate(record)
        elif path == "/v1/chat/completions" and self.command == "POST":
            self._chat(record)
        elif path.startswith("/files/") and reading:
            self._file(path)
        else:
            raise Refusal(404, f"Unknown endpoint: {self.command} {record.path}", code="not_found")

    def _models(self) -> None:
        self._send_json(200, self.server.state.catalog.body, [("Cache-Control", "max-age=60")])

    def _model(self, model_id: str) -> None:
        entry = self.server.state.catalog.by_id.get(model_id)
        if entry is None:
            message = f"The model '{model_id}' does not exist."
            raise Refusal(404, message, code="model_not_found", param="model")
        self._send_json(200, entry, [("Cache-Control", "max-age=60")])

    def _file(self, path: str) -> None:
        token = path.split("/")[2]
        stored = self.server.state.stored_file(token)
        if stored is None:
            self._send(404, b"404 Not Found", "text/plain; charset=utf-8")
            return
        if stored.hang and not self.server.state.wait(stored.hang):
            raise _Hangup
        # Served under its misleading name and type, like the gateway's file host does.
        self._send(200, stored.data, "image/jpeg", [("Cache-Control", "public, max-age=86400")])

    def _chat(self, record: RecordedRequest) -> None:
        body = self._authorized_json(record)
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise Refusal(400, "Missing required parameter: 'model'.", param="model")
        entry = self.server.state.catalog.find(model_id)
        if entry is None:
            raise Refusal(400, f"Unknown model '{model_id}'.", code="unknown_model", param="model")
        if entry_kind(entry) in ("image", "video", "audio"):
            raise Refusal(
                400,
                f"Invalid value for 'model': '{model_id}' is not a chat model; "
                "use POST /v1/images/generations.",
                code="unsupported_model",
                param="model",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            message = "Invalid value for 'messages': expected a non-empty array."
            raise Refusal(400, message, param="messages")
        if body.get("stream"):
            message = "Streaming chat completions are not emulated; send stream=false."
            raise Refusal(400, message, param="stream")
        text = last_user_text(messages)
        prompt_tokens = sum(len(str(m).split()) for m in messages)
        completion_tokens = len(text.split())
        completion = {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        self._send_json(200, completion)

    def _generate(self, record: RecordedRequest) -> None:
        state = self.server.state
        body = self._authorized_json(record)
        header = self.headers.get(FAULT_HEADER)
        try:
            faults = list(Fault.parse_header(header)) if header is not None else []
        except (TypeError, ValueError) as exc:
            raise Refusal(400, str(exc), code="invalid_fault", param=FAULT_HEADER) from None
        faults += state.take_faults(_primary_model(body))
        pause = state.latency + sum(f.seconds for f in faults if f.kind == "delay")
        # The latency is the whole answer time, drawing included, as a render upstream would be.
        self._deadline = time.monotonic() + pause
        if any(f.kind in _ANSWERS_EARLY for f in faults):
            self._wait_for_deadline()
        for fault in faults:
            if fault.kind == "hang":
                state.wait(fault.seconds)
                raise _Hangup
            if fault.kind == "drop_connection":
                raise _Hangup
            if fault.kind == "status":
                status = cast(int, fault.http_status)
                error = fault_error_body(fault, status, code_default=status_defaults(status)[1])
                after = fault.retry_after_header
                self._send_json(
                    status, error, [("Retry-After", after)] if after is not None else []
                )
                return
            if fault.kind == "error_in_200":
                status = cast(int, fault.http_status)
                self._send_json(200, fault_error_body(fault, status, code_default=status))
                return
        try:
            model_id, entry = self._choose_model(body, faults)
        except Refusal:
            self._wait_for_deadline()
            raise
        self._answer(body, model_id, entry, faults)

    def _root_url(self) -> str:
        url = self.server.state.url
        if url is None:
            # Stopped while this answer was being drawn: hang up, as a gateway going down would.
            raise _Hangup
        return url

    def _wait_for_deadline(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining > 0 and not self.server.state.wait(remaining):
            raise _Hangup

    def _choose_model(
        self, body: Mapping[str, Any], faults: list[Fault]
    ) -> tuple[str, Mapping[str, Any]]:
        state = self.server.state
        candidates = candidate_models(body)
        check_common(body)
        inputs = input_images(body)
        # A provider_failure from the header with no models fails the first model tried.
        unnamed_failures = sum(1 for f in faults if f.kind == "provider_failure" and not f.models)
        named_failures = {m for f in faults if f.kind == "provider_failure" for m in f.models}
        known = False
        for model_id in candidates:
            entry = state.catalog.find(model_id)
            if entry is None:
                continue
            known = True
            check_model(body, model_id, entry, inputs)
            if unnamed_failures:
                unnamed_failures -= 1
                continue
            if model_id in named_failures or state.take_provider_failure(model_id):
                continue
            return model_id, entry
        if not known:
            param = "model" if isinstance(body.get("model"), str) else "models"
            raise Refusal(
                400,
                f"Unknown model '{candidates[0]}'. See GET /v1/models for the available models.",
                param=param,
                code="unknown_model",
            )
        raise Refusal(503, PROVIDER_FAILED, code="provider_unavailable")

    def _answer(
        self,
        body: Mapping[str, Any],
        model_id: str,
        entry: Mapping[str, Any],
        faults: list[Fault],
    ) -> None:
        state = self.server.state
        kinds = {f.kind for f in faults}
        file_hang = max((f.seconds for f in faults if f.kind == "file_hang"), default=0.0)
        n = body.get("n") or 1
        as_base64 = body.get("response_format") == "b64_json"
        items: list[dict[str, Any]] = []
        for index in range(n):
            data = render(model_id, entry, body, index)
            if "null_url" in kinds:
                items.append({"url": None, "b64_json": None})
            elif as_base64:
                items.append({"url": None, "b64_json": base64.b64encode(data).decode()})
            else:
                token = secrets.token_hex(16)
                if "file_404" not in kinds:
                    state.store_file(token, StoredFile(data, file_hang))
                items.append(
                    {"url": f"{self._root_url()}/files/{token}/{_FILE_NAME}", "b64_json": None}
                )
        payload = {"created": int(time.time()), "data": items}
        self._wait_for_deadline()
        headers = [
            ("X-Cost-Cents", format_cents(n * price_cents(entry))),
            ("X-Emulator-Model", model_id),
        ]
        sse_faults = [f for f in faults if f.kind == "sse"]
        if not sse_faults and body.get("sse") is not True:
            self._send_json(200, payload, headers)
            return
        variants = tuple(v for f in sse_faults for v in f.variants)
        shaping = sse_faults[0] if sse_faults else Fault.sse()
        fault = dataclasses.replace(shaping, variants=tuple(dict.fromkeys(variants)))
        blocks, partial = sse_events(payload, fault)
        if partial is not None or "keepalive_only" in fault.variants:
            self.close_connection = True  # the stream ends early, and so does the connection
        headers = [*self._trace_headers(), ("Cache-Control", "no-cache"), *headers]
        self._send(200, None, "text/event-stream", headers)
        for block in blocks:
            self._write_chunk(block)
        if partial is not None:
            self._write_chunk(partial)
            raise _Hangup  # no terminating chunk: the stream is cut
        self.wfile.write(b"0\r\n\r\n")


def _primary_model(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    if isinstance(model, str):
        return model
    models = body.get("models")
    if isinstance(models, list) and models and isinstance(models[0], str):
        return models[0]
    return None
