"""The ``Emulator`` (``testing/_emulator.py``): its settings, catalog, fault queue and lifecycle."""

from __future__ import annotations

import io
import queue
import subprocess
import sys
import threading

import pytest
from _gateway import generate

from airforce_openai.testing import Emulator, Fault, httpx, serve_forever
from airforce_openai.testing._faults import FAULT_HEADER

pytest_plugins = ["_gateway_plugin"]  # the module's emulator and its clients


# --- settings ---------------------------------------------------------------------------------


def test_a_custom_key() -> None:
    with Emulator(api_key="sk-air-custom") as emulator:
        url = f"{emulator.base_url}/images/generations"
        body = {"model": "flux-2-dev", "prompt": "x"}
        ok = httpx.post(url, json=body, headers={"Authorization": "Bearer sk-air-custom"})
        assert ok.status_code == 200
        default = {"Authorization": "Bearer sk-air-emulator-0000"}
        assert httpx.post(url, json=body, headers=default).status_code == 401


def test_latency_delays_generation_only() -> None:
    with Emulator(latency=30) as emulator:
        assert httpx.get(f"{emulator.base_url}/models", timeout=5).status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{emulator.base_url}/images/generations",
                json={"model": "flux-2-dev", "prompt": "x"},
                headers={"Authorization": f"Bearer {emulator.api_key}"},
                timeout=0.2,
            )


def test_bad_settings_name_the_culprit() -> None:
    with pytest.raises(ValueError, match="latency"):
        Emulator(latency=-1)
    with pytest.raises(ValueError, match="port"):
        Emulator(port=70000)
    with pytest.raises(ValueError, match="api_key"):
        Emulator(api_key="")


# --- the catalog ------------------------------------------------------------------------------


def test_catalog_property_is_a_copy(emu: Emulator, http: httpx.Client) -> None:
    emu.catalog[0]["id"] = "changed"
    assert http.get("/models").json()["data"][0]["id"] == "flux-2-klein-4b"


# --- the fault queue --------------------------------------------------------------------------


def test_inject_for_one_model(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(429), model="flux-2-dev")
    assert generate(http, model="nano-banana-pro").status_code == 200
    assert generate(http, model="flux-2-dev").status_code == 429
    assert generate(http, model="flux-2-dev").status_code == 200


def test_inject_times(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(502), times=2)
    assert [generate(http).status_code for _ in range(3)] == [502, 502, 200]
    emu.inject(Fault.status(502), times=None)
    assert [generate(http).status_code for _ in range(3)] == [502, 502, 502]
    emu.clear_faults()
    assert generate(http).status_code == 200
    assert len(emu.generation_requests()) == 7  # faulted requests are recorded too


def test_faults_only_hit_generations(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault.status(500))
    assert http.get("/models").status_code == 200
    assert generate(http).status_code == 500


# --- lifecycle --------------------------------------------------------------------------------


def test_start_and_stop_are_idempotent() -> None:
    emulator = Emulator()
    assert not emulator.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.base_url
    emulator.start()
    url = emulator.base_url
    assert emulator.start() is emulator and emulator.base_url == url
    assert httpx.get(f"{url}/models", timeout=5).status_code == 200
    emulator.stop()
    emulator.stop()
    assert not emulator.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/models", timeout=5)
    with emulator:  # it can start again
        assert httpx.get(f"{emulator.base_url}/models", timeout=5).status_code == 200


def test_stop_ends_requests_in_flight() -> None:
    threads_before = set(threading.enumerate())
    emulator = Emulator().start()
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    outcomes: queue.Queue[BaseException | int] = queue.Queue()

    def call(fault: str) -> None:
        try:
            response = httpx.post(
                f"{emulator.base_url}/images/generations",
                json={"model": "flux-2-dev", "prompt": "x"},
                headers={**headers, FAULT_HEADER: fault},
                timeout=60,
            )
            outcomes.put(response.status_code)
        except BaseException as exc:
            outcomes.put(exc)

    # An idle keep-alive connection, too: its handler thread waits for a next request.
    idle = httpx.Client(timeout=60)
    assert idle.get(f"{emulator.base_url}/models").status_code == 200
    callers = [threading.Thread(target=call, args=(f,)) for f in ("hang:60", "delay:60")]
    for caller in callers:
        caller.start()
    for _ in range(500):
        if len(emulator.generation_requests()) == 2:
            break
        threading.Event().wait(0.01)
    assert len(emulator.generation_requests()) == 2
    stopper = threading.Thread(target=emulator.stop)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive(), "stop() did not return"
    for caller in callers:
        caller.join(10)
        assert not caller.is_alive(), "a request in flight was not ended"
    for _ in callers:
        assert isinstance(outcomes.get_nowait(), httpx.TransportError)
    idle.close()
    # stop() waited for every handler: none is left sleeping out its fault.
    assert [t for t in threading.enumerate() if t not in threads_before] == []


def test_serve_forever_prints_how_to_connect() -> None:
    out = io.StringIO()
    stop = threading.Event()
    emulator = Emulator()
    runner = threading.Thread(
        target=serve_forever, args=(emulator,), kwargs={"out": out, "stop": stop}
    )
    runner.start()
    for _ in range(500):
        if "AIRFORCE_API_KEY" in out.getvalue():
            break
        threading.Event().wait(0.01)
    text = out.getvalue()
    assert f"export AIRFORCE_BASE_URL={emulator.base_url}" in text
    assert "export AIRFORCE_API_KEY=sk-air-emulator-0000" in text
    stop.set()
    runner.join(10)
    assert not runner.is_alive() and not emulator.running


def test_the_emulator_needs_neither_the_sdk_nor_an_http_package() -> None:
    # It must serve every openai line, whichever of httpx / httpx2 that line sends through, and
    # it stands in for the gateway: nothing of the client code may shape its answers.
    script = (
        "import sys, json, urllib.request\n"
        "sys.modules['httpx'] = sys.modules['httpx2'] = sys.modules['openai'] = None\n"
        "from airforce_openai.testing import Emulator\n"
        "from airforce_openai.testing._command import main\n"
        "with Emulator() as emu:\n"
        "    with urllib.request.urlopen(emu.base_url + '/models', timeout=10) as answer:\n"
        "        print(len(json.load(answer)['data']))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout) > 0
