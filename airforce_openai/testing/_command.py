"""The emulator command: serve the gateway emulator in the foreground until Ctrl-C or SIGTERM.

    $ python -m airforce_openai.testing --port 8080
    $ airforce-openai emulator --port 8080

Both are this one command: ``add_options`` gives a parser its options, ``run`` serves them.
Exit statuses: 0 once stopped, 1 when it cannot listen, 2 for a bad option. The emulator is
imported only to be served: ``airforce-openai`` builds its parser on every run.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_options", "main", "run"]


def add_options(parser: argparse.ArgumentParser, *, port: int = 0) -> None:
    """Give ``parser`` the command's options, all but ``--api-key`` (the caller has its own)."""
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=port, help=f"port (default {port}; 0 picks a free one)"
    )
    parser.add_argument(
        "--latency", type=_seconds, default=0.0, help="seconds added to each generation"
    )
    parser.add_argument(
        "--catalog", type=Path, help="JSON file: a list of models or a /v1/models envelope"
    )
    parser.add_argument("--log", action="store_true", help="print a line per request on stderr")


def run(args: argparse.Namespace) -> int:
    """Serve the emulator ``args`` describe until Ctrl-C or SIGTERM; returns the exit status."""
    from ._emulator import DEFAULT_API_KEY, Emulator, serve_forever

    key, host, port = args.api_key or DEFAULT_API_KEY, args.host, args.port
    try:
        emulator = Emulator(key, args.catalog, args.latency, host, port, log_requests=args.log)
    except (TypeError, ValueError) as exc:  # a blank key, an unreadable catalog
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with _sigterm_interrupts():
            serve_forever(emulator)
    except KeyboardInterrupt:
        print("emulator stopped", file=sys.stderr)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m airforce_openai.testing``; returns the exit status."""
    from ._emulator import DEFAULT_API_KEY

    parser = argparse.ArgumentParser(
        prog="python -m airforce_openai.testing",
        description="Serve a loopback emulator of the api.airforce gateway until Ctrl-C.",
    )
    parser.add_argument("--api-key", help=f"key to accept (default {DEFAULT_API_KEY})")
    add_options(parser)
    return run(parser.parse_args(argv))


def _checked(parse: Callable[[str], Any], fits: Callable[[Any], bool], expected: str) -> Any:
    """An argparse ``type`` that ``parse``s the text and refuses a value that does not ``fit``."""

    def convert(text: str) -> Any:
        with contextlib.suppress(ValueError):
            if fits(value := parse(text)):
                return value
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")

    return convert


_port = _checked(int, lambda n: 0 <= n <= 65535, "a port between 0 and 65535")
_seconds = _checked(float, lambda s: 0 <= s < math.inf, "a number of seconds >= 0")


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Let SIGTERM stop the server the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
