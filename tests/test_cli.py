"""The command line: in-process through main(), and as real subprocesses."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import openai
import pytest

from airforce_openai.catalog import ImageCaps, ImageModel
from airforce_openai.cli import ExitStatus, _Elapsed, exit_status, format_models_table, main
from airforce_openai.testing import Emulator, Fault, httpx

ROOT = Path(__file__).resolve().parents[1]
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)
IMAGE_MODELS = [
    "flux-2-klein-4b",
    "flux-2-klein-9b",
    "flux-2-dev",
    "nano-banana-2",
    "nano-banana-2-search",
    "nano-banana-pro",
    "seedream-4",
]


def _is_image(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" or path.read_bytes()[:3] == b"\xff\xd8\xff"


def _against(emulator: Emulator) -> list[str]:
    return ["--base-url", emulator.base_url, "--api-key", emulator.api_key]


def _subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFORCE_", "OPENAI_"))}
    return {**env, "PYTHONPATH": str(ROOT)}


# --------------------------------------------------------------------------- models


def test_models_table_offline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--offline"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("offline: using the bundled emulator at http://127.0.0.1:")
    rows = [line.split()[0] for line in out.splitlines()[1:] if line and line[0].isalnum()]
    assert rows == IMAGE_MODELS
    flux = next(line for line in out.splitlines() if line.startswith("flux-2-dev "))
    assert (
        " ".join(flux.split())
        == "flux-2-dev 4 1:1,16:9,9:16,4:3,3:4,21:9,9:21 4 (urls ok) yes 0.005"
    )


def test_models_json_against_an_emulator(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "--json", *_against(emulator)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [entry["id"] for entry in entries] == IMAGE_MODELS
    nano = next(entry for entry in entries if entry["id"] == "nano-banana-2")
    assert nano["max_n"] == 1
    assert nano["aspect_ratios"] == ["1:1", "16:9", "9:16", "4:3"]
    assert nano["supports_url_input"] is False
    assert nano["supports_seed"] is False
    assert nano["price_per_image_usd"] == pytest.approx(0.002)
    seedream = next(entry for entry in entries if entry["id"] == "seedream-4")
    assert seedream["max_n"] is None and seedream["aspect_ratios"] is None


def test_common_options_work_before_and_after_the_command(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_against(emulator), "models", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert main(["models", "--json", *_against(emulator)]) == 0
    assert json.loads(capsys.readouterr().out) == before


def test_environment_settings_are_used(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIRFORCE_BASE_URL", emulator.base_url)
    monkeypatch.setenv("AIRFORCE_API_KEY", emulator.api_key)
    assert main(["models"]) == 0
    assert "flux-2-dev" in capsys.readouterr().out


def test_models_table_shows_unstated_caps_as_dashes() -> None:
    table = format_models_table(
        [
            ImageModel(id="quiet", caps=ImageCaps(), output="image"),
            ImageModel(
                id="loud",
                caps=ImageCaps(max_n=2, max_input_images=3, supports_url_input=False),
                price_per_image_usd=0.0125,
                output="image",
            ),
        ]
    )
    lines = table.splitlines()
    assert " ".join(lines[0].split()) == "MODEL MAX N ASPECT RATIOS INPUT IMAGES SEED USD/IMAGE"
    assert lines[1].split() == ["quiet", "-", "-", "-", "-", "-"]
    assert lines[2].split() == ["loud", "2", "-", "3", "(no", "urls)", "-", "0.0125"]
    assert "not stated by the gateway" in lines[-1]


# --------------------------------------------------------------------------- generate


def test_generate_offline_saves_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "an otter", "--offline", "--n", "2", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    paths = [Path(line) for line in out.splitlines()]
    assert len(paths) == 2
    assert all(path.parent == tmp_path and _is_image(path) for path in paths)
    # Progress shows only on a terminal; captured stderr is not one.
    assert err.count("\n") == 1 and "offline:" in err
    assert "\r" not in err and "generating" not in err


def test_generate_sends_every_option(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = tmp_path / "ref.png"
    reference.write_bytes(TINY_PNG)
    argv = [
        "generate",
        "an otter",
        *_against(emulator),
        "--model", "flux-2-dev",
        "--n", "2",
        "--size", "1024x576",
        "--aspect-ratio", "16:9",
        "--quality", "hd",
        "--seed", "42",
        "--input-image", str(reference),
        "--input-image", "https://example.test/b.png",
        "--sse",
        "--out", str(tmp_path / "out"),
        "--prefix", "otter",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert [Path(line).name.split(".")[0] for line in out] == ["otter-0", "otter-1"]
    (sent,) = emulator.generation_requests()
    body = sent.json
    assert body["model"] == "flux-2-dev" and body["prompt"] == "an otter"
    assert body["n"] == 2 and body["size"] == "1024x576"
    assert body["aspect_ratio"] == "16:9" and body["quality"] == "hd" and body["seed"] == 42
    assert body["sse"] is True
    assert body["response_format"] == "b64_json"
    assert set(body["input_images"][0]) == {"b64_json"}
    assert body["input_images"][1] == {"url": "https://example.test/b.png"}


def test_generate_url_format_downloads_the_files(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["generate", "x", "--format", "url", "--out", str(tmp_path), *_against(emulator)]) == 0
    )
    (path,) = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert _is_image(path)
    (sent,) = emulator.generation_requests()
    assert sent.json["response_format"] == "url"
    assert any(r.path.startswith("/files/") for r in emulator.requests)


def test_progress_is_shown_on_a_terminal_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with _Elapsed(terminal, "generating..."):
        pass
    shown = terminal.getvalue()
    assert shown.startswith("\rgenerating... 0.")
    assert shown.endswith("\r\x1b[K")  # the line is cleared when done

    piped = io.StringIO()
    with _Elapsed(piped, "generating..."):
        pass
    assert piped.getvalue() == ""


# --------------------------------------------------------------------------- exit statuses


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["generate"],
        ["generate", "x", "--n", "0"],
        ["generate", "x", "--validation", "loose"],
        ["generate", "x", "--format", "png"],
        ["models", "--offline", "--base-url", "http://127.0.0.1:1/v1"],
        ["emulator", "--port", "70000"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == ExitStatus.USAGE
    assert int(ExitStatus.USAGE) == 2
    assert "usage:" in capsys.readouterr().err


def test_out_that_is_a_file_is_a_usage_error(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert main(["generate", "x", "--out", str(taken), *_against(emulator)]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert emulator.generation_requests() == []


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "exit statuses" in capsys.readouterr().out


def test_capability_violation_exits_3(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "x", "--aspect-ratio", "5:4", "--n", "9", *_against(emulator)]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "nothing was sent" in err
    assert "  - flux-2-dev: n 9 is above the maximum of 4" in err
    assert "  - flux-2-dev: aspect_ratio '5:4' is not one of" in err
    assert "Traceback" not in err
    assert emulator.generation_requests() == []


def test_warn_sends_and_the_gateway_refusal_exits_4(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "x", "--aspect-ratio", "5:4", "--validation", "warn", *_against(emulator)]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "warning: flux-2-dev: aspect_ratio '5:4'" in err
    assert "error: the gateway answered HTTP 400" in err
    assert len(emulator.generation_requests()) == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.status(402), "HTTP 402"),
        (Fault.error_in_200(404), "HTTP 404"),
        (Fault.null_url(), "could not be saved"),
    ],
)
def test_gateway_failures_exit_4(
    emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault: Fault,
    expected: str,
) -> None:
    emulator.inject(fault)
    assert main(["generate", "x", "--out", str(tmp_path), *_against(emulator)]) == 4
    err = capsys.readouterr().err
    assert expected in err
    assert err.startswith("error: ")


def test_missing_key_exits_5(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "x", "--base-url", emulator.base_url]) == 5
    err = capsys.readouterr().err
    assert "AIRFORCE_API_KEY" in err and "--api-key" in err
    assert emulator.requests == []


def test_rejected_key_exits_5(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "x", "--base-url", emulator.base_url, "--api-key", "sk-air-wrong"]
    assert main(argv) == 5
    assert "HTTP 401" in capsys.readouterr().err


def test_forbidden_model_exits_5(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    emulator.inject(Fault.status(403))
    assert main(["generate", "x", *_against(emulator)]) == 5
    assert "HTTP 403" in capsys.readouterr().err


def test_missing_input_file_exits_6(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.png"
    assert main(["generate", "x", "--input-image", str(missing), *_against(emulator)]) == 6
    assert str(missing) in capsys.readouterr().err
    assert emulator.generation_requests() == []


def test_input_file_that_is_not_an_image_exits_6(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("not an image at all")
    assert main(["generate", "x", "--input-image", str(notes), *_against(emulator)]) == 6
    assert "notes.png" in capsys.readouterr().err


def test_lost_connection_exits_7_and_warns_about_billing(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.inject(Fault.drop_connection())
    assert main(["generate", "x", *_against(emulator)]) == 7
    err = capsys.readouterr().err
    assert "billed" in err
    assert len(emulator.generation_requests()) == 1  # never re-sent


def test_unreachable_gateway_exits_7(capsys: pytest.CaptureFixture[str]) -> None:
    with Emulator() as emu:
        base_url = emu.base_url  # a port that was just freed
    assert main(["models", "--base-url", base_url, "--api-key", "k"]) == 7
    assert f"could not reach {base_url}" in capsys.readouterr().err


def test_debug_shows_the_traceback(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    emulator.inject(Fault.status(402))
    assert main(["generate", "x", "--debug", *_against(emulator)]) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "error: the gateway answered HTTP 402" in err


def test_exit_status_of_each_error_kind() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/images/generations")
    response = httpx.Response(200, request=request)
    assert exit_status(openai.APIResponseValidationError(response=response, body=None)) == 4
    assert exit_status(openai.APITimeoutError(request=request)) == 7
    assert exit_status(RuntimeError("unexpected")) == ExitStatus.OTHER


# --------------------------------------------------------------------------- subprocesses


def test_python_dash_m_generate_offline(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airforce_openai", "generate", "an otter", "--offline",
         "--out", str(tmp_path)],
        cwd=tmp_path,
        env=_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    path = Path(line)
    assert path.is_file() and path.parent == tmp_path
    assert _is_image(path)
    assert "offline: using the bundled emulator at http://127.0.0.1:" in result.stderr
    assert "\r" not in result.stderr


def test_python_dash_m_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airforce_openai", "generate", "x", "--offline",
         "--aspect-ratio", "5:4"],
        cwd=tmp_path,
        env=_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_emulator_command_serves_until_stopped(stop_signal: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airforce_openai", "emulator", "--port", "0", "--latency", "0"],
        env=_subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell may start background jobs with Ctrl-C ignored; give the server the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def read_lines() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read_lines, daemon=True).start()
    try:
        base_url = key = None
        for _ in range(10):
            line = lines.get(timeout=30)
            if line.startswith("export AIRFORCE_BASE_URL="):
                base_url = line.split("=", 1)[1].strip()
            if line.startswith("export AIRFORCE_API_KEY="):
                key = line.split("=", 1)[1].strip()
            if base_url and key:
                break
        assert base_url is not None and base_url.startswith("http://127.0.0.1:")
        answer = httpx.post(
            f"{base_url}/images/generations",
            json={"model": "flux-2-dev", "prompt": "x"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert answer.status_code == 200
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_closed_pipe_ends_quietly() -> None:
    # `airforce-openai models | head`: the reader is gone before the table is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "airforce_openai", "--offline", "models"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert completed.returncode == 0, completed.stderr
    assert "Broken pipe" not in completed.stderr
    assert "Traceback" not in completed.stderr
