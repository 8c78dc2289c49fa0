"""What the examples share: the ``--offline`` and ``--out`` options.

>>> args = example_parser(__doc__).parse_args()
>>> with gateway(args.offline): client = af.OpenAI()
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

_SETTINGS = ("AIRFORCE_BASE_URL", "AIRFORCE_API_KEY")


def example_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with ``--offline`` and ``--out``, described by the example's docstring ``doc``."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().splitlines()[0] if doc else None
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use the bundled emulator instead of api.airforce (no key needed)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out"), help="where files are saved (default: ./out)"
    )
    return parser


@contextlib.contextmanager
def gateway(offline: bool) -> Iterator[None]:
    """Online: the gateway and AIRFORCE_API_KEY. Offline: the emulator, via the same settings."""
    if not offline:
        yield
        return
    from airforce_openai.testing import Emulator

    saved = {name: os.environ.get(name) for name in _SETTINGS}
    with Emulator() as emulator:
        os.environ["AIRFORCE_BASE_URL"] = emulator.base_url
        os.environ["AIRFORCE_API_KEY"] = emulator.api_key
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
