"""A 10 MB ``b64_json`` answered as ``sse: true`` against the same answer as plain JSON.

Every call goes through ``af.OpenAI`` with a warm catalog and strict validation,
served by an in-process ``httpx.MockTransport`` (no network), and the stock
``openai.OpenAI`` reading the plain JSON answer is shown for reference. Time is
the median of several calls; memory is the ``tracemalloc`` peak of one call,
measured in separate runs (tracing slows the calls down).

    python benchmarks/sse_large.py               # 15 timed calls of each, 10 MB
    python benchmarks/sse_large.py --calls 31 --megabytes 20
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator

import openai
from openai.types import ImagesResponse

import airforce_openai as af
from airforce_openai.testing import httpx
from airforce_openai.testing._catalog_data import default_catalog

TARGET = 1.3
BASE_URL = "https://api.airforce/v1"
CATALOG = json.dumps({"object": "list", "data": default_catalog()}).encode()


def answers(megabytes: float) -> tuple[bytes, bytes]:
    """The same result as a JSON body and as an event stream, ``megabytes`` of base64 each."""
    raw = b"\xff\xd8\xff\xe0" + os.urandom(int(megabytes * 1_000_000 * 3 / 4))
    payload = json.dumps(
        {"created": 1715000000, "data": [{"url": None, "b64_json": base64.b64encode(raw).decode()}]}
    ).encode()
    return payload, b"data: " + payload + b"\n\ndata: [DONE]\n\n"


class _Chunks(httpx.SyncByteStream):
    """A body that arrives in pieces, so the client assembles it as it would off the network."""

    def __init__(self, content: bytes, size: int = 64 * 1024) -> None:
        self._content = memoryview(content)
        self._size = size

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._content), self._size):
            yield bytes(self._content[start : start + self._size])


def transport(plain: bytes, stream: bytes) -> httpx.Client:
    """A client whose transport answers like the gateway: SSE when the body asks for it."""

    def answer(content: bytes, content_type: str) -> httpx.Response:
        headers = {"content-type": content_type, "content-length": str(len(content))}
        return httpx.Response(200, headers=headers, stream=_Chunks(content))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return answer(CATALOG, "application/json")
        if json.loads(request.content).get("sse") is True:
            return answer(stream, "text/event-stream")
        return answer(plain, "application/json")

    return httpx.Client(transport=httpx.MockTransport(handler))


def seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def peak_bytes(call: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15, help="timed calls of each (15)")
    parser.add_argument("--megabytes", type=float, default=10.0, help="size of b64_json (10)")
    args = parser.parse_args()
    if args.calls < 1 or args.megabytes <= 0:
        parser.error("--calls and --megabytes must be positive")

    plain, stream = answers(args.megabytes)
    ours = af.OpenAI(
        api_key="sk-air-bench", base_url=BASE_URL, http_client=transport(plain, stream)
    )
    stock = openai.OpenAI(
        api_key="sk-air-bench", base_url=BASE_URL, http_client=transport(plain, stream)
    )
    ours.catalog.refresh()  # warm: measure the answer's path, not the catalog fetch

    def check(response: ImagesResponse) -> ImagesResponse:
        assert response.data and len(response.data[0].b64_json or "") > len(plain) - 200
        return response

    def generate(client: openai.OpenAI, extra_body: object = None) -> ImagesResponse:
        return check(
            client.images.generate(
                model="flux-2-dev",
                prompt="an otter",
                response_format="b64_json",
                extra_body=extra_body,
            )
        )

    calls: dict[str, Callable[[], object]] = {
        "stock openai.OpenAI, JSON": lambda: generate(stock),
        "af.OpenAI, JSON": lambda: generate(ours),
        "af.OpenAI, sse: true": lambda: generate(ours, extra_body={"sse": True}),
    }
    for call in calls.values():  # warm-up, and a check that each path returns the image
        call()

    # A fresh order each round: a call's cost depends on what the one before left in memory.
    order = random.Random(0)
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.calls):
        order.shuffle(names)
        for name in names:
            times[name].append(seconds(calls[name]))
    peaks = {name: peak_bytes(call) for name, call in calls.items()}

    print(f"b64_json of {len(plain) / 1e6:.1f} MB; median of {args.calls} calls; tracemalloc peak")
    median = {name: statistics.median(values) for name, values in times.items()}
    for name in calls:
        print(f"{name:<28} {median[name] * 1000:8.1f} ms {peaks[name] / 1e6:8.1f} MB")
    sse, json_ = "af.OpenAI, sse: true", "af.OpenAI, JSON"
    print(
        f"ratio sse/JSON (af.OpenAI): time {median[sse] / median[json_]:.3f}x, "
        f"memory {peaks[sse] / peaks[json_]:.3f}x  (target <= {TARGET}x)"
    )
    reference = "stock openai.OpenAI, JSON"
    print(
        f"ratio af.OpenAI JSON / stock JSON: time {median[json_] / median[reference]:.3f}x, "
        f"memory {peaks[json_] / peaks[reference]:.3f}x"
    )


if __name__ == "__main__":
    main()
