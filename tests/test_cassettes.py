"""The project's cassettes: each replays offline to its documented result, none holds a secret."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from vcr.cassette import Cassette  # type: ignore[import-untyped]

import airforce_openai as af
from airforce_openai import testing
from airforce_openai.testing import Emulator
from airforce_openai.testing._vcr import DEFAULT_MAX_BASE64

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "tests" / "cassettes"
# Directories that hold other people's files, or none of ours.
_NOT_OURS = {".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__"}


def load_recorder() -> ModuleType:
    """``scripts/record_cassettes.py``, where the scenarios are defined."""
    name = "record_cassettes"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


SCENARIOS: tuple[Any, ...] = load_recorder().SCENARIOS


# --- replaying each scenario ------------------------------------------------------------------


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return testing.vcr_config()


@pytest.mark.block_network
@pytest.mark.vcr
@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, id=s.name, marks=pytest.mark.default_cassette(s.cassette)) for s in SCENARIOS],
)
def test_cassette_replays_offline(scenario: Any, vcr: Cassette, tmp_path: Path) -> None:
    assert vcr.record_mode == "none"
    assert len(vcr) > 0, f"{scenario.cassette} is missing or empty"
    with af.OpenAI(
        api_key="sk-air-REDACTED", base_url=af.DEFAULT_BASE_URL, max_retries=0
    ) as client:
        response, paths = scenario.run(client, tmp_path)

    scenario.check(response, paths)
    assert vcr.all_played, f"{scenario.cassette}: some recorded requests were never made"


def test_every_scenario_has_a_cassette() -> None:
    assert {s.name for s in SCENARIOS} >= {
        "basic_generation",
        "sse",
        "image_to_image",
        "flux_aspect_ratio",
        "nano_banana_resolution",
        "suno",
    }
    missing = [s.cassette for s in SCENARIOS if not (CASSETTES / s.cassette).is_file()]
    assert not missing


def test_the_cassettes_show_the_documented_requests() -> None:
    bodies = {s.name: _generation_body(CASSETTES / s.cassette) for s in SCENARIOS}
    assert bodies["sse"]["sse"] is True
    assert bodies["image_to_image"]["aspect_ratio"] == "16:9"
    assert set(bodies["image_to_image"]["input_images"][0]) == {"b64_json"}
    assert bodies["flux_aspect_ratio"]["aspect_ratio"] == "21:9"
    assert bodies["nano_banana_resolution"]["resolution"] == "1024"
    suno = bodies["suno"]
    assert (suno["custom"], suno["instrumental"], suno["style"]) == (True, True, "EDM, Bass")


def test_the_cassettes_match_what_the_scenarios_send_today(tmp_path: Path) -> None:
    with Emulator() as emulator:
        load_recorder().record(
            SCENARIOS, tmp_path, api_key=emulator.api_key, base_url=emulator.base_url
        )
    stale = [
        s.cassette
        for s in SCENARIOS
        if _requests(tmp_path / s.cassette) != _requests(CASSETTES / s.cassette)
    ]
    assert not stale, f"re-record with: python scripts/record_cassettes.py --only ... ({stale})"


def test_recording_with_a_key_of_any_shape_leaves_no_trace_of_it(tmp_path: Path) -> None:
    # Not an sk-air- key: only knowing the recording client's own key can find it.
    key = "team-7f3a9c2e/b41d"
    with Emulator(api_key=key) as emulator:
        written = load_recorder().record(
            SCENARIOS, tmp_path, api_key=key, base_url=emulator.base_url
        )
        assert all(r.header("authorization") == f"Bearer {key}" for r in emulator.requests[:1])
    assert len(written) == len(SCENARIOS)
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert key not in text and key.replace("/", "%2F") not in text, path.name
        assert leaks(path) == []
    assert _requests(tmp_path / SCENARIOS[0].cassette) == _requests(
        CASSETTES / SCENARIOS[0].cassette
    )


def _requests(path: Path) -> list[tuple[str, str, Any]]:
    """Each request's method, URL (download tokens masked) and parsed body."""
    found = []
    for interaction in _interactions(path):
        request = interaction["request"]
        uri = re.sub(r"/files/[0-9a-f]+/", "/files/*/", request["uri"])
        found.append((request["method"], uri, json.loads(request["body"] or "null")))
    return found


def _generation_body(path: Path) -> dict[str, Any]:
    for interaction in _interactions(path):
        request = interaction["request"]
        if request["uri"].endswith("/images/generations"):
            body: dict[str, Any] = json.loads(request["body"])
            return body
    raise AssertionError(f"{path.name} has no generation request")


# --- no secrets, anywhere in the repository ---------------------------------------------------

_AUTHORIZATION = re.compile(r"(?i)authorization|\bbearer\s")
_KEY = re.compile(r"sk-air-(?!REDACTED\b)")
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/]{{{DEFAULT_MAX_BASE64 + 1},}}")


def leaks(path: Path) -> list[str]:
    """What a cassette file should not hold: credentials, keys, large base64 payloads."""
    text = path.read_text(encoding="utf-8")
    found = [f"{path.name}: {m[0]!r}" for m in _AUTHORIZATION.finditer(text)]
    found += [f"{path.name}: unredacted key at {m.start()}" for m in _KEY.finditer(text)]
    found += [f"{path.name}: {len(m[0])} chars of base64" for m in _BASE64_RUN.finditer(text)]
    if path.suffix in (".yaml", ".yml"):
        # Binary bodies are stored as base64 broken into lines, which the scan above misses.
        for index, interaction in enumerate(_interactions(path)):
            for side in ("request", "response"):
                body = interaction.get(side, {}).get("body")
                if isinstance(body, dict):
                    body = body.get("string")
                if isinstance(body, bytes) and len(body) * 4 > DEFAULT_MAX_BASE64 * 3:
                    found.append(f"{path.name}: interaction {index} {side}: {len(body)} bytes")
    return found


def _interactions(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data.get("interactions") or []) if isinstance(data, dict) else []


def all_cassettes(root: Path) -> list[Path]:
    """Every file under a ``cassettes`` directory of ``root``."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in _NOT_OURS and not d.startswith(".")]
        parts = Path(folder).relative_to(root).parts
        if "cassettes" in parts:
            found += [Path(folder) / f for f in files if f.endswith((".yaml", ".yml", ".json"))]
    return sorted(found)


def test_no_cassette_in_the_repository_holds_a_secret_or_a_large_payload() -> None:
    cassettes = all_cassettes(ROOT)
    assert {CASSETTES / s.cassette for s in SCENARIOS} <= set(cassettes)
    problems = [problem for path in cassettes for problem in leaks(path)]
    assert not problems, "\n".join(problems)


def test_the_scan_finds_each_kind_of_leak(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    cassette = folder / "leaky.yaml"
    interactions = [
        {
            "request": {
                "body": "",
                "headers": {"Authorization": ["Bearer sk-air-abc"]},
                "method": "GET",
                "uri": "https://api.airforce/v1/models",
            },
            "response": {
                "body": {"string": b"\x89PNG" + bytes(DEFAULT_MAX_BASE64)},
                "headers": {},
                "status": {"code": 200, "message": "OK"},
            },
        },
        {
            "request": {"body": "A" * (DEFAULT_MAX_BASE64 + 1), "headers": {}},
            "response": {"body": {"string": "sk-air-REDACTED"}, "headers": {}},
        },
    ]
    cassette.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    clean = folder / "clean.yaml"
    clean.write_text(yaml.safe_dump({"interactions": interactions[1:2], "version": 1}))
    clean.write_text(clean.read_text().replace("A" * (DEFAULT_MAX_BASE64 + 1), "A" * 100))

    assert all_cassettes(tmp_path) == [clean, cassette]
    found = leaks(cassette)
    assert any("Authorization" in f for f in found)
    assert any("Bearer" in f for f in found)
    assert any("unredacted key" in f for f in found)
    assert any("chars of base64" in f for f in found)
    assert any("response" in f and "bytes" in f for f in found)
    assert leaks(clean) == []
