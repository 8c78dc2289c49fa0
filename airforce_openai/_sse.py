"""Decode the gateway's generation answers: ``sse: true`` event streams and plain JSON bodies.

    >>> decode_image_stream(b'data: {"created": 1, "data": [{"url": "https://x/image.jpeg"}]}\\n\\n')
    StreamResult(payload=b'{"created": 1, "data": [{"url": "https://x/image.jpeg"}]}')

The documented answer is one event carrying the full JSON result, then
``data: [DONE]``. Real streams add keep-alives, comments, ``event:``/``id:``/
``retry:`` lines, progress events, CRLF or lone-CR line endings, errors
reported as events, and endings without ``[DONE]`` or cut mid-event; all of
these are handled here.

How an event is classified (the first decisive event wins; later events are
not read):

- ``[DONE]`` ends the stream.
- An event whose data is a JSON object with a non-null ``error`` (and no
  non-empty ``data`` list) is a failure (:class:`StreamFailure`). So is any
  event named ``error``: a JSON object without an ``error`` key is wrapped as
  ``{"error": {...}}``, and non-JSON data as ``{"error": "<text>"}``.
- An event whose data is a JSON object with a ``data`` list is the result
  (:class:`StreamResult`); its bytes are returned exactly as sent.
- Everything else (keep-alives, progress or status events, other JSON,
  malformed data) is skipped.

Small events (up to :data:`LARGE_EVENT_BYTES`) are classified with
``json.loads``. A result can carry megabytes of base64, so a large event is
never parsed: a structural scan that hops from string to string with
``bytes.find`` checks that it is one complete JSON object and collects its
top-level keys. Errors and progress events are small, so a large event with a
top-level ``data`` key whose value is a list is the result; a large event with
a top-level ``error`` key is parsed after all (it is rare) and classified as
above; any other large event is skipped. The scan detects truncation (an open
string, bracket or object), not every malformation: the result's bytes are
handed on as sent, and the JSON parser that reads them reports the rest.

An event that the stream cut before its terminating blank line still counts
when its data is complete JSON; if it is a truncated JSON value, the outcome is
:class:`StreamIncomplete`.

:func:`read_answer` judges a plain JSON answer (a 200 without ``sse``) by the same
rules, parsing it once: its result (with the parsed body, so nobody parses it
again), the failure it reports, or :class:`NotAResult` with what it is instead
(not JSON, invalid UTF-8, nested too deep, a list, ``null``, an object without a
``data`` list...). A result is an object with a ``data`` list of objects.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._failures import failure_in_body

__all__ = [
    "LARGE_EVENT_BYTES",
    "NotAResult",
    "ServerSentEvent",
    "StreamFailure",
    "StreamIncomplete",
    "StreamResult",
    "decode_image_stream",
    "iter_events",
    "read_answer",
]

LARGE_EVENT_BYTES = 64 * 1024
"""Events with more data bytes than this are classified without being parsed."""

_DONE = b"[DONE]"
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
_BACKSLASH = 0x5C
# A large event with more strings than this is not a result (a result has a
# handful of keys and one long value per item); parsing it is then cheaper than
# scanning it string by string.
_MAX_SCANNED_STRINGS = 10_000
# Only strings this short are considered as top-level keys.
_MAX_KEY_BYTES = 64


@dataclass(frozen=True)
class ServerSentEvent:
    """One event of an event stream, as the SSE specification defines it."""

    event: str = "message"
    """The ``event:`` field, ``"message"`` when absent."""
    data: bytes = b""
    """The ``data:`` lines, joined with ``\\n``; left as bytes so a large payload is not copied."""
    id: str = ""
    """The last event ID seen so far in the stream (it carries over between events)."""
    retry: int | None = None
    """The ``retry:`` field of this event, in milliseconds."""
    complete: bool = True
    """False for a last event that the stream ended before its terminating blank line."""


@dataclass(frozen=True)
class StreamResult:
    """The answer carried a result: ``payload`` is its JSON text (UTF-8), as sent."""

    payload: bytes
    body: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """``payload`` parsed, when it was; None for a large event classified without parsing."""


@dataclass(frozen=True)
class StreamFailure:
    """The stream reported a failure: ``body`` is the JSON object of the error event."""

    body: dict[str, Any]


@dataclass(frozen=True)
class NotAResult:
    """A JSON answer that is neither a result nor a reported failure; ``reason`` says what it is."""

    reason: str


@dataclass(frozen=True)
class StreamIncomplete:
    """The stream ended without a result or a failure; ``reason`` says how."""

    reason: str


def iter_events(data: bytes, *, include_incomplete: bool = False) -> Iterator[ServerSentEvent]:
    """Yield the events of an event stream, per the SSE specification.

    Lines end with CRLF, LF or a lone CR; comment lines (starting with ``:``)
    and unknown fields are ignored; an event is dispatched at a blank line
    when it has at least one ``data:`` line. The specification drops a last
    event that the stream ended before its blank line; with
    ``include_incomplete=True`` it is yielded too, with ``complete=False``.

    >>> [e.data for e in iter_events(b"event: message\\r\\ndata: a\\r\\ndata: b\\r\\n\\r\\n")]
    [b'a\\nb']
    """
    end = len(data)
    pos = len(_BOM) if data.startswith(_BOM) else 0
    # The positions of the next CR and LF are cached so that a stream of many
    # short lines is scanned once, not once per line.
    next_cr = -2
    next_lf = -2

    event_type = ""
    data_spans: list[tuple[int, int]] = []
    last_id = ""
    retry: int | None = None

    while pos < end:
        if next_cr != -1 and next_cr < pos:
            next_cr = data.find(b"\r", pos)
        if next_lf != -1 and next_lf < pos:
            next_lf = data.find(b"\n", pos)
        if next_cr == -1 and next_lf == -1:
            line_end = next_pos = end
            terminated = False
        else:
            if next_cr == -1:
                line_end = next_lf
            elif next_lf == -1:
                line_end = next_cr
            else:
                line_end = min(next_cr, next_lf)
            if line_end == next_cr and next_lf == next_cr + 1:
                next_pos = next_lf + 1
            else:
                next_pos = line_end + 1
            terminated = True

        if line_end == pos:
            if terminated:
                if data_spans:
                    yield ServerSentEvent(
                        event=event_type or "message",
                        data=_join(data, data_spans),
                        id=last_id,
                        retry=retry,
                    )
                event_type = ""
                data_spans = []
                retry = None
            pos = next_pos
            continue

        if data[pos] != 0x3A:  # a line starting with ":" is a comment
            colon = data.find(b":", pos, line_end)
            if colon == -1:
                name_end = value_start = line_end
            else:
                name_end = colon
                value_start = colon + 1
                if value_start < line_end and data[value_start] == 0x20:
                    value_start += 1
            name = data[pos:name_end]
            if name == b"data":
                data_spans.append((value_start, line_end))
            elif name == b"event":
                event_type = _text(data[value_start:line_end])
            elif name == b"id":
                value = data[value_start:line_end]
                if b"\x00" not in value:
                    last_id = _text(value)
            elif name == b"retry":
                value = data[value_start:line_end]
                if value.isdigit():
                    retry = int(value)
        pos = next_pos

    if include_incomplete and data_spans:
        yield ServerSentEvent(
            event=event_type or "message",
            data=_join(data, data_spans),
            id=last_id,
            retry=retry,
            complete=False,
        )


def decode_image_stream(data: bytes) -> StreamResult | StreamFailure | StreamIncomplete:
    """Decode a ``sse: true`` answer into its result, its reported failure, or why it has neither.

    >>> decode_image_stream(b'data: {"error": "provider returned status 503"}\\n\\n')
    StreamFailure(body={'error': 'provider returned status 503'})
    """
    skipped: Counter[_Skip] = Counter()
    for event in iter_events(data, include_incomplete=True):
        outcome = _classify(event)
        if not isinstance(outcome, _Skip):
            return outcome
        if outcome is _Skip.DONE:
            return StreamIncomplete(_no_result("[DONE] came", skipped))
        skipped[outcome] += 1
    if not skipped:
        if data.strip(_WHITESPACE + _BOM):
            return StreamIncomplete("the stream ended without any data event")
        return StreamIncomplete("the stream was empty")
    return StreamIncomplete(_no_result("the stream ended", skipped))


class _Skip(enum.Enum):
    """Why an event decided nothing."""

    DONE = "[DONE]"
    STATUS = "progress or status"
    MALFORMED = "malformed JSON"
    OTHER = "keep-alive or other non-JSON"


class _Scan(enum.Enum):
    """What a structural scan could not vouch for."""

    TRUNCATED = "truncated"
    INTRICATE = "too many strings to scan"


def _classify(event: ServerSentEvent) -> StreamResult | StreamFailure | StreamIncomplete | _Skip:
    payload = event.data
    is_error_event = event.event == "error"
    if len(payload) > LARGE_EVENT_BYTES:
        shape = _scan_object(payload)
        if shape is _Scan.TRUNCATED:
            return _cut(payload) if not event.complete else _Skip.MALFORMED
        if isinstance(shape, dict) and not is_error_event:
            if shape.get("error", "n") == "n" and shape.get("data") == "[":
                return StreamResult(payload)
            if "error" not in shape:
                return _Skip.STATUS
        # An error event, a large event with a top-level error, or one too
        # intricate to scan: parse it like a small one.

    stripped = payload.strip(_WHITESPACE)
    if stripped == _DONE:
        return _Skip.DONE
    try:
        body = json.loads(payload)
    except RecursionError:
        return _Skip.MALFORMED  # nested deeper than any answer: not something to read
    except ValueError:
        looks_json = stripped[:1] in (b"{", b"[")
        if not event.complete and looks_json:
            return _cut(payload)
        if is_error_event and stripped:
            return StreamFailure({"error": _text(stripped)})
        return _Skip.MALFORMED if looks_json else _Skip.OTHER

    if not isinstance(body, dict):
        if is_error_event:
            return StreamFailure({"error": body if isinstance(body, str) else _text(stripped)})
        return _Skip.STATUS
    if failure_in_body(body) is not None:
        return StreamFailure(body)
    if is_error_event:
        return StreamFailure(body if "error" in body else {"error": body})
    if _is_result(body):
        return StreamResult(payload, body)
    return _Skip.STATUS


def read_answer(content: bytes) -> StreamResult | StreamFailure | NotAResult:
    """Judge a plain JSON answer to a generation: its result, its reported failure, or neither.

    The answer is parsed once; a result carries the parsed body along.

    >>> read_answer(b'{"error": "Rate limit exceeded"}')
    StreamFailure(body={'error': 'Rate limit exceeded'})
    >>> read_answer(b"[]")
    NotAResult(reason='a JSON array, not an object')
    """
    try:
        body = json.loads(content)
    except RecursionError:
        return NotAResult("JSON nested too deeply to read")
    except UnicodeDecodeError:
        return NotAResult("not valid UTF-8")
    except ValueError:
        return NotAResult("not JSON" if content.strip(_WHITESPACE) else "empty")
    if not isinstance(body, dict):
        return NotAResult(f"a JSON {_json_kind(body)}, not an object")
    if "error" in body and failure_in_body(body) is not None:
        return StreamFailure(body)
    if _is_result(body):
        return StreamResult(content, body)
    data = body.get("data")
    if data is None:
        return NotAResult("an object without data")
    if isinstance(data, list):
        return NotAResult("an object whose data list holds something other than objects")
    return NotAResult(f"an object whose data is a JSON {_json_kind(data)}, not a list")


def _is_result(body: dict[str, Any]) -> bool:
    data = body.get("data")
    # Exact types: what the JSON parser makes, and the cheapest check on every answer.
    return type(data) is list and all(type(item) is dict for item in data)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _cut(payload: bytes) -> StreamIncomplete:
    return StreamIncomplete(
        f"the stream was cut in the middle of an event ({len(payload)} bytes of data)"
    )


def _no_result(ending: str, skipped: Counter[_Skip]) -> str:
    total = sum(skipped.values())
    if total == 0:
        return f"{ending} without a result event (no events before it)"
    kinds = ", ".join(f"{count} {kind.value}" for kind, count in skipped.items())
    noun = "event" if total == 1 else "events"
    return f"{ending} without a result event ({total} {noun}: {kinds})"


def _scan_object(buf: bytes) -> dict[str, str] | _Scan:
    """Check that ``buf`` holds one complete JSON object without parsing it.

    Returns its top-level keys, each mapped to the first character of its
    value (``"["`` for a list, ``"n"`` for null...); ``_Scan.TRUNCATED`` when
    it is not one closed object (an open string, bracket or brace, or not an
    object at all); ``_Scan.INTRICATE`` when it has too many strings to be
    worth scanning.
    """
    end = len(buf)
    start = 0
    while start < end and buf[start] in _WHITESPACE:
        start += 1
    if start == end or buf[start] != 0x7B:  # "{"
        return _Scan.TRUNCATED
    stop = end
    while stop > start and buf[stop - 1] in _WHITESPACE:
        stop -= 1
    if buf[stop - 1] != 0x7D:  # "}"
        return _Scan.TRUNCATED

    keys: dict[str, str] = {}
    depth = 0
    pos = start
    for _ in range(_MAX_SCANNED_STRINGS):
        quote = buf.find(b'"', pos, stop)
        segment_end = stop if quote == -1 else quote
        depth += (
            buf.count(b"{", pos, segment_end)
            + buf.count(b"[", pos, segment_end)
            - buf.count(b"}", pos, segment_end)
            - buf.count(b"]", pos, segment_end)
        )
        if quote == -1:
            return keys if depth == 0 else _Scan.TRUNCATED
        if depth <= 0:
            return _Scan.TRUNCATED  # a string after the object closed: not one object
        close = _string_end(buf, quote, stop)
        if close == -1:
            return _Scan.TRUNCATED
        pos = close + 1
        if depth == 1 and close - quote <= _MAX_KEY_BYTES:
            after = _skip_whitespace(buf, pos, stop)
            if after < stop and buf[after] == 0x3A:  # a ":" after it makes it a key
                value = _skip_whitespace(buf, after + 1, stop)
                if value < stop:
                    keys.setdefault(_text(buf[quote + 1 : close]), chr(buf[value]))
    return _Scan.INTRICATE


def _string_end(buf: bytes, quote: int, stop: int) -> int:
    """The index of the quote closing the JSON string opened at ``quote``, or -1."""
    pos = quote + 1
    while pos < stop:
        close = buf.find(b'"', pos, stop)
        if close == -1:
            return -1
        backslashes = 0
        back = close - 1
        while back > quote and buf[back] == _BACKSLASH:
            backslashes += 1
            back -= 1
        if backslashes % 2 == 0:
            return close
        pos = close + 1
    return -1


def _skip_whitespace(buf: bytes, pos: int, stop: int) -> int:
    while pos < stop and buf[pos] in _WHITESPACE:
        pos += 1
    return pos


def _join(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    if len(spans) == 1:
        start, stop = spans[0]
        return data[start:stop]
    return b"\n".join(data[start:stop] for start, stop in spans)


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")
