"""Read the gateway's error bodies: which HTTP status a failure stands for, and when to retry.

    >>> classify_error_body({"error": "insufficient_balance", "message": "Top up first"}).status
    402

The gateway reports errors in two shapes, ``{"error": {"message", "type",
"param", "code"}}`` and ``{"error": "string", "message": "string"}``, as error
responses and also inside 200 answers (JSON or an event stream). Both shapes
are normalised to the first, so the SDK's status errors carry the message.

The status a failure stands for is decided, in order, by:

1. a known error code string (``code`` or ``type``, in ``error{}`` or at the
   top level, or an ``error`` string that is a code): ``rate_limit*`` and
   ``account_temporarily_locked`` are 429, ``insufficient_balance`` (and any
   ``insufficient_*``) 402, ``free_tier_gated`` 403, ``model_not_found`` 404,
   ``unknown_model`` 400;
2. a numeric ``status`` or ``code`` between 400 and 599 (an int or a numeric
   string), in ``error{}`` first, then at the top level;
3. one of the gateway's own sentences for those codes in the message ("Rate
   limit exceeded", "Too many requests", "Account temporarily locked",
   "Insufficient balance: add credits to continue", "This model is not
   available on the free tier", "Model not found", "Unknown model", "Invalid
   API key");
4. a status named in the message ("provider returned status 503",
   "HTTP 429", "status: 502");
5. the HTTP status of the response when it is an error status; else 502.

A ``retry_after`` is honoured only when it is a number of seconds from 0 to
:data:`MAX_RETRY_AFTER_SECONDS`; anything else (negative, NaN, infinite, absurdly
large, not a number) is ignored, and the SDK's own backoff applies.

:func:`redact_secret` and :func:`redact_body` take the caller's own API key out of
whatever the gateway echoes back in an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from ._values import lenient_number

__all__ = [
    "MAX_RETRY_AFTER_SECONDS",
    "MIN_SECRET_CHARS",
    "GatewayFailure",
    "classify_error_body",
    "failure_in_body",
    "gateway_message",
    "redact_body",
    "redact_secret",
    "retry_after_from_body",
    "secret_spellings",
]

DEFAULT_FAILURE_STATUS = 502
"""The status of a failure that says nothing more specific: the gateway failed."""

_CODE_STATUSES = {
    "account_temporarily_locked": 429,
    "insufficient_balance": 402,
    "free_tier_gated": 403,
    "model_not_found": 404,
    "unknown_model": 400,
}
_RATE_LIMIT_PREFIX = "rate_limit"
# insufficient_balance, and its cousins (insufficient_credits, insufficient_funds,
# insufficient_quota): retrying cannot help until the account is topped up.
_INSUFFICIENT_PREFIX = "insufficient_"
# The gateway's own sentences for its codes, as they appear in string-shaped errors
# ({"error": "Rate limit exceeded"}). The first match wins: a rate limit on the free tier
# is a rate limit, an empty balance on it is a balance.
_SENTENCE_STATUSES: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), status)
    for pattern, status in (
        (r"\binsufficient[ _-](?:account[ _-])?(?:balance|credits?|funds|quota)\b", 402),
        (r"\bnot enough (?:balance|credits?|funds)\b|\bpayment required\b", 402),
        (r"\brate[ _-]?limit|\btoo many requests\b", 429),
        (r"\btemporarily locked\b", 429),
        (r"\bfree[ _-]?tier\b", 403),
        (r"\bmodel\b[^.;]{0,80}?\b(?:not found|does not exist)\b", 404),
        (r"\b(?:unknown|unsupported|invalid) model\b", 400),
        (r"\b(?:invalid|incorrect) api[ _-]?key\b", 401),
    )
)
_STATUS_KEYS = ("status", "code", "status_code")
_RETRY_AFTER_KEYS = ("retry_after", "retryAfter")
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60.0
"""The longest ``retry_after`` read from a body: a day. A longer one is taken as garbage."""
# An echo this long of the start of a key gives away more than its public prefix.
_ECHO_CHARS = 12
# Shorter "keys" are placeholders; replacing them would mangle ordinary words.
MIN_SECRET_CHARS = 8
"""Shorter secrets are placeholders: looking for them would mangle ordinary words."""
_PUBLIC_KEY_PREFIXES = ("sk-air-", "sk-")
# "provider returned status 503", "HTTP 429", "HTTP/1.1 502", "status: 502", "status code 504"
_STATUS_IN_MESSAGE = re.compile(
    r"(?:\bstatus(?:[ _-]?code)?|\bhttp(?:/\d(?:\.\d)?)?)\s*[:=]?\s*([45]\d\d)(?!\d)",
    re.IGNORECASE,
)
# An error string that is a code rather than a sentence: "insufficient_balance".
_CODE_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[_.-][A-Za-z0-9]+)+")


@dataclass(frozen=True)
class GatewayFailure:
    """A failure the gateway reported, normalised: its status, message, body and retry delay."""

    status: int
    """The HTTP status this failure stands for."""
    message: str
    """What went wrong, as the gateway said it."""
    body: dict[str, Any]
    """``{"error": {"message", "type", "param", "code", ...}}`` plus the other top-level keys."""
    retry_after: float | None
    """Seconds to wait before retrying, when the body says."""


def failure_in_body(body: object) -> GatewayFailure | None:
    """The failure a 200 answer (or event) reports with ``error`` instead of ``data``, else None.

    >>> failure_in_body({"created": 1, "data": [{"url": "https://x/image.jpeg"}]}) is None
    True
    """
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if error is None or error is False or error == "" or error == {}:
        return None
    data = body.get("data")
    if isinstance(data, list) and data:
        # Results came back after all (and are billed): they win over a stray error field.
        return None
    return classify_error_body(body)


def classify_error_body(body: object, *, http_status: int | None = None) -> GatewayFailure:
    """Normalise any error body (either shape, or plain text) and decide its status.

    >>> failure = classify_error_body({"error": {"message": "provider returned status 503"}})
    >>> failure.status, failure.body["error"]["message"]
    (503, 'provider returned status 503')
    """
    top: dict[str, Any] = dict(body) if isinstance(body, Mapping) else {}
    raw_error = top.pop("error", None) if top else (body if body not in (None, "") else None)

    error: dict[str, Any] = {}
    message: str | None = None
    code_from_string: str | None = None
    if isinstance(raw_error, Mapping):
        error = {str(key): value for key, value in raw_error.items()}
        message = _text_or_none(error.get("message"))
    elif isinstance(raw_error, str):
        text = raw_error.strip()
        if _CODE_LIKE.fullmatch(text):
            code_from_string = text
        else:
            message = text or None
    elif raw_error is not None and raw_error is not True:
        message = str(raw_error)

    top_message = _text_or_none(top.get("message"))
    if message is None:
        message = top_message
    elif top_message is not None and top_message != message and not isinstance(raw_error, Mapping):
        # {"error": "Rate limit exceeded", "message": "try again in 5 s"}: keep both.
        message = f"{message}: {top_message}"

    if code_from_string is not None and error.get("code") is None:
        error["code"] = code_from_string
    if not isinstance(raw_error, Mapping):
        # {"error": "...", "code": "..."}: the SDK reads code/type/param from error{}.
        for key in ("code", "type", "param"):
            if error.get(key) is None and top.get(key) is not None:
                error[key] = top[key]

    status = _status_from_codes(error, top)
    if status is None:
        status = _status_from_numbers(error) or _status_from_numbers(top)
    if status is None and message is not None:
        status = _status_from_sentence(message) or _status_in_message(message)
    if status is None:
        is_error = http_status is not None and 400 <= http_status <= 599
        status = http_status if is_error and http_status is not None else DEFAULT_FAILURE_STATUS

    if message is None:
        code = error.get("code") or error.get("type")
        message = (
            str(code)
            if code not in (None, "")
            else f"the gateway reported an error (HTTP {status})"
        )

    normalised_error: dict[str, Any] = {
        "message": message,
        "type": error.get("type"),
        "param": error.get("param"),
        "code": error.get("code"),
    }
    for key, value in error.items():
        normalised_error.setdefault(key, value)
    normalised: dict[str, Any] = {"error": normalised_error}
    for key, value in top.items():
        normalised.setdefault(str(key), value)

    return GatewayFailure(
        status=status,
        message=message,
        body=normalised,
        retry_after=retry_after_from_body(body),
    )


def retry_after_from_body(body: object) -> float | None:
    """The ``retry_after`` seconds an error body asks for (in ``error{}`` or at the top level).

    >>> retry_after_from_body({"error": {"message": "slow down", "retry_after": "2.5"}})
    2.5
    """
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    for holder in (error, body):
        if not isinstance(holder, Mapping):
            continue
        for key in _RETRY_AFTER_KEYS:
            seconds = lenient_number(holder.get(key))
            if seconds is not None and 0 <= seconds <= MAX_RETRY_AFTER_SECONDS:
                return seconds
    return None


def _status_from_codes(error: Mapping[str, Any], top: Mapping[str, Any]) -> int | None:
    for holder in (error, top):
        for key in ("code", "type"):
            value = holder.get(key)
            if not isinstance(value, str):
                continue
            code = value.strip().lower()
            if code.startswith(_RATE_LIMIT_PREFIX):
                return 429
            if code in _CODE_STATUSES:
                return _CODE_STATUSES[code]
            if code.startswith(_INSUFFICIENT_PREFIX):
                return 402
    return None


def _status_from_sentence(message: str) -> int | None:
    for pattern, status in _SENTENCE_STATUSES:
        if pattern.search(message):
            return status
    return None


def _status_from_numbers(holder: Mapping[str, Any]) -> int | None:
    for key in _STATUS_KEYS:
        status = _as_status(holder.get(key))
        if status is not None:
            return status
    return None


def _as_status(value: object) -> int | None:
    number = lenient_number(value)
    if number is None or not number.is_integer() or not 400 <= number <= 599:
        return None
    return int(number)


def _status_in_message(message: str) -> int | None:
    match = _STATUS_IN_MESSAGE.search(message)
    return int(match.group(1)) if match else None


def redact_secret(text: str, secret: str) -> str:
    """``text`` with every echo of ``secret`` (whole, or its first 12 characters or more) hidden.

    >>> redact_secret("Invalid API key sk-air-abc123def456...", "sk-air-abc123def456ghi")
    'Invalid API key sk-air-...REDACTED...'

    A secret shorter than 8 characters is left alone: it is a placeholder, and
    replacing it would mangle ordinary words.
    """
    if len(secret) < MIN_SECRET_CHARS:
        return text
    anchor = secret[: min(len(secret), _ECHO_CHARS)]
    start = text.find(anchor)
    if start == -1:
        return text
    redacted = _redacted_form(secret)
    pieces: list[str] = []
    done = 0
    while start != -1:
        end = start + len(anchor)
        # Extend the echo as far as it keeps matching the secret.
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        pieces.append(text[done:start])
        pieces.append(redacted)
        done = end
        start = text.find(anchor, end)
    pieces.append(text[done:])
    return "".join(pieces)


def secret_spellings(secret: str) -> frozenset[str]:
    """The ways ``secret`` can come back in text: as is, URL-encoded, JSON-escaped, repr'd.

    >>> sorted(secret_spellings("sk air"))
    ['sk air', 'sk%20air', 'sk+air']
    """
    escaped = json.dumps(secret)[1:-1]
    return frozenset(
        {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            escaped,
            escaped.replace("/", "\\/"),
            json.dumps(secret, ensure_ascii=False)[1:-1],
            repr(secret)[1:-1],
        }
    )


def redact_body(body: Any, secret: str) -> Any:
    """A copy of a decoded JSON ``body`` with :func:`redact_secret` applied to every string.

    >>> redact_body({"error": {"message": "bad key sk-air-abc123def456"}}, "sk-air-abc123def456")
    {'error': {'message': 'bad key sk-air-...REDACTED'}}
    """
    if isinstance(body, str):
        return redact_secret(body, secret)
    if isinstance(body, Mapping):
        return {redact_secret(str(k), secret): redact_body(v, secret) for k, v in body.items()}
    if isinstance(body, list):
        return [redact_body(item, secret) for item in body]
    return body


def _redacted_form(secret: str) -> str:
    for prefix in _PUBLIC_KEY_PREFIXES:
        if secret.startswith(prefix):
            return f"{prefix}...REDACTED"
    return "...REDACTED"


def _text_or_none(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    return None


def gateway_message(body: object, fallback: str) -> str:
    """The gateway's own words from an error body (its message and code), else ``fallback``.

    >>> gateway_message({"message": "no credits", "code": "insufficient_balance"}, "HTTP 402")
    'no credits (insufficient_balance)'
    """
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message.strip():
            code = body.get("code")
            return f"{message} ({code})" if isinstance(code, str) and code else message
    if isinstance(body, str) and body.strip():
        return body
    return fallback
