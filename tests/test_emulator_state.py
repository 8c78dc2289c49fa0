"""What the emulator holds (``testing/_state.py``): the request log, the fault queue, the files."""

from __future__ import annotations

import socket
import threading

import openai
import pytest

from airforce_openai.testing import Emulator, Fault, RecordedRequest
from airforce_openai.testing._state import GatewayState, StoredFile


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("sk-air-live-7f3a9c2e", "Bearer sk-air-...REDACTED"),
        ("team-key/7f3a+9c2e", "Bearer ...REDACTED"),
    ],
)
def test_the_request_log_repr_masks_credentials_but_keeps_them_for_tests(
    key: str, shown: str
) -> None:
    with (
        Emulator(api_key=key) as emulator,
        openai.OpenAI(base_url=emulator.base_url, api_key=key, max_retries=0, timeout=10) as client,
    ):
        client.images.generate(
            model="flux-2-dev", prompt="x", extra_headers={"X-Api-Key": key, "X-Custom": "Yes"}
        )
        log = emulator.requests
    (sent,) = log
    assert sent.header("Authorization") == f"Bearer {key}"  # tests can still check it
    assert sent.headers["x-api-key"] == key
    for text in (repr(log), repr(sent), str(sent), f"{log}"):
        assert key not in text
        assert key[8:] not in text  # not even its tail
    assert f"'authorization': '{shown}'" in repr(sent)
    assert f"'x-api-key': '{shown.removeprefix('Bearer ')}'" in repr(sent)
    assert "'x-custom': 'Yes'" in repr(sent)  # the other headers are shown as sent
    assert repr(sent).startswith("RecordedRequest(method='POST', path='/v1/images/generations'")


def test_queued_faults_are_taken_per_model_and_used_up() -> None:
    state = GatewayState("sk-air-x")
    state.add_fault(Fault.status(429), model="flux-2-dev", times=2)
    state.add_fault(Fault.null_url(), model=None, times=None)
    state.add_fault(Fault.provider_failure(), model=None, times=1)
    assert [f.kind for f in state.take_faults("nano-banana-pro")] == ["null_url"]
    for _ in range(2):
        assert [f.kind for f in state.take_faults("flux-2-dev")] == ["status", "null_url"]
    assert [f.kind for f in state.take_faults("flux-2-dev")] == ["null_url"]  # used up
    # A provider failure is taken per model tried, never with the request's faults.
    assert state.take_provider_failure("flux-2-dev") is True
    assert state.take_provider_failure("flux-2-dev") is False
    state.clear_faults()
    assert state.take_faults(None) == []


def test_a_provider_failure_fails_only_the_models_it_names() -> None:
    state = GatewayState("sk-air-x")
    state.add_fault(Fault.provider_failure("a", "b"), model=None, times=None)
    state.add_fault(Fault.provider_failure(), model="c", times=1)
    assert [state.take_provider_failure(m) for m in ("x", "a", "b", "c", "c")] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_the_log_and_the_files() -> None:
    state = GatewayState("sk-air-x")
    request = RecordedRequest("GET", "/v1/models", "", {}, b"", None)
    state.record(request)
    snapshot = state.requests()
    state.record(request)
    assert snapshot == [request] and len(state.requests()) == 2
    state.clear_requests()
    assert state.requests() == []
    for index in range(1025):  # one more than it keeps
        state.store_file(f"t{index}", StoredFile(b"%d" % index, 0.0))
    assert state.stored_file("t0") is None  # the oldest went first
    assert state.stored_file("t1024") == StoredFile(b"1024", 0.0)


def test_stopping_ends_the_waits_and_the_url() -> None:
    state = GatewayState("sk-air-x")
    assert state.url is None
    state.serving("http://127.0.0.1:1")
    assert state.url == "http://127.0.0.1:1"
    assert state.wait(0.01) is True  # the time ran out
    state.stopping()
    assert state.url is None
    assert state.wait(60) is False  # at once
    state.serving("http://127.0.0.1:2")
    assert state.wait(0.01) is True  # a new run waits again


def test_connections_are_hung_up_on_stop() -> None:
    state = GatewayState("sk-air-x")
    near, far = socket.socketpair()
    with near, far:
        state.connection_opened(near)
        assert state.hang_up() == [threading.current_thread()]
        assert far.recv(1) == b""  # shut down: the other end reads the end
        state.connection_closed(near)
        assert state.hang_up() == []
    # One that opens while the server stops is shut at once.
    near, far = socket.socketpair()
    with near, far:
        state.stopping()
        state.connection_opened(near)
        assert far.recv(1) == b""
