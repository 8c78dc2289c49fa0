"""``extra_body`` helpers: the gateway's own parameters, checked and shaped for the wire.

    >>> body = af.image_params(aspect_ratio="16:9", input_images=["ref.png"])
    >>> response = client.images.generate(model="flux-2-dev", prompt="an otter", extra_body=body)

The helpers return plain ``dict``s, so they merge with ``|``. ``None`` values are
dropped (unknown keyword arguments included), ``False`` and ``0`` are kept, and
unknown keyword arguments pass through unchanged. Input images are read, checked
to be images by their content, and encoded here, before any request is made.
Only regular files are read (never a pipe, a device or a socket), and no input
image may hold more than :data:`MAX_INPUT_IMAGE_BYTES`, whatever its source.
Whether a model accepts a value is not checked here: the client's validator
does that against the model's capabilities.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from numbers import Integral
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias, TypedDict, TypeVar
from urllib.parse import urlsplit

from ._exceptions import InputImageError
from ._formats import IMAGE_TYPES, MediaType, sniff
from ._values import shorten

__all__ = [
    "MAX_INPUT_IMAGE_BYTES",
    "ImageParams",
    "ImageSource",
    "InputImage",
    "InputImageDict",
    "SunoParams",
    "image_params",
    "suno_params",
]


class InputImageDict(TypedDict, total=False):
    """One reference image on the wire: ``{"url": ...}`` or ``{"b64_json": ...}``, never both."""

    url: str
    """An ``http(s)://`` URL the gateway fetches, or a ``data:`` URL with base64 image data."""

    b64_json: str
    """The image file's bytes, base64-encoded."""


class ImageParams(TypedDict, total=False):
    """The gateway-specific fields :func:`image_params` produces."""

    aspect_ratio: str
    seed: int
    input_images: list[InputImageDict]
    resolution: str
    image_urls: list[str]
    sse: bool
    models: list[str]


class SunoParams(TypedDict, total=False):
    """The Suno fields :func:`suno_params` produces."""

    custom: bool
    instrumental: bool
    style: str


ImageSource: TypeAlias = (
    InputImageDict | Mapping[str, Any] | str | os.PathLike[str] | bytes | bytearray | memoryview
)
"""What ``input_images`` and ``image_urls`` accept, item by item.

A ``str`` starting with ``http://``, ``https://`` or ``data:`` is a URL; any other
``str`` is a file path.
"""

MAX_INPUT_IMAGE_BYTES = 20 * 1024 * 1024
"""The largest input image accepted, in bytes (20 MiB), per image and whatever its source.

The gateway answers 413 to bodies that are too large (observed.md, "Errors") without
stating a limit; a reference image is a few MiB at most, so 20 MiB refuses only
mistakes (a video, a disk image, a device) before they are read into memory.
"""

_URL_PREFIXES = ("http://", "https://", "data:")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# A scheme followed by "//" is an unambiguous URL; "c:" alone may be a Windows drive.
_FOREIGN_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_IMAGE_NAMES = ", ".join(t.name for t in IMAGE_TYPES)
_T = TypeVar("_T")


class InputImage:
    """Constructors for one reference image in the wire shape ``input_images`` expects.

    >>> refs = [af.InputImage.from_path("cat.png"), af.InputImage.from_url("https://x.test/a.jpg")]
    >>> extra = af.image_params(input_images=refs)
    >>> response = client.images.generate(model="flux-2-dev", prompt="a cat", extra_body=extra)
    """

    def __new__(cls) -> InputImage:
        raise TypeError(
            "InputImage is not instantiated; use InputImage.from_url(), "
            "InputImage.from_path() or InputImage.from_bytes()"
        )

    @staticmethod
    def from_url(url: str) -> InputImageDict:
        """Return ``{"url": url}`` for an ``http(s)://`` URL or a ``data:`` URL holding an image."""
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}")
        if not _is_url(url):
            raise InputImageError(
                f"not an http(s) or data: URL: {shorten(url)!r}; "
                "use InputImage.from_path() for a local file",
                source=url,
            )
        return {"url": _check_url(url, where=None)}

    @staticmethod
    def from_path(path: str | os.PathLike[str]) -> InputImageDict:
        """Return ``{"b64_json": ...}`` holding the file's bytes, after checking it is an image."""
        data, _ = _read_image_file(_as_path(path, "path"), where=None, given=path)
        return {"b64_json": _b64(data)}

    @staticmethod
    def from_bytes(data: bytes | bytearray | memoryview) -> InputImageDict:
        """Return ``{"b64_json": ...}`` holding ``data``, after checking it is an image."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        raw = _bytes_within_limit(data, subject="the data", where=None, source=None)
        _require_image(raw, subject="the data", where=None, source=None)
        return {"b64_json": _b64(raw)}


def image_params(
    *,
    aspect_ratio: str | None = None,
    seed: int | None = None,
    input_images: Iterable[ImageSource] | None = None,
    resolution: str | None = None,
    image_urls: Iterable[ImageSource] | None = None,
    sse: bool | None = None,
    models: Iterable[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return the gateway's image fields for ``extra_body``, checked and in the wire shape.

    >>> extra = af.image_params(aspect_ratio="16:9", seed=7, input_images=[Path("ref.png")])
    >>> response = client.images.generate(model="flux-2-dev", prompt="an otter", extra_body=extra)

    ``input_images`` items become ``{"url": ...}`` or ``{"b64_json": ...}``;
    ``image_urls`` items become URL strings, local files and bytes ``data:`` URLs.
    ``models`` is a fallback list of model ids, tried in order.
    A wrong type raises ``TypeError``; an unusable image raises ``InputImageError``
    naming its position, e.g. ``input_images[2]: file not found: /tmp/missing.png``.
    """
    return _params(
        {
            "aspect_ratio": (aspect_ratio, _check_str),
            "seed": (seed, _check_int),
            "input_images": (input_images, _each(_to_input_image)),
            "resolution": (resolution, _check_str),
            "image_urls": (image_urls, _each(_to_image_url)),
            "sse": (sse, _check_bool),
            "models": (models, _each(_model_id)),
        },
        extra,
    )


def suno_params(
    *,
    custom: bool | None = None,
    instrumental: bool | None = None,
    style: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return the Suno fields for ``extra_body`` (music through ``/images/generations``).

    >>> extra = af.suno_params(instrumental=True, style="EDM, Bass")
    >>> response = client.images.generate(model="suno-v5", prompt="a night drive", extra_body=extra)
    """
    return _params(
        {
            "custom": (custom, _check_bool),
            "instrumental": (instrumental, _check_bool),
            "style": (style, _check_str),
        },
        extra,
    )


# -- scalar parameters ------------------------------------------------------------------------


def _params(
    fields: Mapping[str, tuple[object, Callable[[Any, str], object]]], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Each field given (not None) checked and shaped by its check, then ``extra`` as it is."""
    params = {
        name: check(value, name) for name, (value, check) in fields.items() if value is not None
    }
    return params | {key: value for key, value in extra.items() if value is not None}


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} ({value!r})")
    return value


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} ({value!r})")
    return value


def _check_int(value: object, name: str) -> int:
    # Not is_int: any Integral (numpy's too) is a seed; a bool is one, but seed=True is a mistake.
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    return int(value)


def _check_list(value: object, name: str) -> list[object]:
    """Return the items of a list-like ``value``; a lone item is refused, not wrapped."""
    if isinstance(value, (str, bytes, bytearray, memoryview, os.PathLike, Mapping)):
        raise TypeError(
            f"{name} must be a list, got a single {type(value).__name__}; "
            f"wrap it in a list: {name}=[...]"
        )
    if not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list, got {type(value).__name__} ({value!r})")
    return list(value)


def _each(convert: Callable[[object, str], _T]) -> Callable[[object, str], list[_T]]:
    """A check of a list that converts each item, named by its position: ``name[i]``."""
    return lambda items, name: [
        convert(item, f"{name}[{i}]") for i, item in enumerate(_check_list(items, name))
    ]


def _model_id(model: object, where: str) -> str:
    if not isinstance(model, str):
        raise TypeError(f"{where} must be a model id (str), got {type(model).__name__} ({model!r})")
    if not model.strip():
        raise ValueError(f"{where} is an empty model id")
    return str(model)


# -- image sources ----------------------------------------------------------------------------


def _to_input_image(item: object, where: str) -> InputImageDict:
    """Turn one ``input_images`` item into ``{"url": ...}`` or ``{"b64_json": ...}``."""
    if isinstance(item, Mapping):
        image, _ = _check_image_dict(item, where)
        return image
    if isinstance(item, str) and _is_url(item):
        return {"url": _check_url(item, where)}
    data, _ = _read_source(item, where)
    return {"b64_json": _b64(data)}


def _to_image_url(item: object, where: str) -> str:
    """Turn one ``image_urls`` item into a URL string; local content becomes a ``data:`` URL."""
    if isinstance(item, Mapping):
        image, media = _check_image_dict(item, where)
        if media is None:
            return image["url"]
        return f"data:{media.mime};base64,{image['b64_json']}"
    if isinstance(item, str) and _is_url(item):
        return _check_url(item, where)
    data, media = _read_source(item, where)
    return f"data:{media.mime};base64,{_b64(data)}"


def _read_source(item: object, where: str) -> tuple[bytes, MediaType]:
    """Return the bytes and format of a local source: a path or raw bytes."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = _bytes_within_limit(item, subject="the data", where=where, source=where)
        return data, _require_image(data, subject="the data", where=where, source=where)
    if isinstance(item, (str, os.PathLike)):
        if not os.fspath(item):
            raise InputImageError(
                f"{where}: an empty string is neither a URL nor a path", source=item
            )
        return _read_image_file(_as_path(item, where), where=where, given=item)
    raise TypeError(
        f"{where}: expected a URL, a file path, bytes or a {{'url' | 'b64_json': str}} dict, "
        f"got {type(item).__name__}"
    )


def _as_path(value: object, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__}")
    return Path(os.fsdecode(value))


# O_NONBLOCK: opening a FIFO that was swapped in after the check returns at once,
# and the second look refuses it. Windows has no O_NONBLOCK, and only it has O_BINARY.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

# What a path that is not a regular file is, for the error message.
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_READ_CHUNK = 1024 * 1024
_LIMIT = f"the limit of {MAX_INPUT_IMAGE_BYTES} bytes (20 MiB, MAX_INPUT_IMAGE_BYTES)"


def _read_image_file(path: Path, *, where: str | None, given: object) -> tuple[bytes, MediaType]:
    """Read ``path`` once and return its bytes and format, or raise naming the path.

    Only a regular file is opened: a FIFO would block the call forever and a
    device such as ``/dev/zero`` never ends. The file is looked at before it is
    opened, opened without blocking, looked at again (it may have been replaced
    in between) and read up to one byte past the limit, whatever size it claims:
    some files (``/proc`` ones) say 0 bytes and never end, others grow meanwhile.
    """
    shown = os.fsdecode(given) if isinstance(given, (str, os.PathLike)) else str(path)

    def refuse(problem: str) -> InputImageError:
        return InputImageError(_at(where, problem), source=given)

    try:
        status = os.stat(path)
    except ValueError as exc:  # a NUL byte in the path
        raise refuse(f"cannot read {shown!r}: {exc}") from None
    except OSError as exc:
        raise _unreadable(exc, shown, refuse) from None
    _check_file_status(status, shown, refuse)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _unreadable(exc, shown, refuse) from None
    try:
        with os.fdopen(fd, "rb") as file:
            status = os.fstat(file.fileno())
            _check_file_status(status, shown, refuse)
            data = _read_within(file, MAX_INPUT_IMAGE_BYTES, expected=status.st_size)
    except OSError as exc:
        raise _unreadable(exc, shown, refuse) from None
    if data is None:
        raise refuse(f"{shown} is larger than {_LIMIT}; reading stopped there")
    if not data:
        raise refuse(f"file is empty: {shown}")
    return data, _require_image(data, subject=shown, where=where, source=given)


def _unreadable(
    exc: OSError, shown: str, refuse: Callable[[str], InputImageError]
) -> InputImageError:
    """The error for what looking at, opening or reading the file failed with."""
    if isinstance(exc, FileNotFoundError):
        return refuse(f"file not found: {shown}")
    if isinstance(exc, PermissionError):
        return refuse(f"cannot read {shown}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return refuse(f"{shown} is a directory, not a regular file")
    return refuse(f"cannot read {shown}: {exc.strerror or exc}")


def _check_file_status(
    status: os.stat_result, shown: str, refuse: Callable[[str], InputImageError]
) -> None:
    """Refuse anything but a regular file, and a file over the limit, before reading it."""
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(status.st_mode)), "not a file")
        raise refuse(f"{shown} is {kind}, not a regular file")
    if status.st_size > MAX_INPUT_IMAGE_BYTES:
        raise refuse(f"{shown} is {_size(status.st_size)}, more than {_LIMIT} for an input image")


def _read_within(file: BinaryIO, limit: int, *, expected: int) -> bytes | None:
    """All of ``file``, which claims ``expected`` bytes; None if it holds more than ``limit``.

    The expected size is read in one go; what a file holds beyond it (it grew,
    or it said 0 like a ``/proc`` file) is read in chunks, and never past the limit.
    """
    wanted = min(expected, limit) + 1
    first = file.read(wanted)
    if len(first) < wanted:  # the end came where the file said it would, or before
        return first
    chunks = [first]
    total = len(first)
    while total <= limit:
        chunk = file.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    return None


def _bytes_within_limit(
    data: bytes | bytearray | memoryview, *, subject: str, where: str | None, source: object
) -> bytes:
    """``data`` as ``bytes``, refused before it is copied when it is over the limit."""
    size = memoryview(data).nbytes
    if size > MAX_INPUT_IMAGE_BYTES:
        raise InputImageError(
            _at(where, f"{subject} is {_size(size)}, more than {_LIMIT} for an input image"),
            source=source,
        )
    return bytes(data)


def _size(size: int) -> str:
    return f"{size} bytes ({size / 1024 / 1024:.1f} MiB)"


def _check_image_dict(
    item: Mapping[Any, Any], where: str
) -> tuple[InputImageDict, MediaType | None]:
    """Validate a ready ``{"url": ...}`` / ``{"b64_json": ...}`` dict.

    Return a clean copy, and the image format when it holds base64 data.
    """
    present = {key: value for key, value in item.items() if value is not None}
    unknown = sorted(str(key) for key in present if key not in ("url", "b64_json"))
    if unknown:
        raise InputImageError(
            f"{where}: unexpected key(s) {', '.join(map(repr, unknown))}; "
            "an input image is {'url': ...} or {'b64_json': ...}",
            source=where,
        )
    if len(present) != 1:
        which = "both 'url' and 'b64_json'" if present else "neither 'url' nor 'b64_json'"
        raise InputImageError(f"{where}: the dict has {which}; give exactly one", source=where)
    ((key, value),) = present.items()
    if not isinstance(value, str):
        raise InputImageError(
            f"{where}: {key!r} must be a str, got {type(value).__name__}", source=where
        )
    if key == "url":
        if not _is_url(value):
            raise InputImageError(
                f"{where}: 'url' must be an http(s) or data: URL, got {shorten(value)!r}",
                source=value,
            )
        return {"url": _check_url(value, where)}, None
    if value[:5].lower() == "data:":
        raise InputImageError(
            f"{where}: 'b64_json' must be plain base64, not a data: URL; "
            "pass the data: URL as {'url': ...} instead",
            source=where,
        )
    data = _decode_base64(value, subject="the b64_json value", where=where)
    media = _require_image(data, subject="the b64_json data", where=where, source=where)
    return {"b64_json": value}, media


def _is_url(text: str) -> bool:
    """True for text to be sent as a URL; a str is a URL only when its scheme says so."""
    return text[:8].lower().startswith(_URL_PREFIXES) or _FOREIGN_URL.match(text) is not None


def _check_url(url: str, where: str | None) -> str:
    """Return ``url`` if the gateway can use it: http(s) with a host, or base64 image data."""
    match = _SCHEME.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("http", "https"):
        if not urlsplit(url).hostname:
            raise InputImageError(_at(where, f"URL has no host: {shorten(url)!r}"), source=url)
        return url
    if scheme == "data":
        _check_data_url(url, where)
        return url
    raise InputImageError(
        _at(
            where,
            f"unsupported URL scheme {scheme!r} in {shorten(url)!r}; "
            "only http://, https:// and data: URLs are accepted (pass a local file as a path)",
        ),
        source=url,
    )


def _check_data_url(url: str, where: str | None) -> None:
    # data:[<mediatype>][;<param>]*[;base64],<payload>; the declared type is not trusted.
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma or "base64" not in header.lower().split(";")[1:]:
        raise InputImageError(
            _at(where, f"data: URL is not base64 image data: {shorten(url)!r}"), source=url
        )
    data = _decode_base64(payload, subject="the data: URL payload", where=where)
    _require_image(data, subject="the data: URL", where=where, source=url)


def _decode_base64(text: str, *, subject: str, where: str | None) -> bytes:
    # Strict base64 (no whitespace): its decoded size is known before decoding it.
    tail = text[-2:]
    size = len(text) // 4 * 3 - (len(tail) - len(tail.rstrip("=")))
    if size > MAX_INPUT_IMAGE_BYTES:
        raise InputImageError(
            _at(where, f"{subject} holds {_size(size)}, more than {_LIMIT} for an input image"),
            source=where,
        )
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputImageError(
            _at(where, f"{subject} is not valid base64: {shorten(text)!r}"), source=where
        ) from None
    if not data:
        raise InputImageError(_at(where, f"{subject} is empty"), source=where)
    return data


def _require_image(data: bytes, *, subject: str, where: str | None, source: object) -> MediaType:
    """Return the image format of ``data``, or raise saying what it is instead."""
    if not data:
        raise InputImageError(_at(where, f"{subject} is empty"), source=source)
    media = sniff(data)
    if media is not None and media.kind == "image":
        return media
    if media is not None:
        problem = f"{subject} is {media}, not an image"
    else:
        problem = (
            f"{subject} is not a recognised image format (expected {_IMAGE_NAMES}); "
            f"it starts with {data[:12]!r}"
        )
    raise InputImageError(_at(where, problem), source=source)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _at(where: str | None, problem: str) -> str:
    return f"{where}: {problem}" if where else problem
