"""A loopback stand-in for the api.airforce gateway: a real HTTP server for offline tests and demos.

    >>> with Emulator() as emu:
    ...     openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key).models.list()

It serves ``GET /v1/models`` (public), ``POST /v1/images/generations`` and
``POST /v1/chat/completions`` (both need ``Authorization: Bearer <api_key>``), and the
generated files under ``/files/<token>/image.jpeg``. Generation requests are checked against
the catalog the way the gateway checks them, independently of the client package.

Files are real and small (long side at most 64 px, shaped by ``aspect_ratio`` or ``size``):
PNG from Flux, JPEG from Nano-Banana, WebP from Seedream, MP3 from Suno, MP4 from video
models, the same bytes for the same (model, prompt, seed, index). Links end in
``/image.jpeg`` and are served as ``image/jpeg`` whatever the bytes are, like the gateway's
file host. Answers carry ``X-Request-ID``, ``X-Cost-Cents`` and ``x-airforce-trace-id``, and
``X-Emulator-Model``: the model that answered after any ``models`` fallback.

Faults make the gateway misbehave on purpose. ``emu.inject(Fault.status(429))`` queues one for
the next generation request; the ``X-Emulator-Fault`` request header applies faults to that
request only (its format is described in ``_faults``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ._catalog import CatalogSource, load_catalog
from ._faults import FAULT_HEADER, Fault, QueuedFault
from ._handler import RecordedRequest, Server, StoredFile
from ._values import is_int, is_number

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_HEADER",
    "CatalogSource",
    "Emulator",
    "Fault",
    "RecordedRequest",
    "main",
    "serve_forever",
]

DEFAULT_API_KEY = "sk-air-emulator-0000"
_MAX_FILES = 1024  # files kept for download; the oldest go first


class Emulator:
    """A faithful offline api.airforce gateway on 127.0.0.1, served from a background thread.

    >>> with Emulator() as emu:
    ...     client = openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key)
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        catalog: CatalogSource = None,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError(f"api_key must be a non-empty string; got {api_key!r}")
        if not isinstance(host, str):
            raise TypeError(f"host must be a string; got {type(host).__name__}")
        if not is_int(port) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int between 0 and 65535; got {port!r}")
        self._api_key = api_key
        self._host = host
        self._port = port
        self.latency = latency
        self.log_requests = log_requests
        self._catalog = load_catalog(catalog)
        self._lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[QueuedFault] = []
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self.running else "not running"
        return f"<Emulator {where}>"

    # -- settings

    @property
    def api_key(self) -> str:
        """The key the emulator accepts as ``Authorization: Bearer <api_key>``."""
        return self._api_key

    @property
    def latency(self) -> float:
        """Seconds added before every generation answer."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if not is_number(seconds) or seconds < 0:
            raise ValueError(f"latency must be a finite number of seconds >= 0; got {seconds!r}")
        self._latency = float(seconds)

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port listened on (the one asked for until the emulator starts)."""
        server = self._server
        return int(server.server_address[1]) if server is not None else self._port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError(
                "the emulator is not running; call start() or use it in a with block"
            )
        host = self._host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give a client, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    # -- the catalog

    @property
    def catalog(self) -> list[dict[str, Any]]:
        """A copy of the entries (the ``data`` list) served by ``GET /v1/models``."""
        return copy.deepcopy(self._catalog.entries)

    def set_catalog(self, catalog: CatalogSource) -> None:
        """Replace the catalog: None (default), a list of entries, an envelope or a JSON file.

        The document is served as given, broken or not; generation is checked against the
        entries it lists (any model is accepted if it has no ``data`` list at all).
        """
        self._catalog = load_catalog(catalog)

    # -- the request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot)."""
        with self._lock:
            return list(self._requests)

    def generation_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/images/generations`` requests received so far."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path.rstrip("/") == "/v1/images/generations"
        ]

    def clear(self) -> None:
        """Forget the recorded requests (queued faults stay)."""
        with self._lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # -- faults

    def inject(self, fault: Fault, *, model: str | None = None, times: int | None = 1) -> None:
        """Queue ``fault`` for the next ``times`` generation requests (None: all of them).

        With ``model``, only requests for that model get it; a ``provider_failure`` then fails
        that model wherever it appears in a ``models`` fallback list.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"fault must be a Fault; got {type(fault).__name__}")
        if model is not None and (not isinstance(model, str) or not model):
            raise ValueError(f"model must be a model id or None; got {model!r}")
        if times is not None and (not is_int(times) or times < 1):
            raise ValueError(f"times must be a positive int or None; got {times!r}")
        with self._lock:
            self._faults.append(QueuedFault(fault, model, times))

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def _take_faults(self, model: str | None) -> list[Fault]:
        taken: list[Fault] = []
        with self._lock:
            for queued in list(self._faults):
                if queued.fault.kind == "provider_failure":
                    continue  # taken per model tried, in _take_provider_failure
                if queued.model is not None and queued.model != model:
                    continue
                taken.append(queued.fault)
                self._use(queued)
        return taken

    def _take_provider_failure(self, model: str) -> bool:
        with self._lock:
            for queued in self._faults:
                fault = queued.fault
                if fault.kind != "provider_failure":
                    continue
                if queued.model not in (None, model) or (
                    fault.models and model not in fault.models
                ):
                    continue
                self._use(queued)
                return True
        return False

    def _use(self, queued: QueuedFault) -> None:
        if queued.remaining is not None:
            queued.remaining -= 1
            if queued.remaining == 0:
                self._faults.remove(queued)

    # -- files

    def _store_file(self, token: str, stored: StoredFile) -> None:
        with self._lock:
            self._files[token] = stored
            while len(self._files) > _MAX_FILES:
                self._files.popitem(last=False)

    def _stored_file(self, token: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(token)

    # -- lifecycle

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if the emulator stops; True if the time ran out."""
        return not self._stopping.wait(seconds)

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections[connection] = threading.current_thread()
        if self._stopping.is_set():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)

    def start(self) -> Emulator:
        """Listen and serve in a background thread; a no-op if already running."""
        with self._state_lock:
            if self._server is not None:
                return self
            self._stopping = threading.Event()
            server = Server((self._host, self._port), self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"airforce-emulator:{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, end hanging requests, close every socket; a no-op if not running."""
        with self._state_lock:
            server, thread = self._server, self._thread
            if server is None or thread is None:
                return
            self._server = self._thread = None
        deadline = time.monotonic() + timeout
        self._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            connections = list(self._connections.items())
        for connection, _ in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _, handler in connections:
            handler.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- running it in the foreground -------------------------------------------------------------


def serve_forever(
    emulator: Emulator | None = None,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve ``emulator`` (a default one if None) and say how to reach it, until Ctrl-C or ``stop``.

    Ctrl-C raises ``KeyboardInterrupt`` after the emulator has stopped.
    """
    emulator = emulator if emulator is not None else Emulator()
    out = out if out is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    with emulator:
        print(f"api.airforce emulator listening on {emulator.base_url}", file=out)
        print(f"export AIRFORCE_BASE_URL={emulator.base_url}", file=out)
        print(f"export AIRFORCE_API_KEY={emulator.api_key}", file=out)
        print("Press Ctrl-C to stop.", file=out)
        out.flush()
        while not stop.wait(0.5):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """The ``python -m airforce_openai.testing`` command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m airforce_openai.testing",
        description="Serve a loopback emulator of the api.airforce gateway until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"key to accept ({DEFAULT_API_KEY})"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to each generation"
    )
    parser.add_argument(
        "--catalog", type=Path, help="JSON file: a list of models or a /v1/models envelope"
    )
    parser.add_argument("--log", action="store_true", help="print a line per request on stderr")
    args = parser.parse_args(argv)
    previous = _stop_on_sigterm()
    try:
        try:
            emulator = Emulator(
                api_key=args.api_key,
                catalog=args.catalog,
                latency=args.latency,
                host=args.host,
                port=args.port,
                log_requests=args.log,
            )
        except (TypeError, ValueError) as exc:
            parser.error(str(exc))
        try:
            serve_forever(emulator)
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    """Let SIGTERM stop the server as Ctrl-C does; returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread
    return signal.signal(signal.SIGTERM, _interrupt)
