"""A loopback stand-in for the api.airforce gateway: a real HTTP server for offline tests and demos.

    >>> with Emulator() as emu:
    ...     page = openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key).models.list()
    >>> page.data[0].id
    'flux-2-klein-4b'

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

import copy
import math
import sys
import threading
import time
from typing import Any, TextIO

from .._values import is_int, is_number
from ._catalog import CatalogSource, load_catalog
from ._faults import Fault
from ._handler import Server
from ._state import GatewayState, RecordedRequest

__all__ = ["DEFAULT_API_KEY", "Emulator", "serve_forever"]

DEFAULT_API_KEY = "sk-air-emulator-0000"


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
        self._host = host
        self._port = port
        # What the handler threads share with this emulator, and all they see of it.
        self._state = GatewayState(api_key, load_catalog(catalog))
        self.latency = latency
        self.log_requests = log_requests
        self._lifecycle_lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self.running else "not running"
        return f"<Emulator {where}>"

    # -- settings

    @property
    def api_key(self) -> str:
        """The key the emulator accepts as ``Authorization: Bearer <api_key>``."""
        return self._state.api_key

    @property
    def latency(self) -> float:
        """Seconds added before every generation answer."""
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if not is_number(seconds) or not 0 <= seconds < math.inf:
            raise ValueError(f"latency must be a finite number of seconds >= 0; got {seconds!r}")
        self._state.latency = float(seconds)

    @property
    def log_requests(self) -> bool:
        """Print a line per request on stderr."""
        return self._state.log_requests

    @log_requests.setter
    def log_requests(self, on: bool) -> None:
        self._state.log_requests = on

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
        url = self._state.url
        if url is None:
            raise RuntimeError(
                "the emulator is not running; call start() or use it in a with block"
            )
        return url

    @property
    def base_url(self) -> str:
        """The API base URL to give a client, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    # -- the catalog

    @property
    def catalog(self) -> list[dict[str, Any]]:
        """A copy of the entries (the ``data`` list) served by ``GET /v1/models``."""
        return copy.deepcopy(self._state.catalog.entries)

    def set_catalog(self, catalog: CatalogSource) -> None:
        """Replace the catalog: None (default), a list of entries, an envelope or a JSON file.

        The document is served as given, broken or not; generation is checked against the
        entries it lists (any model is accepted if it has no ``data`` list at all).
        """
        self._state.catalog = load_catalog(catalog)

    # -- the request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot)."""
        return self._state.requests()

    def generation_requests(self) -> list[RecordedRequest]:
        """The ``POST /v1/images/generations`` requests received so far."""
        path = "/v1/images/generations"
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/") == path]

    def clear(self) -> None:
        """Forget the recorded requests (queued faults stay)."""
        self._state.clear_requests()

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
        self._state.add_fault(fault, model=model, times=times)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self._state.clear_faults()

    # -- lifecycle

    def start(self) -> Emulator:
        """Listen and serve in a background thread; a no-op if already running."""
        with self._lifecycle_lock:
            if self._server is not None:
                return self
            server = Server((self._host, self._port), self._state)
            self._state.serving(_root_url(self._host, int(server.server_address[1])))
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
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            if server is None or thread is None:
                return
            self._server = self._thread = None
            self._state.stopping()
        deadline = time.monotonic() + timeout
        server.shutdown()
        server.server_close()
        thread.join(max(0.0, deadline - time.monotonic()))
        for handler in self._state.hang_up():
            handler.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _root_url(host: str, port: int) -> str:
    """The URL a client on this machine reaches a server listening on ``host`` by."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
