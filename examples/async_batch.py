"""Async batch: many prompts, a bounded number in flight, failures kept in their slots.

python examples/async_batch.py --offline --out out/
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _common import example_parser, gateway

import airforce_openai as af

PROMPTS = [
    "A lighthouse in a storm",
    "A lighthouse at dawn",
    "A lighthouse under the northern lights",
    "A lighthouse in fog",
    "A lighthouse seen from the sea",
    "A lighthouse drawn in ink",
]


def show(progress: af.Progress) -> None:
    print(f"{progress.done}/{progress.total} done, {progress.failed} failed", file=sys.stderr)


async def run(out: Path) -> None:
    async with af.AsyncOpenAI() as client:
        requests = [
            {"model": "flux-2-dev", "prompt": prompt, "response_format": "b64_json"}
            for prompt in PROMPTS
        ]
        results = await af.generate_many(client, requests, concurrency=4, on_progress=show)
        for index, (prompt, result) in enumerate(zip(PROMPTS, results, strict=True)):
            if isinstance(result, BaseException):
                print(f"failed: {prompt!r}: {result}", file=sys.stderr)
                continue
            for path in await af.asave_images(result, out, prefix=f"lighthouse-{index}"):
                print(path)


def main() -> None:
    args = example_parser(__doc__).parse_args()
    with gateway(args.offline):
        asyncio.run(run(args.out))


if __name__ == "__main__":
    main()
