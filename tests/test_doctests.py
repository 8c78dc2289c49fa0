"""The examples in the package's docstrings run, against the emulator, and show what they say."""

from __future__ import annotations

import asyncio
import doctest
import importlib
import pathlib
from collections.abc import Iterator
from typing import Any

import openai
import pytest

import airforce_openai as af
from airforce_openai.testing import Emulator, httpx
from airforce_openai.testing._media import png

PACKAGE = pathlib.Path(af.__file__).parent
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if path.name != "__main__.py"
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def handler(request: httpx.Request) -> httpx.Response:
    """What the examples' ``MockTransport(handler)`` answers: an empty model list."""
    return httpx.Response(200, json={"object": "list", "data": []})


@pytest.fixture
def namespace(
    emulator: Emulator, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The names the examples take as given, with the emulator as the gateway."""
    monkeypatch.setenv("AIRFORCE_API_KEY", emulator.api_key)
    monkeypatch.setenv("AIRFORCE_BASE_URL", emulator.base_url)
    monkeypatch.chdir(tmp_path)
    for name in ("ref.png", "cat.png"):
        (tmp_path / name).write_bytes(png(8, 8, name.encode()))
    with af.OpenAI() as client:
        aclient = af.AsyncOpenAI()
        yield {
            "af": af,
            "airforce_openai": af,
            "openai": openai,
            "asyncio": asyncio,
            "client": client,
            "aclient": aclient,
            "models": af.parse_catalog(client.get("/models", cast_to=object)),
            "prompts": ["an otter", "a heron"],
            "handler": handler,
            "Path": pathlib.Path,
        }
        asyncio.run(aclient.close())


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str, namespace: dict[str, Any]) -> None:
    if module == "airforce_openai.langchain":
        pytest.importorskip("langchain_core", reason="needs the [langchain] extra")
    imported = importlib.import_module(module)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    examples = 0
    for test in doctest.DocTestFinder(exclude_empty=True).find(imported, module):
        test.globs = {**vars(imported), **namespace}
        examples += len(test.examples)
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert examples or not imported.__doc__ or ">>>" not in imported.__doc__
