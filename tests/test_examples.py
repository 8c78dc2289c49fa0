"""Every example runs offline and writes what it says it writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# example -> the kinds of file it saves, in the order it prints them
EXPECTED = {
    "quickstart.py": ["image"],
    "image_to_image.py": ["image", "image"],
    "suno_music.py": ["mp3"],
    "async_batch.py": ["image"] * 6,
    "langchain_agent.py": ["image"],
    "switch_codebase.py": ["image"],
}


def _kind(path: Path) -> str:
    head = path.read_bytes()[:12]
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3"
    return f"unknown {head!r}"


def test_every_example_is_listed() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("_")}
    assert scripts == set(EXPECTED)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        assert f"python examples/{name} --offline" in readme, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(name: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFORCE_", "OPENAI_"))}
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--offline", "--out", str(out)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    printed = [Path(line) for line in result.stdout.splitlines() if line.startswith(str(out))]
    assert [_kind(path) for path in printed] == EXPECTED[name]
    assert sorted(out.iterdir()) == sorted(printed)
    if name == "suno_music.py":
        assert printed[0].suffix == ".mp3"
