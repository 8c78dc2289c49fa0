"""Tests for airforce_openai._sse: event-stream parsing and the outcome of ``sse: true`` answers."""

from __future__ import annotations

import base64
import json
import tracemalloc
from typing import Any

import pytest

from airforce_openai._sse import (
    LARGE_EVENT_BYTES,
    NotAResult,
    ServerSentEvent,
    StreamFailure,
    StreamIncomplete,
    StreamResult,
    decode_image_stream,
    iter_events,
    read_answer,
)

EOLS = pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])

RESULT: dict[str, Any] = {
    "created": 1715000000,
    "data": [{"url": "https://files.example/image.jpeg"}],
}


def sse(text: str, eol: str = "\n") -> bytes:
    """An event stream written with LF line endings, re-ended with ``eol``."""
    return text.replace("\n", eol).encode()


def compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def big_result(size: int = 10 * 1024 * 1024, **extra: Any) -> bytes:
    """A result event's JSON carrying about ``size`` bytes of base64."""
    image = base64.b64encode(b"\xff\xd8\xff" + bytes(size * 3 // 4)).decode()
    return json.dumps({"created": 1715000000, **extra, "data": [{"b64_json": image}]}).encode()


# ---------------------------------------------------------------------------
# iter_events: the SSE specification


@EOLS
def test_iter_events_fields_comments_and_multiline_data(eol: str) -> None:
    stream = sse(
        ": a comment\n"
        "event: progress\n"
        "id: 7\n"
        "retry: 1500\n"
        "data: first\n"
        "data:second\n"
        "data:  third\n"
        "unknown: ignored\n"
        "\n"
        "data: next\n"
        "\n",
        eol,
    )
    events = list(iter_events(stream))
    assert events == [
        ServerSentEvent(event="progress", data=b"first\nsecond\n third", id="7", retry=1500),
        ServerSentEvent(event="message", data=b"next", id="7", retry=None),
    ]


@EOLS
def test_iter_events_skips_events_without_data(eol: str) -> None:
    stream = sse("event: ping\n\n: keep\n\nid: 3\n\ndata\n\n", eol)
    events = list(iter_events(stream))
    # "data" with no colon is a data field with an empty value: dispatched, empty.
    assert events == [ServerSentEvent(data=b"", id="3")]


def test_iter_events_ignores_bad_retry_and_id_with_nul() -> None:
    stream = b"retry: soon\nid: a\x00b\ndata: x\n\n"
    assert list(iter_events(stream)) == [ServerSentEvent(data=b"x", id="", retry=None)]


def test_iter_events_strips_a_leading_bom() -> None:
    stream = b"\xef\xbb\xbfdata: x\n\n"
    assert [e.data for e in iter_events(stream)] == [b"x"]


def test_iter_events_mixed_line_endings() -> None:
    stream = b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r"
    assert [e.data for e in iter_events(stream)] == [b"a\nb\nc", b"d"]


def test_iter_events_drops_an_unterminated_last_event_unless_asked() -> None:
    stream = b"data: one\n\ndata: two"
    assert [e.data for e in iter_events(stream)] == [b"one"]
    events = list(iter_events(stream, include_incomplete=True))
    assert [(e.data, e.complete) for e in events] == [(b"one", True), (b"two", False)]


def test_iter_events_a_lone_cr_at_the_end_terminates_the_line() -> None:
    events = list(iter_events(b"data: x\r", include_incomplete=True))
    assert [(e.data, e.complete) for e in events] == [(b"x", False)]
    assert [e.data for e in iter_events(b"data: x\r\r")] == [b"x"]


# ---------------------------------------------------------------------------
# decode_image_stream: small streams


@EOLS
def test_documented_shape(eol: str) -> None:
    payload = json.dumps(RESULT)
    outcome = decode_image_stream(sse(f"data: {payload}\n\ndata: [DONE]\n\n", eol))
    assert outcome == StreamResult(payload.encode())


@EOLS
def test_event_lines_ids_comments_keepalives_and_progress(eol: str) -> None:
    payload = compact(RESULT)
    stream = sse(
        ": connected\n"
        "retry: 3000\n"
        "\n"
        "event: message\n"
        "data: : keepalive\n"
        "\n"
        "event: message\n"
        "id: 1\n"
        'data: {"progress": 0.4}\n'
        "\n"
        'data: {"status": "processing"}\n'
        "\n"
        ": still there\n"
        "event: message\n"
        "id: 2\n"
        f"data: {payload}\n"
        "\n"
        "data: [DONE]\n"
        "\n",
        eol,
    )
    assert decode_image_stream(stream) == StreamResult(payload.encode())


@EOLS
def test_error_string_inside_the_stream(eol: str) -> None:
    body = {"error": "Image generation failed, provider returned status 503"}
    stream = sse(f'data: {{"progress": 0.1}}\n\ndata: {compact(body)}\n\ndata: [DONE]\n\n', eol)
    assert decode_image_stream(stream) == StreamFailure(body)


@EOLS
def test_error_object_inside_the_stream(eol: str) -> None:
    body = {"error": {"message": "rate limited", "code": "rate_limit_exceeded", "retry_after": 2}}
    stream = sse(f"event: message\ndata: {compact(body)}\n\n", eol)
    assert decode_image_stream(stream) == StreamFailure(body)


@EOLS
def test_error_wins_as_soon_as_it_is_seen(eol: str) -> None:
    error = {"error": {"message": "provider failed", "status": 502}}
    stream = sse(f"data: {compact(error)}\n\ndata: {compact(RESULT)}\n\n", eol)
    assert decode_image_stream(stream) == StreamFailure(error)


@EOLS
def test_an_event_named_error_is_a_failure(eol: str) -> None:
    wrapped = sse('event: error\ndata: {"message": "upstream timeout", "status": 504}\n\n', eol)
    assert decode_image_stream(wrapped) == StreamFailure(
        {"error": {"message": "upstream timeout", "status": 504}}
    )
    text = sse("event: error\ndata: upstream exploded\n\n", eol)
    assert decode_image_stream(text) == StreamFailure({"error": "upstream exploded"})


def test_a_null_error_next_to_data_is_a_result() -> None:
    payload = compact({"error": None, **RESULT})
    assert decode_image_stream(f"data: {payload}\n\n".encode()) == StreamResult(payload.encode())


@EOLS
def test_data_that_is_not_a_list_is_not_a_result(eol: str) -> None:
    stream = sse('data: {"data": "processing"}\n\ndata: [DONE]\n\n', eol)
    outcome = decode_image_stream(stream)
    assert isinstance(outcome, StreamIncomplete)
    assert "[DONE]" in outcome.reason


@EOLS
def test_no_done_marker(eol: str) -> None:
    payload = compact(RESULT)
    assert decode_image_stream(sse(f"data: {payload}\n\n", eol)) == StreamResult(payload.encode())


@EOLS
def test_no_done_and_no_final_blank_line(eol: str) -> None:
    payload = compact(RESULT)
    assert decode_image_stream(sse(f"data: {payload}", eol)) == StreamResult(payload.encode())
    assert decode_image_stream(sse(f"data: {payload}\n", eol)) == StreamResult(payload.encode())


@EOLS
def test_cut_mid_event(eol: str) -> None:
    payload = compact(RESULT)
    stream = sse(f'data: {{"progress": 0.5}}\n\ndata: {payload[: len(payload) // 2]}', eol)
    outcome = decode_image_stream(stream)
    assert isinstance(outcome, StreamIncomplete)
    assert "cut" in outcome.reason


@EOLS
def test_multiline_data_is_joined_with_newlines(eol: str) -> None:
    stream = sse('data: {"created": 1,\ndata: "data": [{"url": "https://x/image.jpeg"}]}\n\n', eol)
    outcome = decode_image_stream(stream)
    assert isinstance(outcome, StreamResult)
    assert outcome.payload == b'{"created": 1,\n"data": [{"url": "https://x/image.jpeg"}]}'
    assert json.loads(outcome.payload)["data"][0]["url"] == "https://x/image.jpeg"


@EOLS
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        (": only a comment\n\n", "without any data event"),
        ("data: : keepalive\n\ndata: : keepalive\n\n", "2 keep-alive"),
        ('data: {"progress": 0.9}\n\n', "1 progress"),
        ('data: {"progress": 0.9}\n\ndata: [DONE]\n\n', "[DONE]"),
        ("data: {not json}\n\n", "malformed"),
        ("data: [DONE]\n\n", "no events before it"),
    ],
)
def test_streams_without_a_result(eol: str, text: str, expected: str) -> None:
    outcome = decode_image_stream(sse(text, eol))
    assert isinstance(outcome, StreamIncomplete)
    assert expected in outcome.reason


def test_events_after_done_are_not_read() -> None:
    stream = f"data: [DONE]\n\ndata: {compact(RESULT)}\n\n".encode()
    assert isinstance(decode_image_stream(stream), StreamIncomplete)


def test_json_that_is_not_an_object_is_skipped() -> None:
    stream = f"data: 42\n\ndata: [1, 2]\n\ndata: {compact(RESULT)}\n\n".encode()
    assert decode_image_stream(stream) == StreamResult(compact(RESULT).encode())


# ---------------------------------------------------------------------------
# decode_image_stream: large events (classified without being parsed)


@pytest.fixture(scope="module")
def big() -> bytes:
    return big_result()


@EOLS
def test_ten_megabyte_result(eol: str, big: bytes) -> None:
    head = sse("event: message\ndata: : keepalive\n\ndata: ", eol)
    stream = head + big + sse("\n\ndata: [DONE]\n\n", eol)
    outcome = decode_image_stream(stream)
    assert isinstance(outcome, StreamResult)
    assert outcome.payload == big


@EOLS
def test_ten_megabyte_result_without_done_or_final_blank_line(eol: str, big: bytes) -> None:
    outcome = decode_image_stream(sse("data: ", eol) + big)
    assert isinstance(outcome, StreamResult)
    assert outcome.payload == big
    outcome = decode_image_stream(sse("data: ", eol) + big + eol.encode())
    assert isinstance(outcome, StreamResult)


@EOLS
@pytest.mark.parametrize(
    "cut", [100, 5 * 1024 * 1024, -3, -1], ids=["head", "mid-base64", "after-string", "last-brace"]
)
def test_ten_megabyte_result_cut_mid_event(eol: str, big: bytes, cut: int) -> None:
    outcome = decode_image_stream(sse("data: ", eol) + big[:cut])
    assert isinstance(outcome, StreamIncomplete)
    assert "cut" in outcome.reason


def test_large_result_with_other_keys_first_and_escapes(big: bytes) -> None:
    body = json.loads(big)
    body = {
        "usage": {"note": 'a "quoted" word \\ and a } brace [ in a string'},
        "created": 1,
        "data": body["data"],
    }
    payload = json.dumps(body).encode()
    assert decode_image_stream(b"data: " + payload + b"\n\n") == StreamResult(payload)


def test_large_result_with_an_error_inside_an_item_is_still_a_result() -> None:
    payload = big_result(LARGE_EVENT_BYTES * 2)
    body = json.loads(payload)
    body["data"].append({"url": None, "error": "re-host failed"})
    payload = json.dumps(body).encode()
    assert decode_image_stream(b"data: " + payload + b"\n\n") == StreamResult(payload)


def test_large_event_with_a_top_level_error_is_a_failure() -> None:
    body = {"error": {"message": "provider returned status 503", "detail": "x" * 100_000}}
    outcome = decode_image_stream(b"data: " + json.dumps(body).encode() + b"\n\n")
    assert outcome == StreamFailure(body)


def test_large_event_with_a_null_error_and_data_is_a_result() -> None:
    payload = big_result(LARGE_EVENT_BYTES * 2, error=None)
    assert decode_image_stream(b"data: " + payload + b"\n\n") == StreamResult(payload)


def test_large_event_without_data_is_skipped() -> None:
    progress = json.dumps({"progress": 0.5, "preview": "A" * 200_000}).encode()
    result = compact(RESULT).encode()
    stream = b"data: " + progress + b"\n\ndata: " + result + b"\n\n"
    assert decode_image_stream(stream) == StreamResult(result)


def test_large_event_named_error_is_a_failure() -> None:
    body = {"message": "upstream failed", "trace": "t" * 100_000}
    stream = b"event: error\ndata: " + json.dumps(body).encode() + b"\n\n"
    assert decode_image_stream(stream) == StreamFailure({"error": body})


def test_large_event_with_many_strings_is_parsed() -> None:
    # Too many strings to scan one by one: classified by parsing it instead.
    items = [{"url": f"https://files.example/{i}/image.jpeg"} for i in range(12_000)]
    payload = json.dumps({"created": 1, "data": items}).encode()
    assert len(payload) > LARGE_EVENT_BYTES
    assert decode_image_stream(b"data: " + payload + b"\n\n") == StreamResult(payload)


def test_large_malformed_terminated_event_is_skipped() -> None:
    broken = b'{"created": 1, "data": [{"b64_json": "' + b"A" * 100_000 + b"}]}"
    outcome = decode_image_stream(b"data: " + broken + b"\n\ndata: [DONE]\n\n")
    assert isinstance(outcome, StreamIncomplete)
    assert "malformed" in outcome.reason


def test_large_result_is_copied_at_most_once(big: bytes) -> None:
    stream = b"event: message\r\ndata: " + big + b"\r\n\r\ndata: [DONE]\r\n\r\n"
    tracemalloc.start()
    try:
        outcome = decode_image_stream(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, StreamResult)
    # One slice for the payload; parsing it or splitting the stream into lines would cost more.
    assert peak < len(big) * 1.1


# ---------------------------------------------------------------------------
# Hostile events never raise


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deeply_nested_events_are_skipped_not_raised(depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    outcome = decode_image_stream(b"data: " + nested + b"\n\ndata: [DONE]\n\n")
    assert isinstance(outcome, StreamIncomplete)
    assert "malformed" in outcome.reason


def test_a_small_result_event_carries_its_parsed_body() -> None:
    outcome = decode_image_stream(f"data: {compact(RESULT)}\n\n".encode())
    assert isinstance(outcome, StreamResult)
    assert outcome.body == RESULT


@pytest.mark.parametrize(
    "event",
    [
        {"data": [1, 2]},
        {"data": ["https://x/image.jpeg"]},
        {"data": [None]},
    ],
)
def test_a_data_list_of_non_objects_is_not_a_result(event: dict[str, Any]) -> None:
    outcome = decode_image_stream(f"data: {compact(event)}\n\n".encode())
    assert isinstance(outcome, StreamIncomplete)


# ---------------------------------------------------------------------------
# read_answer: a plain JSON answer, parsed once


def test_read_answer_result() -> None:
    content = compact(RESULT).encode()
    outcome = read_answer(content)
    assert outcome == StreamResult(content)
    assert isinstance(outcome, StreamResult) and outcome.body == RESULT


@pytest.mark.parametrize(
    "body",
    [
        {"created": 1, "data": []},
        {"data": [{"url": None, "b64_json": "AAAA"}], "error": None},
        {"data": [{"url": "https://x/1.jpeg"}], "error": "one of two images failed"},
    ],
)
def test_read_answer_other_results(body: dict[str, Any]) -> None:
    outcome = read_answer(json.dumps(body).encode())
    assert isinstance(outcome, StreamResult) and outcome.body == body


@pytest.mark.parametrize(
    "body",
    [
        {"error": "Rate limit exceeded"},
        {"error": {"message": "provider returned status 503"}, "data": []},
        {"error": "x" * 200_000},  # a large error is still an error
    ],
)
def test_read_answer_failure(body: dict[str, Any]) -> None:
    assert read_answer(json.dumps(body).encode()) == StreamFailure(body)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"  \r\n", "empty"),
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b'{"data": [', "not JSON"),
        (b'{"data": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b"[]", "a JSON array, not an object"),
        (b"null", "a JSON null, not an object"),
        (b"42", "a JSON number, not an object"),
        (b"true", "a JSON boolean, not an object"),
        (b'"ok"', "a JSON string, not an object"),
        (b"{}", "an object without data"),
        (b'{"created": 1, "data": null}', "an object without data"),
        (b'{"data": "AAAA"}', "data is a JSON string, not a list"),
        (b'{"data": {"url": "https://x"}}', "data is a JSON object, not a list"),
        (b'{"data": [1, 2]}', "something other than objects"),
        (b'{"error": null}', "an object without data"),
    ],
)
def test_read_answer_not_a_result(content: bytes, reason: str) -> None:
    outcome = read_answer(content)
    assert isinstance(outcome, NotAResult)
    assert reason in outcome.reason


def test_read_answer_parses_a_large_answer_once(big: bytes) -> None:
    tracemalloc.start()
    try:
        outcome = read_answer(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, StreamResult) and outcome.payload is big
    # The decoded text and the parsed string: two copies, never a third.
    assert peak < len(big) * 2.2
