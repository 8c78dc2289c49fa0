"""Re-record the project's cassettes (``tests/cassettes/``), one per scenario of the published API.

    python scripts/record_cassettes.py                   # against the bundled emulator
    AIRFORCE_API_KEY=sk-air-... python scripts/record_cassettes.py --live   # billed!

Each scenario runs through ``airforce_openai.OpenAI`` (strict validation, so the
catalog fetch is recorded too) and saves its result with ``save_images`` (so
downloads are recorded too), under the settings of
``airforce_openai.testing.vcr_config``: no credentials, no large base64, no
compressed bodies. Requests are stored as sent to ``https://api.airforce/v1``
whatever server answered them, so the cassettes replay with no server at all.

The scenarios are defined here and shared by ``tests/test_cassettes.py`` (replay)
and ``tests/test_live.py`` (the same calls against the real gateway).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import vcr  # type: ignore[import-untyped]
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai._formats import sniff
from airforce_openai.testing import Emulator, vcr_config
from airforce_openai.testing._media import png

CASSETTES = Path(__file__).resolve().parents[1] / "tests" / "cassettes"
ORIGIN = "https://api.airforce"
"""Where every recorded request is stored as sent to (``af.DEFAULT_BASE_URL`` without ``/v1``)."""

MediaKind = Literal["image", "audio", "video"]


def _reference_image() -> bytes:
    # A real picture of a useful size, so the recording shows large inputs being shrunk.
    return png(160, 160, b"reference character")


@dataclass(frozen=True)
class Scenario:
    """One documented way of calling ``POST /v1/images/generations``, and what it yields."""

    name: str
    model: str
    prompt: str
    kind: MediaKind
    response_format: Literal["url", "b64_json"] = "url"
    n: int = 1
    extra_body: Callable[[], dict[str, Any]] = field(default=dict)

    @property
    def cassette(self) -> str:
        """The cassette's file name."""
        return f"{self.name}.yaml"

    def run(self, client: af.OpenAI, directory: Path) -> tuple[ImagesResponse, list[Path]]:
        """Generate, then save every result file in ``directory``."""
        response = client.images.generate(
            model=self.model,
            prompt=self.prompt,
            n=self.n,
            response_format=self.response_format,
            extra_body=self.extra_body(),
        )
        return response, af.save_images(response, directory, prefix=self.name)

    def check(self, response: ImagesResponse, paths: Sequence[Path]) -> None:
        """Raise AssertionError unless the result has ``n`` files of the expected kind."""
        assert isinstance(response, ImagesResponse), type(response)
        assert response.data is not None and len(response.data) == self.n, response
        assert len(paths) == self.n, paths
        for path in paths:
            media = sniff(path.read_bytes())
            assert media is not None, f"{path}: not a known format"
            assert media.kind == self.kind, f"{path}: {media} instead of {self.kind}"
            assert path.suffix == media.extension, path


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "basic_generation",
        model="flux-2-dev",
        prompt="A cute baby sea otter floating on its back",
        kind="image",
    ),
    Scenario(
        "sse",
        model="flux-2-dev",
        prompt="A lighthouse at dusk, long exposure",
        kind="image",
        response_format="b64_json",
        extra_body=lambda: af.image_params(sse=True),
    ),
    Scenario(
        "image_to_image",
        model="flux-2-dev",
        prompt="Same character, now in a snowy forest",
        kind="image",
        response_format="b64_json",
        extra_body=lambda: af.image_params(aspect_ratio="16:9", input_images=[_reference_image()]),
    ),
    Scenario(
        "flux_aspect_ratio",
        model="flux-2-klein-4b",
        prompt="A mountain panorama at sunrise",
        kind="image",
        response_format="b64_json",
        extra_body=lambda: af.image_params(aspect_ratio="21:9"),
    ),
    Scenario(
        "nano_banana_resolution",
        model="nano-banana-2",
        prompt="A bowl of ramen, studio light",
        kind="image",
        response_format="b64_json",
        extra_body=lambda: af.image_params(aspect_ratio="4:3", resolution="1024"),
    ),
    Scenario(
        "suno",
        model="suno-v5",
        prompt="An upbeat synthwave track about otters",
        kind="audio",
        extra_body=lambda: af.suno_params(custom=True, instrumental=True, style="EDM, Bass"),
    ),
)
"""Basic, ``sse: true``, image-to-image, Flux ``aspect_ratio``, Nano-Banana ``resolution``, Suno."""


def record(
    scenarios: Sequence[Scenario],
    directory: Path,
    *,
    api_key: str,
    base_url: str,
) -> list[Path]:
    """Record each scenario into ``directory/<name>.yaml``, replacing what was there."""
    origin = base_url.rstrip("/").removesuffix("/v1")
    urls = {origin: ORIGIN} if origin != ORIGIN else None
    recorder = vcr.VCR(**vcr_config(record_mode="once", replace_urls=urls))
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for scenario in scenarios:
        path = directory / scenario.cassette
        path.unlink(missing_ok=True)
        with (
            tempfile.TemporaryDirectory() as files,
            recorder.use_cassette(str(path)),
            af.OpenAI(api_key=api_key, base_url=base_url, max_retries=0) as client,
        ):
            response, paths = scenario.run(client, Path(files))
            scenario.check(response, paths)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Record the cassettes; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--live",
        action="store_true",
        help="record against the real gateway (needs AIRFORCE_API_KEY; every call is billed)",
    )
    parser.add_argument("--out", type=Path, default=CASSETTES, help=f"directory ({CASSETTES})")
    parser.add_argument(
        "--only",
        action="append",
        choices=[s.name for s in SCENARIOS],
        help="record only this scenario (repeatable)",
    )
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    if args.live:
        api_key = os.environ.get("AIRFORCE_API_KEY")
        if not api_key:
            parser.error("--live needs the AIRFORCE_API_KEY environment variable")
        base_url = os.environ.get("AIRFORCE_BASE_URL") or af.DEFAULT_BASE_URL
        written = record(chosen, args.out, api_key=api_key, base_url=base_url)
    else:
        with Emulator() as emulator:
            written = record(chosen, args.out, api_key=emulator.api_key, base_url=emulator.base_url)
    for path in written:
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
