"""Batch throughput: ``af.generate_many`` against a stock client with ``asyncio.gather``.

    python benchmarks/batch.py            # 64 requests, concurrency 16, 0.1 s emulator latency
    python benchmarks/batch.py --runs 9

Both run in the same process against the same loopback emulator. The ideal wall time
is ``ceil(requests / concurrency) * latency``; the target is within 1.25x of it.
Exits with status 1 when ``generate_many`` misses the target.

The emulator runs in its own process, as the gateway would be on its own machine: in
this process its drawing threads would hold the interpreter lock the client needs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import openai

import airforce_openai as af

TARGET_RATIO = 1.25
Batch = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Gateway:
    base_url: str
    api_key: str


@contextlib.contextmanager
def emulator_process(latency: float) -> Iterator[Gateway]:
    """The bundled emulator in a child process, stopped on exit."""
    command = [sys.executable, "-m", "airforce_openai.testing", "--port", "0"]
    child = subprocess.Popen(
        [*command, "--latency", str(latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        settings: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(settings) < 2 and time.monotonic() < deadline:
            line = child.stdout.readline() if child.stdout else ""
            if not line:
                break
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                settings[name] = value
        if len(settings) < 2:
            raise RuntimeError("the emulator did not start")
        yield Gateway(settings["AIRFORCE_BASE_URL"], settings["AIRFORCE_API_KEY"])
    finally:
        child.terminate()
        child.wait(timeout=10)


def _requests(count: int, size: str | None) -> list[dict[str, Any]]:
    extra = {"size": size} if size else {}
    return [
        {"model": "flux-2-dev", "prompt": f"benchmark image {i}", **extra} for i in range(count)
    ]


async def _timed(batch: Batch, runs: int) -> list[float]:
    await batch()  # untimed: opens the pooled connections
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await batch()
        times.append(time.perf_counter() - started)
    return times


async def _measure(
    emulator: Gateway, count: int, concurrency: int, runs: int, size: str | None
) -> dict[str, list[float]]:
    requests = _requests(count, size)
    async with (
        af.AsyncOpenAI(base_url=emulator.base_url, api_key=emulator.api_key) as ours,
        openai.AsyncOpenAI(base_url=emulator.base_url, api_key=emulator.api_key) as stock,
    ):
        await ours.catalog.image_models()  # a warm catalog: no fetch inside the timed runs

        async def with_generate_many() -> None:
            results = await af.generate_many(ours, requests, concurrency=concurrency)
            _check(results)

        async def with_gather() -> None:
            limit = asyncio.Semaphore(concurrency)

            async def one(request: dict[str, Any]) -> Any:
                async with limit:
                    return await stock.images.generate(**request)

            _check(await asyncio.gather(*(one(request) for request in requests)))

        return {
            "af.generate_many (af.AsyncOpenAI)": await _timed(with_generate_many, runs),
            "asyncio.gather + Semaphore (openai.AsyncOpenAI)": await _timed(with_gather, runs),
        }


def _check(results: Sequence[object]) -> None:
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed; the first: {failures[0]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.1, help="emulator seconds per request")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is shown")
    parser.add_argument(
        "--size",
        default="",
        help="size of each request, e.g. 16x16 (default: none, the model's default shape)",
    )
    args = parser.parse_args()

    if args.requests < 1 or args.concurrency < 1 or args.runs < 1 or not args.latency > 0:
        parser.error("--requests, --concurrency, --runs and --latency must be positive")
    ideal = math.ceil(args.requests / args.concurrency) * args.latency
    with emulator_process(args.latency) as emulator:
        timings = asyncio.run(
            _measure(emulator, args.requests, args.concurrency, args.runs, args.size)
        )

    print(
        f"{args.requests} requests, concurrency {args.concurrency}, "
        f"emulator latency {args.latency:g} s, size {args.size or 'default'}: ideal {ideal:.3f} s "
        f"(median of {args.runs} runs, target <= {TARGET_RATIO}x ideal)"
    )
    width = max(len(name) for name in timings)
    for name, times in timings.items():
        median = statistics.median(times)
        runs = ", ".join(f"{t:.3f}" for t in times)
        print(f"  {name:<{width}}  {median:.3f} s  {median / ideal:.2f}x ideal  [{runs}]")
    ours = statistics.median(next(iter(timings.values())))
    return 0 if ours <= TARGET_RATIO * ideal else 1


if __name__ == "__main__":
    raise SystemExit(main())
