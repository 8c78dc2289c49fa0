"""vcrpy settings that keep api.airforce cassettes free of secrets, small, and replayable offline.

    >>> import vcr
    >>> recorder = vcr.VCR(**vcr_config(record_mode="once"))
    >>> with recorder.use_cassette("otter.yaml"):
    ...     answer = client.images.generate(model="flux-2-dev", prompt="an otter")

:func:`vcr_config` returns keyword arguments for ``vcr.VCR(...)``, or for the
``vcr_config`` fixture of pytest-recording. What gets written to a cassette:

- no credentials: the ``Authorization``, ``Cookie``/``Set-Cookie``, ``api-key``,
  ``OpenAI-Organization``/``OpenAI-Project`` and ``x-stainless-*`` headers are
  dropped; the key the recording client sent (its ``Authorization`` bearer value,
  whatever it looks like) is replaced wherever it appears, also URL- or
  JSON-escaped (headers, URLs, request and response bodies, e.g. a key the gateway
  echoes in an error): by ``sk-air-REDACTED`` for an ``sk-air-`` key, ``REDACTED``
  otherwise; and every ``sk-air-...`` string becomes ``sk-air-REDACTED``;
- no large payloads: a base64 JSON string longer than ``max_base64`` characters
  (``b64_json`` results, ``input_images``, ``data:`` URLs, in JSON and in
  event-stream bodies) is replaced by a tiny valid file of the same format, and
  so is a downloaded media body; the replayed answer still decodes;
- no compressed bodies (``decode_compressed_response``).

Requests match on method, URL and body (JSON compared parsed, so key order
does not matter), so two generations with different prompts are told apart.
The scrubbing works on copies; the live client always receives the full answer.

The record mode defaults to ``"none"`` (replay only; a request with no recorded
answer fails). Pass ``record_mode="once"`` (or another mode) to record. Under
pytest-recording a ``record_mode`` in the config wins over ``--record-mode``;
pass ``record_mode=None`` to leave the key out and let the command line decide.
"""

from __future__ import annotations

import base64
import copy
import functools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._failures import MIN_SECRET_CHARS, secret_spellings
from .._formats import sniff as sniff_format
from .._values import is_int
from ._media import MediaKind, tiny, tiny_like

__all__ = [
    "CREDENTIAL_HEADERS",
    "DEFAULT_MAX_BASE64",
    "MIN_SECRET_CHARS",
    "REDACTED_KEY",
    "REDACTED_SECRET",
    "SENSITIVE_HEADERS",
    "credentials_in",
    "redact_keys",
    "redact_secrets",
    "scrub_request",
    "scrub_response",
    "shrink_base64",
    "shrink_media",
    "vcr_config",
]

REDACTED_KEY = "sk-air-REDACTED"
REDACTED_SECRET = "REDACTED"
"""What a recorded key that does not start with ``sk-air-`` is replaced by."""
"""Shorter credential values are dropped with their header but not searched for elsewhere:
they are placeholders, not keys, and replacing them would mangle unrelated text (the rule
the clients' error messages follow too)."""
DEFAULT_MAX_BASE64 = 4096
"""The longest base64 string, in characters, kept as it is in a cassette."""

SENSITIVE_HEADERS = (
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
)
"""Headers never written to a cassette (with every ``x-stainless-*`` header)."""

CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "api-key", "x-api-key")
"""Headers whose values are secrets, redacted wherever else they appear in a cassette."""

MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")

# A key runs until a character that ends a token in headers, URLs or JSON; redacting
# a little too much is harmless, leaving the tail of a key is not.
_KEY_BYTES = re.compile(rb"sk-air-[^\s\"'<>,;&\\]*")
_KEY_TEXT = re.compile(r"sk-air-[^\s\"'<>,;&\\]*")
# Enough base64 to identify any known format: 72 bytes.
_SNIFF_CHARS = 96
# What replaces a format the tiny files do not cover: the same kind of media, at least.
_STAND_IN: dict[str, MediaKind] = {"image": "png", "audio": "mp3", "video": "mp4"}


# --- pure scrubbing ---------------------------------------------------------------------------


def redact_keys(text: str) -> str:
    """``text`` with every ``sk-air-...`` key replaced by ``sk-air-REDACTED``."""
    return _KEY_TEXT.sub(REDACTED_KEY, text)


def _redact_bytes(data: bytes) -> bytes:
    return _KEY_BYTES.sub(REDACTED_KEY.encode(), data)


def credentials_in(headers: Mapping[str, Any]) -> set[str]:
    """The secrets a request's credential headers carry: ``Bearer abc`` gives ``abc``."""
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() not in CREDENTIAL_HEADERS:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            text = item.decode("latin-1") if isinstance(item, bytes) else str(item)
            scheme, _, token = text.strip().partition(" ")
            secret = token.strip() if token.strip() else scheme
            if len(secret) >= MIN_SECRET_CHARS:
                found.add(secret)
    return found


def _placeholder(secret: str) -> str:
    return REDACTED_KEY if secret.startswith("sk-air-") else REDACTED_SECRET


@functools.lru_cache(maxsize=64)
def _spellings(secret: str) -> tuple[tuple[str, str], ...]:
    return tuple((form, _placeholder(secret)) for form in secret_spellings(secret))


def _replacements(secrets: Iterable[str]) -> list[tuple[str, str]]:
    pairs = {
        pair
        for secret in secrets
        if isinstance(secret, str) and len(secret) >= MIN_SECRET_CHARS
        for pair in _spellings(secret)
    }
    # Longest first, so that no spelling is left half replaced by a shorter one.
    return sorted(pairs, key=lambda pair: (-len(pair[0]), pair[0]))


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` (also URL- or JSON-escaped) replaced.

    An ``sk-air-`` secret becomes ``sk-air-REDACTED``, any other ``REDACTED``; values
    shorter than ``MIN_SECRET_CHARS`` are left alone.
    """
    for old, new in _replacements(secrets):
        text = text.replace(old, new)
    return text


def _redact_secret_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    for old, new in _replacements(secrets):
        data = data.replace(old.encode(), new.encode())
    return data


def _redact_text(text: str, secrets: Iterable[str]) -> str:
    return redact_keys(redact_secrets(text, secrets))


@functools.lru_cache(maxsize=8)
def _base64_string(min_chars: int) -> re.Pattern[bytes]:
    # A JSON string literal that is all base64 (``\/`` and ``\n`` escapes allowed),
    # optionally a data: URL, optionally the value of a "b64_json" key.
    return re.compile(
        rb'(?P<key>"b64_json"\s*:\s*)?"(?P<prefix>data:[^",;\s]{0,128};base64,)?'
        rb"(?P<digits>[A-Za-z0-9+/\\]{%d,})(?P<padding>={0,2})\"" % min_chars
    )


def shrink_base64(data: bytes, max_chars: int = DEFAULT_MAX_BASE64) -> bytes:
    """``data`` (JSON or event-stream text) with each long base64 string made a tiny file.

    A base64 string longer than ``max_chars`` becomes a tiny valid file of the
    same format. One of another format becomes a tiny file of the same kind
    (PNG, MP3 or MP4) when it is a ``b64_json`` value or a ``data:`` URL, and is
    left alone otherwise.
    Everything else is kept byte for byte.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1; got {max_chars!r}")
    return _base64_string(max_chars + 1).sub(_tiny_string, data)


def _tiny_string(match: re.Match[bytes]) -> bytes:
    digits = match["digits"]
    if b"\\" in digits:
        digits = digits.replace(b"\\/", b"/").replace(b"\\n", b"").replace(b"\\r", b"")
        if b"\\" in digits:
            return match[0]  # another escape: text, not base64
    if (len(digits) + len(match["padding"])) % 4:
        return match[0]
    # Only base64 digits are left and the slice is whole quanta, so this always decodes.
    head = base64.b64decode(digits[: min(len(digits), _SNIFF_CHARS) // 4 * 4])
    small = tiny_like(head)
    if small is None:
        if match["key"] is None and match["prefix"] is None:
            return match[0]
        small = tiny(_STAND_IN[_kind(head)])
    key = match["key"] or b""
    prefix = match["prefix"] or b""
    return key + b'"' + prefix + base64.b64encode(small) + b'"'


def _kind(head: bytes) -> str:
    media = sniff_format(head)
    return "image" if media is None else media.kind


def shrink_media(data: bytes, max_chars: int = DEFAULT_MAX_BASE64) -> bytes:
    """A tiny file of the same format (or kind) when ``data`` is a media file that would
    take more than ``max_chars`` characters of base64; otherwise ``data`` itself."""
    if len(data) * 4 <= max_chars * 3:
        return data
    small = tiny_like(data)
    if small is None:
        media = sniff_format(data)
        if media is None:
            return data
        small = tiny(_STAND_IN[media.kind])
    return small


def _scrub_body(
    content: object,
    headers: dict[str, Any],
    max_chars: int,
    urls: Mapping[str, str],
    secrets: Iterable[str],
) -> bytes | None:
    """``content`` scrubbed, as bytes (None for a stream); a change refits ``Content-Length``."""
    if isinstance(content, str):
        content = content.encode()
    if not isinstance(content, bytes):
        return None
    data = shrink_media(content, max_chars)
    data = shrink_base64(_redact_bytes(data), max_chars)
    # After shrinking: a short secret is then less likely to match inside media bytes.
    data = _redact_secret_bytes(data, secrets)
    for old, new in urls.items():
        data = data.replace(old.encode(), new.encode())
    if data != content:
        for name, value in headers.items():
            if name.lower() == "content-length":  # vcrpy lists an answer's header values
                headers[name] = [str(len(data))] if isinstance(value, list) else str(len(data))
    return data


def _replace_prefix(url: str, urls: Mapping[str, str]) -> str:
    for old, new in urls.items():
        if url == old or url.startswith((f"{old}/", f"{old}?")):
            return new + url[len(old) :]
    return url


def _dropped(name: str) -> bool:
    lowered = name.lower()
    return lowered in SENSITIVE_HEADERS or lowered.startswith("x-stainless")


def scrub_request(
    request: Any,
    *,
    max_chars: int = DEFAULT_MAX_BASE64,
    urls: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> Any:
    """A scrubbed copy of a vcrpy request; ``urls`` maps recorded URL prefixes to stored ones.

    ``secrets`` are redacted wherever they appear, with the request's own credentials.
    """
    urls = urls or {}
    request = copy.deepcopy(request)
    secrets = {*secrets, *credentials_in(request.headers)}
    hosts = {urlsplit(old).netloc: urlsplit(new).netloc for old, new in urls.items()}
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if _dropped(name):
            continue
        text = _replace_all(_redact_text(str(value), secrets), urls)
        headers[name] = hosts.get(text, text) if name.lower() == "host" else text
    request.uri = _redact_text(_replace_prefix(request.uri, urls), secrets)
    scrubbed = _scrub_body(request.body, headers, max_chars, urls, secrets)
    if scrubbed is not None:
        request.body = scrubbed
    request.headers = headers
    return request


def scrub_response(
    response: dict[str, Any],
    *,
    max_chars: int = DEFAULT_MAX_BASE64,
    urls: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """A scrubbed copy of a vcrpy response dict (``status``, ``headers``, ``body``).

    ``secrets`` (e.g. the key of the request it answers) are redacted wherever they appear.
    """
    urls = urls or {}
    secrets = set(secrets)
    response = copy.deepcopy(response)
    headers: dict[str, list[str]] = {}
    for name, values in (response.get("headers") or {}).items():
        if _dropped(name):
            continue
        items = values if isinstance(values, list) else [values]
        headers[name] = [_replace_all(_redact_text(str(v), secrets), urls) for v in items]
    body = response.get("body") or {}
    scrubbed = _scrub_body(body.get("string"), headers, max_chars, urls, secrets)
    if scrubbed is not None:
        body["string"] = scrubbed
        response["body"] = body
    response["headers"] = headers
    return response


def _replace_all(text: str, urls: Mapping[str, str]) -> str:
    for old, new in urls.items():
        text = text.replace(old, new)
    return text


# --- the settings -----------------------------------------------------------------------------


class _Secrets:
    """The credentials seen on recorded requests, so that their answers are scrubbed too.

    vcrpy scrubs a request, then its response (which does not say what it answers):
    the key learned from the one is redacted from the other, and from later ones.
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set(known)

    def __reduce__(self) -> tuple[type[_Secrets], tuple[frozenset[str]]]:
        # pytest-recording deep-copies the settings: the copy gets a lock of its own, and
        # the scrubbers of one copy still share one store.
        return (type(self), (self.known(),))

    def learn(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._known.update(secrets)

    def known(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._known)


@dataclass(frozen=True)
class _LearnAndDrop:
    """A vcrpy ``filter_headers`` replacement: remember the credential, store nothing."""

    secrets: _Secrets

    def __call__(self, key: str, value: Any, request: Any) -> None:
        self.secrets.learn(credentials_in({key: value}))
        return None


@dataclass(frozen=True)
class _Scrubber:
    """A vcrpy ``before_record_request`` or ``_response`` hook: ``scrub`` with the settings."""

    scrub: Callable[..., Any]  # scrub_request or scrub_response
    max_chars: int
    urls: tuple[tuple[str, str], ...]
    secrets: _Secrets = field(default_factory=_Secrets, compare=False)
    learns: bool = False  # a request's own credentials are redacted from the answers too

    def __call__(self, item: Any) -> Any:
        if self.learns:
            self.secrets.learn(credentials_in(item.headers))
        known = self.secrets.known()
        return self.scrub(item, max_chars=self.max_chars, urls=dict(self.urls), secrets=known)


def _check_urls(replace_urls: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if replace_urls is None:
        return ()
    if not isinstance(replace_urls, Mapping):
        raise TypeError(
            "replace_urls must map recorded URL prefixes to stored ones, e.g. "
            "{emulator.url: 'https://api.airforce'}; "
            f"got {type(replace_urls).__name__}"
        )
    pairs: list[tuple[str, str]] = []
    for old, new in replace_urls.items():
        for url in (old, new):
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    f"replace_urls[{old!r}]: {url!r} is not an absolute http(s) URL prefix"
                )
        pairs.append((old.rstrip("/"), new.rstrip("/")))
    return tuple(pairs)


def vcr_config(
    *,
    max_base64: int = DEFAULT_MAX_BASE64,
    replace_urls: Mapping[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR`` (or pytest-recording's ``vcr_config``) for api.airforce.

    ``max_base64`` is the longest base64 string kept as it is. ``replace_urls``
    maps URL prefixes to the ones stored, in requests and in answers, e.g.
    ``{emulator.url: "https://api.airforce"}`` so that a cassette recorded
    against a local server replays for a client of the real base URL.
    ``overrides`` replace the defaults; an override of ``None`` removes the key.
    """
    if not is_int(max_base64) or max_base64 < 1:
        raise ValueError(f"max_base64 must be a positive number of characters; got {max_base64!r}")
    urls = _check_urls(replace_urls)
    secrets = _Secrets()
    learn = _LearnAndDrop(secrets)
    config: dict[str, Any] = {
        # vcrpy drops these before any scrubber runs: credentials are learned on the way out.
        "filter_headers": [
            (name, learn) if name in CREDENTIAL_HEADERS else name for name in SENSITIVE_HEADERS
        ],
        "before_record_request": _Scrubber(scrub_request, max_base64, urls, secrets, learns=True),
        "before_record_response": _Scrubber(scrub_response, max_base64, urls, secrets),
        "decode_compressed_response": True,
        "match_on": MATCH_ON,
        "record_mode": "none",
    }
    for name, value in overrides.items():
        if value is None:
            config.pop(name, None)
        else:
            config[name] = value
    return config
