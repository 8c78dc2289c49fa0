"""Per-call cost of ``af.OpenAI`` (warm catalog, strict validation) against ``openai.OpenAI``.

Both clients send the same generation call through the same in-process transport
(``httpx.MockTransport``), so the figure is the client-side cost alone, with no
network noise. Calls are measured in alternating rounds, and the medians compared.

    python benchmarks/overhead.py            # default: 15 rounds of 200 calls each
    python benchmarks/overhead.py --rounds 5 --calls 100
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import openai

import airforce_openai as af
from airforce_openai.testing import httpx
from airforce_openai.testing._catalog_data import default_catalog

ANSWER = json.dumps({"created": 1715000000, "data": [{"url": "https://files.example/image.jpeg"}]})
CATALOG = json.dumps({"object": "list", "data": default_catalog()})


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/models"):
        return httpx.Response(200, text=CATALOG, headers={"content-type": "application/json"})
    return httpx.Response(200, text=ANSWER, headers={"content-type": "application/json"})


def per_call(generate: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        generate()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    def transport() -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(handler))

    base = "https://api.airforce/v1"
    stock = openai.OpenAI(api_key="sk-air-bench", base_url=base, http_client=transport())
    ours = af.OpenAI(api_key="sk-air-bench", base_url=base, http_client=transport())
    ours.catalog.refresh()  # warm: the benchmark measures the per-call path, not the fetch

    kwargs = {
        "model": "flux-2-dev",
        "prompt": "a lighthouse at dawn",
        "n": 1,
        "extra_body": af.image_params(aspect_ratio="16:9", seed=7),
    }
    calls = {
        "stock openai.OpenAI": lambda: stock.images.generate(**kwargs),  # type: ignore[arg-type]
        "af.OpenAI": lambda: ours.images.generate(**kwargs),  # type: ignore[arg-type]
    }
    for call in calls.values():  # warm-up
        per_call(call, 20)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.rounds):
        for name, call in calls.items():
            samples[name].append(per_call(call, args.calls))

    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, median in medians.items():
        print(f"{name:<22} median {median * 1e6:8.1f} us per call")
    ratio = medians["af.OpenAI"] / medians["stock openai.OpenAI"]
    print(f"ratio af/stock: {ratio:.3f}x  (target <= 1.05x)")


if __name__ == "__main__":
    main()
