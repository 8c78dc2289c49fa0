"""The command line: in-process through main(), and as real subprocesses."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import openai
import pytest
from _gateway import port_in_use, serving, within
from _loopback import QuietHandler, serve

from airforce_openai._catalog import ImageCaps, ImageModel
from airforce_openai._cli import (
    ExitStatus,
    _Elapsed,
    _Redactor,
    exit_status,
    format_models_table,
    main,
)
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


# Each bad input, the exit status it gets, and what the one error line must name.
# "{file}", "{dir}", "{ro}" are filled in per test: a regular file, a fresh directory,
# and a directory nothing can be written to.
BAD_INPUTS: list[tuple[str, list[str], int, str]] = [
    # bad usage: 2
    ("no command", [], 2, "COMMAND"),
    ("unknown command", ["frobnicate"], 2, "'frobnicate'"),
    ("unknown flag", ["generate", "x", "--colour", "red"], 2, "--colour"),
    ("no prompt", ["generate"], 2, "PROMPT"),
    ("blank prompt", ["generate", "   "], 2, "prompt is empty"),
    ("--n 0", ["generate", "x", "--n", "0"], 2, "--n"),
    ("--n not a number", ["generate", "x", "--n", "two"], 2, "'two'"),
    ("--n a fraction", ["generate", "x", "--n", "1.5"], 2, "'1.5'"),
    ("--seed not a number", ["generate", "x", "--seed", "abc"], 2, "--seed: invalid int"),
    ("--validation unknown", ["generate", "x", "--validation", "loose"], 2, "--validation"),
    ("--format unknown", ["generate", "x", "--format", "png"], 2, "--format"),
    ("--base-url no scheme", ["models", "--base-url", "api.airforce/v1"], 2, "--base-url"),
    ("--base-url ftp", ["models", "--base-url", "ftp://api.airforce/v1"], 2, "ftp://"),
    (
        "--offline with --base-url",
        ["models", "--offline", "--base-url", "http://127.0.0.1:1/v1"],
        2,
        "--offline and --base-url",
    ),
    ("--port out of range", ["emulator", "--port", "70000"], 2, "--port"),
    ("--latency negative", ["emulator", "--latency", "-1"], 2, "--latency"),
    ("--out empty", ["generate", "x", "--out", ""], 2, "--out: expected a directory"),
    ("--out with NUL", ["generate", "x", "--out", "a\x00b"], 2, "NUL"),
    ("--out is a file", ["generate", "x", "--out", "{file}"], 2, "exists and is not a directory"),
    (
        "--out through a file",
        ["generate", "x", "--out", "{file}/sub/dir"],
        2,
        "is a file, not a directory",
    ),
    ("--out read-only", ["generate", "x", "--out", "{ro}"], 2, "cannot be written to"),
    ("--out under read-only", ["generate", "x", "--out", "{ro}/new"], 2, "cannot be created in"),
    ("--out name too long", ["generate", "x", "--out", "{dir}/" + "d" * 300], 2, "300 bytes"),
    ("--out broken link", ["generate", "x", "--out", "{dir}/dangling"], 2, "broken symbolic"),
    ("--prefix with /", ["generate", "x", "--prefix", "a/b"], 2, "--prefix: expected a file name"),
    ("--prefix with \\", ["generate", "x", "--prefix", "a\\b"], 2, "--prefix"),
    ("--prefix empty", ["generate", "x", "--prefix", ""], 2, "--prefix: expected a file name"),
    ("--prefix ..", ["generate", "x", "--prefix", ".."], 2, "got '..'"),
    ("--prefix with NUL", ["generate", "x", "--prefix", "a\x00b"], 2, "NUL"),
    ("--prefix far too long", ["generate", "x", "--prefix", "p" * 300], 2, "--prefix is too long"),
    (
        "--prefix too long for the names",
        ["generate", "x", "--n", "4", "--prefix", "p" * 245],
        2,
        "at most 244",
    ),
    # capability violations: 3
    ("--aspect-ratio the model lacks", ["generate", "x", "--aspect-ratio", "5:4"], 3, "'5:4'"),
    ("--n above the model's max", ["generate", "x", "--n", "9"], 3, "n 9"),
    ("--quality the model lacks", ["generate", "x", "--quality", "ultra"], 3, "'ultra'"),
    ("unknown --model", ["generate", "x", "--model", "flux-3-pro"], 3, "flux-3-pro"),
    ("chat --model", ["generate", "x", "--model", "gpt-4o-mini"], 3, "chat model"),
    (
        "URL input the model refuses",
        ["generate", "x", "--model", "nano-banana-2", "--input-image", "https://e.test/a.png"],
        3,
        "input_images[0] is a URL (https://e.test/a.png)",
    ),
    # keys: 5
    ("no key", ["generate", "x", "--no-key"], 5, "AIRFORCE_API_KEY"),
    ("empty --api-key", ["generate", "x", "--no-key", "--api-key", ""], 5, "AIRFORCE_API_KEY"),
    ("key with a newline", ["generate", "x", "--api-key", "sk-air-a\nb"], 5, "--api-key"),
    ("key with a space", ["generate", "x", "--api-key", "sk-air-a b"], 5, "control"),
    ("key not ASCII", ["generate", "x", "--api-key", "sk-air-clé"], 5, "non-ASCII"),
    # input files: 6
    ("--input-image missing", ["generate", "x", "--input-image", "{dir}/gone.png"], 6, "gone.png"),
    ("--input-image a directory", ["generate", "x", "--input-image", "{dir}"], 6, "is a directory"),
    ("--input-image empty", ["generate", "x", "--input-image", "{empty}"], 6, "empty"),
    ("--input-image not an image", ["generate", "x", "--input-image", "{file}"], 6, "taken"),
    (
        "--input-image ftp URL",
        ["generate", "x", "--input-image", "ftp://e.test/a.png"],
        6,
        "ftp://e.test/a.png",
    ),
]


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory in which creating a file fails, for whoever runs the tests."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if not _can_create_in(locked):
            yield locked
        elif Path("/sys").is_dir() and not _can_create_in(Path("/sys")):
            yield Path("/sys")  # root ignores modes, but sysfs takes no new files
        else:
            pytest.skip("no directory here refuses new files to this user")
    finally:
        locked.chmod(0o755)


def _can_create_in(directory: Path) -> bool:
    probe = directory / "probe.tmp"
    try:
        probe.write_bytes(b"")
    except OSError:
        return False
    probe.unlink()
    return True


def _fill(argv: list[str], tmp_path: Path, unwritable: Path) -> list[str]:
    taken = tmp_path / "taken"
    taken.write_text("not an image, not a directory")
    (tmp_path / "empty.png").write_bytes(b"")
    if not (tmp_path / "dangling").is_symlink():
        (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    places = {"{file}": str(taken), "{dir}": str(tmp_path), "{ro}": str(unwritable)}
    places["{empty}"] = str(tmp_path / "empty.png")
    filled = []
    for arg in argv:
        for marker, value in places.items():
            arg = arg.replace(marker, value)
        filled.append(arg)
    return filled


@pytest.mark.parametrize(
    ("argv", "status", "culprit"),
    [pytest.param(argv, status, culprit, id=name) for name, argv, status, culprit in BAD_INPUTS],
)
def test_each_bad_input_is_refused_before_anything_is_billed(
    emulator: Emulator,
    tmp_path: Path,
    unwritable_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    status: int,
    culprit: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = _fill(argv, tmp_path, unwritable_dir)
    if "--no-key" in argv:
        argv.remove("--no-key")
        argv += ["--base-url", emulator.base_url]
    elif argv and argv[0] in ("generate", "models") and "--offline" not in argv:
        argv += ["--base-url", emulator.base_url]
        if "--api-key" not in argv:
            argv += ["--api-key", emulator.api_key]
    if argv and argv[0] == "generate" and "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]

    assert main(argv) == status
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("error: "), err
    # A capability error lists each violation on a line of its own, after the model's name.
    assert culprit in (err if status == ExitStatus.CAPABILITY else first), err
    assert "Traceback" not in err
    assert emulator.generation_requests() == []
    if status != ExitStatus.CAPABILITY:
        # Refused before the client asked the gateway anything at all.
        assert emulator.requests == []
    if status == ExitStatus.USAGE:
        assert not (tmp_path / "out").exists()  # nothing was created either
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "dangling",
            "empty.png",
            "locked",
            "taken",
        ]


def test_the_bad_inputs_are_many_and_distinct() -> None:
    names = [name for name, *_ in BAD_INPUTS]
    assert len(set(names)) == len(names) >= 15
    assert {status for _, _, status, _ in BAD_INPUTS} == {2, 3, 5, 6}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("two", "expected a whole number, got 'two'"),
        ("1.5", "expected a whole number, got '1.5'"),
        ("0", "expected a number >= 1, got 0"),
        ("-3", "expected a number >= 1, got -3"),
    ],
)
def test_a_number_option_says_what_it_expected(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "x", "--n", value]) == ExitStatus.USAGE
    assert f"argument --n: {message}" in capsys.readouterr().err


def test_an_unusable_out_costs_nothing_even_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert main(["generate", "x", "--offline", "--out", str(taken / "sub")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "offline:" not in err  # not even the emulator was started


def test_a_usable_out_is_checked_without_leaving_anything(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a" / "b"
    assert main(["generate", "x", "--n", "2", "--out", str(out), *_against(emulator)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["image-0.png", "image-1.png"]  # no probe file left behind
    assert capsys.readouterr().out.splitlines() == [str(out / name) for name in written]


def test_a_long_prefix_that_fits_is_accepted(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = "p" * 244  # 244 + len("-3-999.webm") == 255, the most a file name may take
    argv = ["generate", "x", "--n", "4", "--prefix", prefix, "--out", str(tmp_path)]
    assert main([*argv, *_against(emulator)]) == 0, capsys.readouterr().err
    assert len(list(tmp_path.iterdir())) == 4


def test_a_save_failure_after_the_render_exits_8_and_lists_what_was_written(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every name item 1 could take is used: the render is paid for, then saving fails.
    (tmp_path / "image-1.png").write_bytes(b"")
    for attempt in range(1, 1000):
        (tmp_path / f"image-1-{attempt}.png").write_bytes(b"")
    argv = ["generate", "x", "--n", "2", "--out", str(tmp_path), *_against(emulator)]

    assert main(argv) == ExitStatus.OUTPUT
    assert int(ExitStatus.OUTPUT) == 8
    out, err = capsys.readouterr()
    assert out.splitlines() == [str(tmp_path / "image-0.png")]
    assert _is_image(tmp_path / "image-0.png")
    (line,) = err.splitlines()
    assert line.startswith(f"error: the results could not be written to {str(tmp_path)!r}")
    assert "billed" in line and "1 of 2 files written" in line
    assert len(emulator.generation_requests()) == 1  # sent once, never again


def test_a_failed_download_exits_4_and_lists_what_was_written(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.inject(Fault.file_404())
    argv = ["generate", "x", "--format", "url", "--out", str(tmp_path), *_against(emulator)]
    assert main(argv) == ExitStatus.GATEWAY
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: 1 of 1 result item could not be saved")
    assert "HTTP 404" in err
    assert len(emulator.generation_requests()) == 1


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
    command = [sys.executable, "-m", "airforce_openai", "emulator", "--port", "0", "--latency", "0"]
    with serving(command, env=_subprocess_env()) as (process, exports):
        base_url, key = exports.get("AIRFORCE_BASE_URL"), exports.get("AIRFORCE_API_KEY")
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


def test_emulator_command_is_the_one_of_the_testing_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same options as `python -m airforce_openai.testing`, but its own default port.
    served: list[Emulator] = []

    def serve_forever(emulator: Emulator, **_: object) -> None:
        served.append(emulator)
        raise KeyboardInterrupt

    monkeypatch.setattr("airforce_openai.testing._emulator.serve_forever", serve_forever)
    catalog = tmp_path / "catalog.json"
    catalog.write_text('[{"id": "only-model"}]')
    argv = ["emulator", "--catalog", str(catalog), "--log", "--latency", "0.5"]
    assert main([*argv, "--api-key", "sk-air-x"]) == 0
    (emulator,) = served
    assert (emulator.api_key, emulator.port, emulator.latency) == ("sk-air-x", 8787, 0.5)
    assert emulator.log_requests and [m["id"] for m in emulator.catalog] == ["only-model"]
    assert capsys.readouterr().err == "emulator stopped\n"


def test_emulator_command_exits_1_when_it_cannot_listen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with port_in_use() as port:
        assert within(10, lambda: main(["emulator", "--port", str(port)])) == ExitStatus.OTHER
    assert f"error: cannot listen on 127.0.0.1:{port}: " in capsys.readouterr().err


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


# --------------------------------------------------------------------------- the key stays secret

ODD_KEY = "team-key/7f3a+9c2e_b41d"  # no sk-air- prefix, and characters that get escaped


def test_redactor_masks_every_spelling_of_the_key() -> None:
    redact = _Redactor([ODD_KEY, None, ""])
    spellings = [ODD_KEY, quote(ODD_KEY, safe=""), json.dumps(ODD_KEY), repr(ODD_KEY)]
    masked = redact(" | ".join(spellings))
    assert ODD_KEY not in masked and quote(ODD_KEY, safe="") not in masked
    assert masked.count("...REDACTED") == 4
    assert _Redactor(["sk-air-live-123"])("key sk-air-live-123.") == "key sk-air-...REDACTED."
    # A cut-off echo of the key is masked too.
    assert redact(f"bad key {ODD_KEY[:14]}...") == "bad key ...REDACTED..."
    short = "a-b-c-d"  # a placeholder, and masking it would mangle ordinary words
    assert _Redactor([short])(f"{short} stays") == f"{short} stays"


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_key_the_gateway_echoes_is_never_printed(
    capsys: pytest.CaptureFixture[str], debug: bool
) -> None:
    with Emulator(api_key=ODD_KEY) as emu:
        emu.inject(
            Fault.status(400, message=f"key {ODD_KEY} ({quote(ODD_KEY, safe='')}) is not allowed")
        )
        argv = ["generate", "x", "--base-url", emu.base_url, "--api-key", ODD_KEY]
        assert main([*argv, *(["--debug"] if debug else [])]) == ExitStatus.GATEWAY
    out, err = capsys.readouterr()
    assert (
        "error: the gateway answered HTTP 400: key ...REDACTED (...REDACTED) is not allowed" in err
    )
    assert ODD_KEY not in out + err
    assert quote(ODD_KEY, safe="") not in out + err
    assert ("Traceback" in err) is debug


def test_a_key_from_the_environment_is_masked_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Emulator(api_key=ODD_KEY) as emu:
        monkeypatch.setenv("AIRFORCE_API_KEY", ODD_KEY)
        emu.inject(Fault.error_in_200(401, message=f"revoked: {ODD_KEY}"))
        assert main(["generate", "x", "--base-url", emu.base_url]) == ExitStatus.AUTH
    err = capsys.readouterr().err
    assert "revoked: ...REDACTED" in err
    assert ODD_KEY not in err


# --------------------------------------------------------------------------- a broken catalog

PNG_ANSWER = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(TINY_PNG).decode()}]})


class _BrokenCatalogGateway(QuietHandler):
    """Lists its models in a broken answer; generates fine."""

    catalog: tuple[bytes, str] = (b"[]", "application/json")
    answer: bytes = PNG_ANSWER.encode()
    posts: ClassVar[list[bytes]] = []

    def do_GET(self) -> None:
        self.reply(*self.catalog)

    def do_POST(self) -> None:
        self.posts.append(self.read_body())
        self.reply(self.answer)


BROKEN_CATALOGS = {
    "bare list": (b'[{"id": "flux-2-dev"}]', "application/json"),
    "string": (b'"flux-2-dev"', "application/json"),
    "data not a list": (b'{"object": "list", "data": {"id": "flux-2-dev"}}', "application/json"),
    "no data": (b'{"object": "list"}', "application/json"),
    "not JSON": (b"<html>502 Bad Gateway</html>", "text/html"),
    "broken JSON": (b'{"object": "list", "data": [', "application/json"),
    "empty": (b"", "application/json"),
}


@contextlib.contextmanager
def _serve(catalog: tuple[bytes, str], answer: str = PNG_ANSWER) -> Iterator[str]:
    attributes = {"catalog": catalog, "answer": answer.encode(), "posts": []}
    handler = type("Handler", (_BrokenCatalogGateway,), attributes)
    with serve(handler) as origin:
        yield f"{origin}/v1"


@pytest.fixture
def broken_catalog_gateway(request: pytest.FixtureRequest) -> Iterator[str]:
    with _serve(request.param) as base_url:
        yield base_url


@pytest.mark.parametrize(
    "broken_catalog_gateway", BROKEN_CATALOGS.values(), ids=BROKEN_CATALOGS, indirect=True
)
def test_models_with_a_broken_catalog_exits_4_in_one_line(
    broken_catalog_gateway: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "--base-url", broken_catalog_gateway, "--api-key", ODD_KEY]) == 4
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("error: the gateway's model list could not be read: the GET /models")


@pytest.mark.parametrize(
    "broken_catalog_gateway",
    [BROKEN_CATALOGS["bare list"], BROKEN_CATALOGS["not JSON"]],
    ids=["bare list", "not JSON"],
    indirect=True,
)
def test_generate_with_a_broken_catalog_warns_and_sends(
    broken_catalog_gateway: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "x", "--out", str(tmp_path), "--base-url", broken_catalog_gateway]
    assert main([*argv, "--api-key", ODD_KEY]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: the model catalog could not be fetched (the GET /models")
    (path,) = [Path(line) for line in out.splitlines()]
    assert _is_image(path)


def test_a_result_the_gateway_could_not_deliver_exits_4_after_saving_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = base64.b64encode(TINY_PNG).decode()
    answer = json.dumps({"created": 1, "data": [{"b64_json": png}, {"url": None}]})
    with _serve(BROKEN_CATALOGS["bare list"], answer) as base_url:
        argv = ["generate", "x", "--n", "2", "--out", str(tmp_path), "--base-url", base_url]
        assert main([*argv, "--api-key", ODD_KEY]) == ExitStatus.GATEWAY
    out, err = capsys.readouterr()
    assert out.splitlines() == [str(tmp_path / "image-0.png")]
    assert "error: 1 of 2 result item could not be saved (indexes 1); 1 saved:" in err
