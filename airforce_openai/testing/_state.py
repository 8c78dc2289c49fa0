"""What the emulated gateway holds: its settings, request log, fault queue, files and sockets.

    >>> state = GatewayState(api_key="sk-air-x")
    >>> state.add_fault(Fault.status(429), model=None, times=1)
    >>> [fault.kind for fault in state.take_faults("flux-2-dev")], state.take_faults(None)
    (['status'], [])

The ``Emulator`` owns one and changes it; the handler threads answering requests use it through
the methods below, each safe to call from any thread. It is the only thing the two share.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ._catalog import Catalog, load_catalog
from ._faults import Fault

__all__ = ["GatewayState", "RecordedRequest", "StoredFile"]

_MAX_FILES = 1024  # files kept for download; the oldest go first


@dataclass(frozen=True, repr=False)
class RecordedRequest:
    """One request the emulator received, as it arrived (faulted ones included).

    ``headers`` hold every value as sent, credentials included, for tests to check;
    ``repr()`` masks the credentials, so a failing assertion or a log does not show them.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        headers = {
            name: _masked(value) if name in _CREDENTIAL_HEADERS else value
            for name, value in self.headers.items()
        }
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={headers!r}, body={self.body!r}, json={self.json!r})"
        )


_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"}
)
_KEY_PREFIX = "sk-air-"


def _masked(value: str) -> str:
    """``Bearer sk-air-...REDACTED``: the scheme and the key's public prefix, nothing of the key."""
    scheme, space, token = value.partition(" ")
    if not space or not token.strip():
        scheme, token = "", value
    shown = _KEY_PREFIX if token.strip().startswith(_KEY_PREFIX) else ""
    return f"{scheme}{space}{shown}...REDACTED"


@dataclass(frozen=True)
class StoredFile:
    """A generated file the file host serves, and how long it waits before serving it."""

    data: bytes
    hang: float


@dataclass
class _QueuedFault:
    fault: Fault
    model: str | None  # only requests for this model get it
    remaining: int | None  # None: every request


class GatewayState:
    """The emulated gateway's state. The emulator sets (and checks) the settings; ``url`` is the
    server's root URL while it serves, None once it stops."""

    def __init__(self, api_key: str, catalog: Catalog | None = None) -> None:
        self.api_key = api_key
        self.catalog = catalog or load_catalog(None)  # None: the default catalog
        self.latency = 0.0
        self.log_requests = False
        self.url: str | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_QueuedFault] = []
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._stopping = threading.Event()

    # -- the request log

    def record(self, request: RecordedRequest) -> None:
        """Add ``request`` to the log."""
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the log, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Empty the log."""
        with self._lock:
            self._requests.clear()

    # -- the fault queue

    def add_fault(self, fault: Fault, *, model: str | None, times: int | None) -> None:
        """Queue ``fault`` for ``times`` requests (None: all) for ``model`` (None: any model)."""
        with self._lock:
            self._faults.append(_QueuedFault(fault, model, times))

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def take_faults(self, model: str | None) -> list[Fault]:
        """The queued faults a generation request for ``model`` gets, each used once."""
        taken: list[Fault] = []
        with self._lock:
            for queued in list(self._faults):
                if queued.fault.kind == "provider_failure":
                    continue  # taken per model tried, by take_provider_failure
                if queued.model is not None and queued.model != model:
                    continue
                taken.append(queued.fault)
                self._use(queued)
        return taken

    def take_provider_failure(self, model: str) -> bool:
        """True, using it once, if a queued ``provider_failure`` fails ``model``."""
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

    def _use(self, queued: _QueuedFault) -> None:
        if queued.remaining is not None:
            queued.remaining -= 1
            if queued.remaining == 0:
                self._faults.remove(queued)

    # -- the file host

    def store_file(self, token: str, stored: StoredFile) -> None:
        """Keep ``stored`` for download under ``token`` (the oldest files go past a limit)."""
        with self._lock:
            self._files[token] = stored
            while len(self._files) > _MAX_FILES:
                self._files.popitem(last=False)

    def stored_file(self, token: str) -> StoredFile | None:
        """The file kept under ``token``, or None."""
        with self._lock:
            return self._files.get(token)

    # -- serving and stopping

    def serving(self, url: str) -> None:
        """The server listens at ``url`` from now on."""
        self._stopping = threading.Event()
        self.url = url

    def stopping(self) -> None:
        """The server stops: ``url`` goes, every ``wait`` ends, new connections are shut."""
        self.url = None
        self._stopping.set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if the server stops; True if the time ran out."""
        return not self._stopping.wait(seconds)

    def connection_opened(self, connection: socket.socket) -> None:
        """Track ``connection``, served by the current thread, until it closes."""
        with self._lock:
            self._connections[connection] = threading.current_thread()
        if self._stopping.is_set():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def connection_closed(self, connection: socket.socket) -> None:
        """Forget ``connection``."""
        with self._lock:
            self._connections.pop(connection, None)

    def hang_up(self) -> list[threading.Thread]:
        """Shut every open connection down; returns the threads that were serving them."""
        with self._lock:
            connections = list(self._connections.items())
        for connection, _ in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return [thread for _, thread in connections]
