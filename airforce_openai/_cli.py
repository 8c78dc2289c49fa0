"""The ``airforce-openai`` command: list the image models, generate, or serve the emulator.

    $ airforce-openai models
    $ airforce-openai generate "a sea otter at dawn" --aspect-ratio 16:9 --out renders/

Every command takes ``--offline`` (use the bundled emulator), ``--base-url``,
``--api-key``, ``--validation`` and ``--debug``, before or after its name.

Exit statuses: 0 success; 1 anything else (e.g. the emulator cannot listen);
2 bad command-line usage (also an ``--out`` or ``--prefix`` that cannot be written,
found before anything is sent); 3 the request breaks the model's capabilities (nothing
was sent); 4 the gateway refused or failed (a result it could not deliver included);
5 missing or rejected API key; 6 unreadable or invalid input file; 7 network failure;
8 the results could not be written to ``--out`` (the generation succeeded and was
billed; the files already written are printed); 130 interrupted (Ctrl-C).

The key in use is never printed: wherever the gateway echoes it back, it is masked.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import enum
import errno
import json
import os
import secrets
import stat
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO
from urllib.parse import urlsplit

import openai

from ._catalog import ImageModel
from ._client import OpenAI
from ._exceptions import (
    CapabilityError,
    CapabilityWarning,
    CatalogFormatError,
    ImageUnavailableError,
    InputImageError,
    OutcomeUnknownError,
)
from ._failures import gateway_message, redact_secret, secret_spellings
from ._formats import KNOWN_TYPES
from ._params import image_params
from ._results import MAX_NAME_ATTEMPTS, save_images
from ._values import shorten

if TYPE_CHECKING:
    from .testing import Emulator

__all__ = ["ExitStatus", "exit_status", "format_models_table", "main", "models_json"]

PROG = "airforce-openai"
DEFAULT_MODEL = "flux-2-dev"
DEFAULT_EMULATOR_PORT = 8787
_UNSTATED = "-"


class ExitStatus(enum.IntEnum):
    """The command's exit statuses, one per kind of failure."""

    OK = 0
    OTHER = 1
    USAGE = 2
    CAPABILITY = 3
    GATEWAY = 4
    AUTH = 5
    INPUT_FILE = 6
    NETWORK = 7
    OUTPUT = 8
    INTERRUPTED = 130  # the shell's convention for Ctrl-C


class _MissingKey(Exception):
    """The client could not be built: no usable API key was given or found."""


class _UsageError(Exception):
    """An option value found unusable after parsing, before anything is sent."""


class _SaveFailed(Exception):
    """The gateway's results arrived but could not all be written to the output directory."""

    def __init__(self, message: str, *, saved: Sequence[Path]) -> None:
        self.saved = list(saved)
        super().__init__(message)


def exit_status(exc: BaseException) -> ExitStatus:
    """The exit status for an error that ended a command."""
    if isinstance(exc, _UsageError):
        return ExitStatus.USAGE
    if isinstance(exc, CapabilityError):
        return ExitStatus.CAPABILITY
    if isinstance(exc, _SaveFailed):
        return ExitStatus.OUTPUT
    if isinstance(exc, InputImageError):
        return ExitStatus.INPUT_FILE
    if isinstance(exc, (_MissingKey, openai.AuthenticationError, openai.PermissionDeniedError)):
        return ExitStatus.AUTH
    if isinstance(
        exc,
        (
            openai.APIStatusError,
            openai.APIResponseValidationError,
            ImageUnavailableError,
            CatalogFormatError,
        ),
    ):
        return ExitStatus.GATEWAY
    if isinstance(exc, openai.APIConnectionError):
        return ExitStatus.NETWORK
    return ExitStatus.OTHER


# --------------------------------------------------------------------------- models table


def format_models_table(models: Sequence[ImageModel]) -> str:
    """A readable table of image models and what they accept; ``-`` where the gateway is silent."""
    header = ("MODEL", "MAX N", "ASPECT RATIOS", "INPUT IMAGES", "SEED", "USD/IMAGE")
    rows = [header] + [_model_row(model) for model in models]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append("")
    lines.append(f"{_UNSTATED} : not stated by the gateway (not checked before sending)")
    return "\n".join(lines)


def _model_row(model: ImageModel) -> tuple[str, str, str, str, str, str]:
    caps = model.caps
    return (
        model.id,
        _unstated_or(caps.max_n, str),
        _unstated_or(caps.aspect_ratios, ",".join),
        _input_images_cell(caps.max_input_images, caps.supports_url_input),
        {True: "yes", False: "ignored", None: _UNSTATED}[caps.supports_seed],
        _unstated_or(model.price_per_image_usd, _usd),
    )


def _unstated_or(value: Any, show: Callable[[Any], object]) -> str:
    return _UNSTATED if value is None else str(show(value))


def _input_images_cell(count: int | None, urls: bool | None) -> str:
    if count == 0:
        return "none"
    shown = _UNSTATED if count is None else str(count)
    if urls is True:
        return f"{shown} (urls ok)"
    if urls is False:
        return f"{shown} (no urls)"
    return shown


def _usd(price: float) -> str:
    text = f"{price:.6f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def models_json(models: Sequence[ImageModel]) -> list[dict[str, Any]]:
    """The image models as JSON-ready dicts: ``id``, every caps field, ``price_per_image_usd``."""
    entries: list[dict[str, Any]] = []
    for model in models:
        caps = {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(model.caps).items()
        }
        entries.append({"id": model.id, **caps, "price_per_image_usd": model.price_per_image_usd})
    return entries


# --------------------------------------------------------------------------- progress


class _Elapsed:
    """Shows the seconds spent waiting, updated in place, while a block runs.

    It writes only to a terminal: piped or captured output stays clean.
    """

    def __init__(self, stream: TextIO, label: str, interval: float = 0.1) -> None:
        self._stream = stream
        self._label = label
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def __enter__(self) -> _Elapsed:
        if not _is_terminal(self._stream):
            return self
        self._started = time.monotonic()
        self._show()
        self._thread = threading.Thread(target=self._loop, name="airforce-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=1.0)
        self._stream.write("\r\x1b[K")
        self._stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._show()

    def _show(self) -> None:
        elapsed = time.monotonic() - self._started
        self._stream.write(f"\r{self._label} {elapsed:.1f}s")
        self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------- the parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _file_prefix(text: str) -> str:
    separators = {"/", "\\", os.sep} | ({os.altsep} if os.altsep else set())
    if not text or text in (".", "..") or any(sep in text for sep in separators):
        raise argparse.ArgumentTypeError(
            f"expected a file name without a directory part, got {text!r}"
        )
    if "\x00" in text:
        raise argparse.ArgumentTypeError(f"a file name cannot contain a NUL character: {text!r}")
    _encodable(text)
    return text


def _out_dir(text: str) -> Path:
    if not text:
        raise argparse.ArgumentTypeError("expected a directory, got an empty path")
    if "\x00" in text:
        raise argparse.ArgumentTypeError(f"a path cannot contain a NUL character: {text!r}")
    _encodable(text)
    return Path(text)


def _encodable(text: str) -> None:
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} cannot be encoded as a file name on this system"
        ) from None


def _base_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected an http(s) URL such as https://api.airforce/v1, got {text!r}"
        )
    return text.strip()


def _prompt(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the prompt is empty; say what to generate")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors said in one ``error:`` line like the others."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitStatus.USAGE, f"error: {message}\n  (see `{self.prog} --help`)\n")


def _common_options(*, suppress: bool) -> _Parser:
    """Options every command takes; ``suppress`` keeps a subcommand from resetting them."""
    default: Any = argparse.SUPPRESS if suppress else None
    flag_default: Any = argparse.SUPPRESS if suppress else False
    common = _Parser(add_help=False)
    group = common.add_argument_group("connection options (any command)")
    group.add_argument(
        "--offline",
        action="store_true",
        default=flag_default,
        help="start the bundled emulator in-process and use it instead of the gateway",
    )
    group.add_argument(
        "--base-url",
        type=_base_url,
        default=default,
        help="the gateway URL (default: $AIRFORCE_BASE_URL)",
    )
    group.add_argument(
        "--api-key", default=default, help="the API key (default: $AIRFORCE_API_KEY)"
    )
    group.add_argument(
        "--validation",
        choices=("strict", "warn", "off"),
        default=default,
        help="capability checks before sending: refuse (strict, default), warn, or off",
    )
    group.add_argument(
        "--debug", action="store_true", default=flag_default, help="show tracebacks on errors"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``airforce-openai`` command."""
    parser = _Parser(
        prog=PROG,
        description="Generate images through api.airforce with the openai SDK, checked first.",
        parents=[_common_options(suppress=False)],
        epilog=(
            "exit statuses: 0 ok, 1 other error, 2 usage, 3 capability violation, "
            "4 gateway refused or failed, 5 missing or rejected key, 6 bad input file, "
            "7 network failure, 8 results could not be written (billed; written paths printed)"
        ),
    )
    common = _common_options(suppress=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    models = commands.add_parser(
        "models", parents=[common], help="list the image models and what they accept"
    )
    models.add_argument("--json", action="store_true", help="print a JSON list instead")

    generate = commands.add_parser(
        "generate", parents=[common], help="generate images and save them"
    )
    generate.add_argument("prompt", metavar="PROMPT", type=_prompt, help="what to generate")
    generate.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})"
    )
    generate.add_argument("--n", type=_positive_int, help="how many results")
    generate.add_argument("--size", help="WxH, e.g. 1024x1024")
    generate.add_argument("--aspect-ratio", help="e.g. 16:9")
    generate.add_argument("--quality", help="a quality label the model lists")
    generate.add_argument("--seed", type=int, help="seed for reproducible results")
    generate.add_argument(
        "--input-image",
        action="append",
        metavar="PATH_OR_URL",
        help="a reference image, a local file or an http(s) URL (repeatable)",
    )
    generate.add_argument(
        "--format",
        choices=("b64", "url"),
        default="b64",
        help="b64 (default): files come inside the answer; url: downloaded from the file host",
    )
    generate.add_argument(
        "--sse", action="store_true", help="ask for the streamed answer (for slow renders)"
    )
    generate.add_argument(
        "--out", type=_out_dir, default=Path("."), help="directory for the files (default: .)"
    )
    generate.add_argument(
        "--prefix", type=_file_prefix, default="image", help="file name prefix (default: image)"
    )

    emulator = commands.add_parser(
        "emulator", parents=[common], help="serve the bundled gateway emulator until Ctrl-C"
    )
    from .testing._command import add_options  # stdlib only: the emulator loads when served

    add_options(emulator, port=DEFAULT_EMULATOR_PORT)
    return parser


# --------------------------------------------------------------------------- running


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_combination(parser, args)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else ExitStatus.USAGE
    redact = _Redactor([args.api_key, os.environ.get("AIRFORCE_API_KEY")])
    try:
        with _capability_warnings_on(sys.stderr, redact):
            if args.command == "emulator":
                return _serve_emulator(args)
            if args.command == "generate":
                # Before anything is sent: a render is billed even if it cannot be saved.
                _check_output(args.out, args.prefix, count=args.n or 1)
            with _connection(args) as client:
                if args.command == "models":
                    return _list_models(client, as_json=args.json, redact=redact)
                return _generate(client, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep Python's own
        # flush at exit from failing on the same pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitStatus.OK
    except Exception as exc:
        if args.debug:
            sys.stderr.write(redact(traceback.format_exc()))
        for line in _describe(exc, args):
            print(redact(line), file=sys.stderr)
        return int(exit_status(exc))


def _check_combination(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors argparse cannot see alone; exits with status 2 like its own."""
    if args.offline and args.base_url:
        parser.error("--offline and --base-url cannot be used together")


# --------------------------------------------------------------------------- output checks

# save_images names a file "{prefix}-{index}{extension}", or "{prefix}-{index}-{attempt}..."
# when that name is taken: the probe takes the longest of those names.
_LONGEST_EXTENSION = max(len(m.extension) for m in KNOWN_TYPES)
_DEFAULT_NAME_MAX = 255
_PROBE_ATTEMPTS = 5


def _name_suffix_bytes(count: int) -> int:
    """Bytes a result's file name adds to the prefix, at most, for ``count`` results."""
    return len(f"-{max(count, 1) - 1}-{MAX_NAME_ATTEMPTS - 1}") + _LONGEST_EXTENSION


def _check_output(out: Path, prefix: str, *, count: int) -> None:
    """Refuse an ``--out`` or ``--prefix`` the results could not be written to.

    Leaves nothing behind: a file named like the longest result name is created in
    ``out`` (or its nearest existing parent, when ``out`` is still to be made) and removed.
    """
    existing, missing = _nearest_directory(out)
    name_max = _name_max(existing)
    for name in missing:
        size = len(os.fsencode(name))
        if size > name_max:
            raise _UsageError(
                f"--out cannot be created: the directory name {shorten(name, 43)!r} is "
                f"{size} bytes, more than the {name_max} this file system allows"
            )
    suffix = _name_suffix_bytes(count)
    size = len(os.fsencode(prefix))
    if size + suffix > name_max:
        raise _UsageError(
            f"--prefix is too long: {size} bytes, and file names in {str(existing)!r} take at "
            f"most {name_max}, so the prefix may have at most {max(name_max - suffix, 0)}"
        )
    _probe(out, existing, prefix, suffix)


def _nearest_directory(out: Path) -> tuple[Path, list[str]]:
    """The nearest existing directory at or above ``out``, and the names below it to create."""
    missing: list[str] = []
    candidate = out
    while True:
        try:
            mode: int | None = os.stat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            mode = None  # not there, or under a file: the parents say which
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:  # a loop of links, no permission...
                raise _UsageError(f"--out {str(out)!r} cannot be used: {_reason(exc)}") from None
            mode = None  # the lengths of the names are checked below
        if mode is not None and stat.S_ISDIR(mode):
            return candidate, missing[::-1]
        if mode is not None and candidate == out:
            raise _UsageError(f"--out {str(out)!r} exists and is not a directory")
        if mode is not None:
            raise _UsageError(
                f"--out {str(out)!r} cannot be created: {str(candidate)!r} is a file, "
                "not a directory"
            )
        if os.path.islink(candidate):
            raise _UsageError(
                f"--out {str(out)!r} cannot be created: {str(candidate)!r} is a broken "
                "symbolic link"
            )
        if candidate.parent == candidate:
            raise _UsageError(f"--out {str(out)!r} cannot be created: nothing of it exists")
        missing.append(candidate.name)
        candidate = candidate.parent


def _name_max(directory: Path) -> int:
    try:
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError, TypeError):  # no pathconf, or no limit stated
        return _DEFAULT_NAME_MAX


def _probe(out: Path, directory: Path, prefix: str, suffix: int) -> None:
    """Create and remove a file named like the longest result, to learn that writing works."""
    for _ in range(_PROBE_ATTEMPTS):
        path = directory / (prefix + secrets.token_hex(suffix)[:suffix])
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise _UsageError(_probe_failure(out, directory, prefix, exc)) from None
        os.close(descriptor)
        with contextlib.suppress(OSError):
            path.unlink()
        return


def _probe_failure(out: Path, directory: Path, prefix: str, exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return f"--prefix is too long for a file name in {str(directory)!r}: {_reason(exc)}"
    if exc.errno in (errno.EINVAL, errno.EILSEQ):
        return f"--prefix {prefix!r} cannot be a file name in {str(directory)!r}: {_reason(exc)}"
    where = f"--out {str(out)!r}"
    if directory != out:
        where += f" cannot be created in {str(directory)!r}"
    else:
        where += " cannot be written to"
    return f"{where}: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _listing(out: Path, prefix: str) -> set[str]:
    """The names in ``out`` that a result could have (none is ever overwritten)."""
    try:
        return {name for name in os.listdir(out) if name.startswith(f"{prefix}-")}
    except OSError:
        return set()


# --------------------------------------------------------------------------- the key stays secret


class _Redactor:
    """Masks the API key in use wherever it would be printed (the gateway may echo it).

    The same rule as the clients' error messages (:func:`failures.redact_secret`), applied
    to each spelling the key may come back in: raw, URL-encoded, JSON-escaped, repr'd.
    """

    def __init__(self, keys: Sequence[str | None]) -> None:
        forms = {form for key in keys if key for form in secret_spellings(key)}
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = redact_secret(text, form)
        return text


@contextlib.contextmanager
def _capability_warnings_on(stream: TextIO, redact: Callable[[str], str]) -> Iterator[None]:
    """Show ``CapabilityWarning`` as one ``warning:`` line, not a source location."""
    with warnings.catch_warnings():
        original = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, CapabilityWarning):
                print(redact(f"warning: {message}"), file=stream)
            else:
                original(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", CapabilityWarning)
        yield


def _unusable_key(key: str | None) -> bool:
    # Such a key makes an invalid Authorization header: the request could never go out.
    return any(ch.isspace() or not ch.isprintable() or not ch.isascii() for ch in key or "")


@contextlib.contextmanager
def _connection(args: argparse.Namespace) -> Iterator[OpenAI]:
    """The client the options ask for, and the in-process emulator behind it with --offline."""
    with contextlib.ExitStack() as stack:
        base_url, api_key = args.base_url, args.api_key
        if _unusable_key(api_key or os.environ.get("AIRFORCE_API_KEY")):
            source = "--api-key" if api_key else "AIRFORCE_API_KEY"
            raise _MissingKey(
                f"the API key from {source} contains spaces, control or non-ASCII characters "
                "(it is not shown); check how it was copied"
            )
        if args.offline:
            emulator = stack.enter_context(_start_emulator(api_key))
            base_url, api_key = emulator.base_url, emulator.api_key
            print(f"offline: using the bundled emulator at {base_url}", file=sys.stderr)
        try:
            client = OpenAI(
                api_key=api_key, base_url=base_url, validation=args.validation or "strict"
            )
        except openai.OpenAIError as exc:
            raise _MissingKey(str(exc)) from exc
        yield stack.enter_context(client)


def _start_emulator(api_key: str | None) -> Emulator:
    # Imported here: the emulator is for --offline and tests, not for every run.
    from .testing import Emulator

    if api_key:
        return Emulator(api_key=api_key)
    return Emulator()


def _list_models(client: OpenAI, *, as_json: bool, redact: Callable[[str], str]) -> int:
    models = client.catalog.image_models()
    if as_json:
        print(redact(json.dumps(models_json(models), indent=2)))
    else:
        print(redact(format_models_table(models)))
    return ExitStatus.OK


def _generate(client: OpenAI, args: argparse.Namespace) -> int:
    extra = image_params(
        aspect_ratio=args.aspect_ratio,
        seed=args.seed,
        input_images=args.input_image,
        sse=True if args.sse else None,
        size=args.size,
        quality=args.quality,
    )
    with _Elapsed(sys.stderr, f"generating with {args.model}..."):
        response = client.images.generate(
            model=args.model,
            prompt=args.prompt,
            n=args.n,
            response_format="url" if args.format == "url" else "b64_json",
            extra_body=extra,
        )
        before = _listing(args.out, args.prefix)
        try:
            paths = save_images(response, args.out, prefix=args.prefix)
        except ImageUnavailableError as exc:
            for path in exc.saved:
                print(path)
            raise
        except OSError as exc:
            # A full disk, a permission changed since the check: the render is paid for,
            # so say what was kept, and do not blame the gateway.
            saved = sorted(args.out / name for name in _listing(args.out, args.prefix) - before)
            for path in saved:
                print(path)
            raise _SaveFailed(
                f"the results could not be written to {str(args.out)!r}: {_reason(exc)}; "
                f"the generation succeeded and was billed ({len(saved)} of "
                f"{len(response.data or [])} files written, listed on stdout)",
                saved=saved,
            ) from exc
    for path in paths:
        print(path)
    return ExitStatus.OK


def _serve_emulator(args: argparse.Namespace) -> int:
    from .testing._command import run  # the one emulator command, also python -m ...testing

    return run(args)


# --------------------------------------------------------------------------- error text


def _describe(exc: BaseException, args: argparse.Namespace) -> list[str]:
    """One or a few lines that say what went wrong and what to do about it."""
    if isinstance(exc, CapabilityError):
        lines = [
            f"error: the request breaks {exc.model or 'the model'}'s capabilities; "
            "nothing was sent:"
        ]
        lines += [f"  - {violation.message}" for violation in exc.violations]
        lines.append(f"  (see `{PROG} models`; --validation warn sends it anyway)")
        return lines
    if isinstance(exc, _MissingKey):
        return [f"error: {exc}", "  (or use --api-key KEY, or --offline to try the emulator)"]
    if isinstance(exc, (_UsageError, _SaveFailed)):
        return [f"error: {exc}"]
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return [
            f"error: the gateway refused the API key (HTTP {exc.status_code}): "
            f"{gateway_message(exc.body, exc.message)}"
        ]
    if isinstance(exc, openai.APIStatusError):
        request_id = f" [request id {exc.request_id}]" if exc.request_id else ""
        return [
            f"error: the gateway answered HTTP {exc.status_code}: "
            f"{gateway_message(exc.body, exc.message)}{request_id}"
        ]
    if isinstance(exc, OutcomeUnknownError):
        return [f"error: {exc}"]
    if isinstance(exc, openai.APIConnectionError):
        where = args.base_url or os.environ.get("AIRFORCE_BASE_URL") or "the gateway"
        return [f"error: could not reach {where}: {exc}"]
    if isinstance(exc, openai.APIResponseValidationError):
        return [f"error: the gateway's answer could not be read: {exc}"]
    if isinstance(exc, CatalogFormatError):
        return [f"error: the gateway's model list could not be read: {exc}"]
    if isinstance(exc, ImageUnavailableError):
        return [
            f"error: {line}" if i == 0 else line for i, line in enumerate(str(exc).splitlines())
        ]
    if isinstance(exc, InputImageError):
        return [f"error: input image: {exc}"]
    return [f"error: {exc}" if str(exc) else f"error: {type(exc).__name__}"]
