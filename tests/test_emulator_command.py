"""The emulator command (``testing/_command.py``): ``python -m airforce_openai.testing``."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from _gateway import port_in_use, serving, within

from airforce_openai.testing import Emulator, httpx
from airforce_openai.testing._command import main

ROOT = Path(__file__).resolve().parents[1]


def test_main_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--latency", "-1"])
    assert caught.value.code == 2
    assert "latency" in capsys.readouterr().err


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_python_dash_m_serves_until_stopped(stop_signal: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "airforce_openai.testing",
        "--port",
        "0",
        "--api-key",
        "sk-air-x",
    ]
    with serving(command, cwd=ROOT, env=env) as (process, exports):
        base_url = exports.get("AIRFORCE_BASE_URL")
        assert base_url is not None and base_url.startswith("http://127.0.0.1:")
        models = httpx.get(f"{base_url}/models", timeout=10)
        assert models.status_code == 200 and models.json()["object"] == "list"
        denied = httpx.post(f"{base_url}/images/generations", json={}, timeout=10)
        assert denied.status_code == 401
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize(
    "argv",
    [["--port", "70000"], ["--port", "http"], ["--latency", "-1"], ["--latency", "inf"]],
)
def test_options_are_checked_as_they_are_read(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert f"argument {argv[0]}: expected " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [(["--api-key", " "], "api_key must be a non-empty string"), (["--catalog", "-"], "'-'")],
)
def test_settings_the_emulator_refuses_exit_2(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err


def test_a_port_in_use_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with port_in_use() as port:
        assert within(10, lambda: main(["--port", str(port)])) == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: " in capsys.readouterr().err


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_it_with_0(
    stop: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = signal.getsignal(signal.SIGTERM)

    def served(emulator: Emulator, **_: object) -> None:
        assert emulator.api_key == "sk-air-x" and emulator.log_requests
        if stop == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # the handler interrupts this

    monkeypatch.setattr("airforce_openai.testing._emulator.serve_forever", served)
    assert main(["--api-key", "sk-air-x", "--log"]) == 0
    assert capsys.readouterr().err == "emulator stopped\n"
    assert signal.getsignal(signal.SIGTERM) is before
