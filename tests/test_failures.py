"""Tests for airforce_openai._failures: error bodies normalised and mapped to HTTP statuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airforce_openai._failures import (
    MAX_RETRY_AFTER_SECONDS,
    GatewayFailure,
    classify_error_body,
    failure_in_body,
    redact_body,
    redact_secret,
    retry_after_from_body,
    secret_spellings,
)

# ---------------------------------------------------------------------------
# Status mapping, rule 1: error code strings


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("rate_limit_exceeded", 429),
        ("rate_limited", 429),
        ("RATE_LIMIT", 429),
        ("account_temporarily_locked", 429),
        ("insufficient_balance", 402),
        ("free_tier_gated", 403),
        ("model_not_found", 404),
        ("unknown_model", 400),
    ],
)
@pytest.mark.parametrize("shape", ["object", "string", "top-level"])
def test_code_strings(code: str, status: int, shape: str) -> None:
    body: dict[str, Any]
    if shape == "object":
        body = {"error": {"message": "nope", "type": "invalid_request_error", "code": code}}
    elif shape == "string":
        body = {"error": code, "message": "nope"}
    else:
        body = {"error": "nope", "code": code}
    failure = classify_error_body(body, http_status=500)
    assert failure.status == status
    assert failure.body["error"]["code"] == code


def test_code_string_in_type() -> None:
    body = {"error": {"message": "slow down", "type": "rate_limit_error"}}
    assert classify_error_body(body).status == 429


def test_code_string_beats_numbers_and_message() -> None:
    body = {"error": {"message": "HTTP 503", "code": "insufficient_balance", "status": 500}}
    assert classify_error_body(body, http_status=400).status == 402


# ---------------------------------------------------------------------------
# Rule 2: a numeric status or code


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"error": {"message": "failed", "status": 503}}, 503),
        ({"error": {"message": "failed", "code": 504}}, 504),
        ({"error": {"message": "failed", "code": "429"}}, 429),
        ({"error": {"message": "failed", "status": " 413 "}}, 413),
        ({"error": {"message": "failed", "status": "503.0"}}, 503),
        ({"error": "failed", "status": 502}, 502),
        ({"error": "failed", "code": "408"}, 408),
        ({"error": {"message": "failed", "status_code": 503}}, 503),
        ({"error": {"message": "failed", "status": 503}, "status": 500}, 503),
    ],
)
def test_numeric_status_or_code(body: dict[str, Any], status: int) -> None:
    assert classify_error_body(body, http_status=400).status == status


@pytest.mark.parametrize(
    "value", [200, 302, 600, 99, True, "abc", "5O3", 503.5, "503.5", 10**400, "nan", None]
)
def test_numbers_that_are_not_error_statuses_are_ignored(value: object) -> None:
    body = {"error": {"message": "failed", "status": value}}
    assert classify_error_body(body, http_status=418).status == 418


def test_a_numeric_code_beats_the_message() -> None:
    body = {"error": {"message": "provider returned status 503", "code": 429}}
    assert classify_error_body(body).status == 429


# ---------------------------------------------------------------------------
# Rule 3: a status named in the message


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("Image generation failed, provider returned status 503", 503),
        ("upstream said HTTP 429, slow down", 429),
        ("Bad upstream status: 502", 502),
        ("status code 504 from provider", 504),
        ("statusCode=500", 500),
        ("got HTTP/1.1 502 Bad Gateway", 502),
    ],
)
def test_status_in_message(message: str, status: int) -> None:
    assert classify_error_body({"error": message}).status == status
    assert classify_error_body({"error": {"message": message}}).status == status
    assert classify_error_body({"error": "failed", "message": message}).status == status


@pytest.mark.parametrize(
    "message", ["generated 503 images", "status 200", "status 5030", "HTTP 42", "error"]
)
def test_messages_without_an_error_status(message: str) -> None:
    assert classify_error_body({"error": message}).status == 502


# ---------------------------------------------------------------------------
# Rule 4: the response's own status, else 502


def test_falls_back_to_the_http_status() -> None:
    assert classify_error_body({"error": "no idea"}, http_status=401).status == 401


@pytest.mark.parametrize("http_status", [None, 200, 302, 700])
def test_falls_back_to_502(http_status: int | None) -> None:
    assert classify_error_body({"error": "no idea"}, http_status=http_status).status == 502


# ---------------------------------------------------------------------------
# Normalisation


def test_object_shape_keeps_its_fields_and_unknown_keys() -> None:
    body = {
        "error": {
            "message": "aspect_ratio 2:1 is not allowed",
            "type": "invalid_request_error",
            "param": "aspect_ratio",
            "code": "bad_field",
            "allowed": ["1:1", "16:9"],
        },
        "request_id": "req_1",
    }
    failure = classify_error_body(body, http_status=400)
    assert failure == GatewayFailure(
        status=400,
        message="aspect_ratio 2:1 is not allowed",
        body={
            "error": {
                "message": "aspect_ratio 2:1 is not allowed",
                "type": "invalid_request_error",
                "param": "aspect_ratio",
                "code": "bad_field",
                "allowed": ["1:1", "16:9"],
            },
            "request_id": "req_1",
        },
        retry_after=None,
    )


def test_string_shape_with_a_sentence() -> None:
    body = {"error": "Image generation failed, provider returned status 503"}
    failure = classify_error_body(body)
    assert failure.message == "Image generation failed, provider returned status 503"
    assert failure.body == {
        "error": {
            "message": "Image generation failed, provider returned status 503",
            "type": None,
            "param": None,
            "code": None,
        }
    }


def test_string_shape_with_a_code_and_a_message() -> None:
    body = {"error": "insufficient_balance", "message": "Your balance is $0.00", "balance": 0}
    failure = classify_error_body(body, http_status=402)
    assert failure.status == 402
    assert failure.message == "Your balance is $0.00"
    assert failure.body["error"]["message"] == "Your balance is $0.00"
    assert failure.body["error"]["code"] == "insufficient_balance"
    assert failure.body["message"] == "Your balance is $0.00"
    assert failure.body["balance"] == 0


def test_string_shape_with_two_sentences_keeps_both() -> None:
    body = {"error": "Rate limit exceeded", "message": "try again in 5 seconds"}
    failure = classify_error_body(body, http_status=429)
    assert "Rate limit exceeded" in failure.message
    assert "try again in 5 seconds" in failure.message


def test_message_only_at_the_top_level() -> None:
    failure = classify_error_body({"message": "Service Unavailable"}, http_status=503)
    assert failure.body["error"]["message"] == "Service Unavailable"
    assert failure.status == 503


def test_a_code_without_a_message_becomes_the_message() -> None:
    failure = classify_error_body({"error": {"code": "model_not_found"}})
    assert failure.message == "model_not_found"
    assert failure.status == 404


@pytest.mark.parametrize("body", [None, "", {}, {"error": True}, [1, 2]])
def test_bodies_that_say_nothing_still_get_a_message(body: object) -> None:
    failure = classify_error_body(body, http_status=500)
    assert failure.status == 500
    assert isinstance(failure.body["error"]["message"], str)
    assert failure.body["error"]["message"]


def test_plain_text_body() -> None:
    failure = classify_error_body("Bad Gateway", http_status=502)
    assert failure.message == "Bad Gateway"
    assert failure.body["error"]["message"] == "Bad Gateway"


def test_does_not_mutate_its_input() -> None:
    body = {"error": {"message": "x"}, "retry_after": 1}
    classify_error_body(body)
    assert body == {"error": {"message": "x"}, "retry_after": 1}


# ---------------------------------------------------------------------------
# retry_after


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        ({"error": {"message": "slow"}, "retry_after": 3}, 3.0),
        ({"error": {"message": "slow", "retry_after": 2.5}}, 2.5),
        ({"error": "slow", "retry_after": "4"}, 4.0),
        ({"error": {"retry_after": " 0.25 "}}, 0.25),
        ({"error": {"retry_after": 0}}, 0.0),
        ({"error": {"retry_after": 1}, "retry_after": 9}, 1.0),
        ({"error": {"retry_after": "soon"}, "retry_after": 9}, 9.0),
        ({"retryAfter": 7}, 7.0),
    ],
)
def test_retry_after(body: dict[str, Any], seconds: float) -> None:
    assert retry_after_from_body(body) == seconds
    assert classify_error_body(body).retry_after == seconds


@pytest.mark.parametrize(
    "body",
    [
        {"error": "slow"},
        {"retry_after": -1},
        {"retry_after": True},
        {"retry_after": "nan"},
        {"retry_after": "inf"},
        {"retry_after": [1]},
        "retry_after: 3",
        None,
    ],
)
def test_retry_after_absent_or_unusable(body: object) -> None:
    assert retry_after_from_body(body) is None


# ---------------------------------------------------------------------------
# failure_in_body: a 200 answer that carries an error


def test_a_result_is_not_a_failure() -> None:
    assert failure_in_body({"created": 1, "data": [{"url": "https://x/image.jpeg"}]}) is None


@pytest.mark.parametrize(
    "body",
    [{"error": None, "data": []}, {"error": "", "data": []}, {"error": {}}, [1], "error", None],
)
def test_no_error_no_failure(body: object) -> None:
    assert failure_in_body(body) is None


def test_error_instead_of_data() -> None:
    failure = failure_in_body({"error": "Image generation failed, provider returned status 503"})
    assert failure is not None
    assert failure.status == 503
    assert failure.body["error"]["message"].startswith("Image generation failed")


def test_error_with_empty_data_is_a_failure() -> None:
    body = {
        "created": 1,
        "data": [],
        "error": {"message": "locked", "code": "account_temporarily_locked", "retry_after": 30},
    }
    failure = failure_in_body(body)
    assert failure is not None
    assert (failure.status, failure.retry_after) == (429, 30.0)
    assert failure.body["created"] == 1


def test_error_next_to_results_is_not_a_failure() -> None:
    body = {"data": [{"url": "https://x/image.jpeg"}], "error": "one of two images failed"}
    assert failure_in_body(body) is None


def test_failure_in_body_without_a_status_is_502() -> None:
    failure = failure_in_body({"error": {"message": "something broke"}})
    assert failure is not None
    assert failure.status == 502


# ---------------------------------------------------------------------------
# Rule 3: the gateway's own sentences


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        ("Rate limit exceeded", 429),
        ("Rate limit exceeded, please retry later", 429),
        ("Too many requests", 429),
        ("rate-limited: slow down", 429),
        ("Account temporarily locked", 429),
        ("Your account is temporarily locked after repeated failures", 429),
        ("Insufficient balance: add credits to continue", 402),
        ("insufficient credits", 402),
        ("Insufficient funds for this model", 402),
        ("Not enough credits to run this model", 402),
        ("This model is not available on the free tier", 403),
        ("free tier gated", 403),
        ("Model not found", 404),
        ("Model 'flux-9' not found", 404),
        ("The model flux-9 does not exist", 404),
        ("Unknown model: flux-9", 400),
        ("Invalid API key", 401),
    ],
)
def test_the_gateways_sentences(sentence: str, status: int) -> None:
    assert classify_error_body({"error": sentence}).status == status
    assert classify_error_body({"error": {"message": sentence}}).status == status
    assert classify_error_body({"error": sentence, "message": sentence}).status == status
    assert failure_in_body({"error": sentence}) == classify_error_body({"error": sentence})


@pytest.mark.parametrize(
    "sentence",
    [
        "Bad request",
        "Image generation failed",
        "something went wrong",
        "the limit of the rate card",  # "rate" and "limit", not a rate limit
        "modelling failed, path not found",  # "model" is not a word here
    ],
)
def test_sentences_that_say_nothing_known_stay_502(sentence: str) -> None:
    assert classify_error_body({"error": sentence}).status == 502


def test_a_numeric_status_beats_a_sentence() -> None:
    body = {"error": {"message": "Rate limit exceeded", "status": 503}}
    assert classify_error_body(body).status == 503


def test_a_sentence_beats_a_status_in_the_message() -> None:
    body = {"error": "Insufficient balance (provider returned status 500)"}
    assert classify_error_body(body).status == 402


@pytest.mark.parametrize(
    "code", ["insufficient_credits", "insufficient_funds", "INSUFFICIENT_QUOTA"]
)
def test_insufficient_codes_are_402(code: str) -> None:
    assert classify_error_body({"error": {"message": "no", "code": code}}).status == 402
    assert classify_error_body({"error": code}).status == 402


# ---------------------------------------------------------------------------
# retry_after values that are not a usable delay


@pytest.mark.parametrize(
    "value",
    [
        1e306,
        "1e306",
        1e400,
        10**400,
        "-1e306",
        MAX_RETRY_AFTER_SECONDS + 1,
        float("nan"),
        float("inf"),
    ],
)
def test_absurd_retry_after_is_ignored(value: object) -> None:
    body = {"error": {"message": "slow down", "retry_after": value}}
    assert retry_after_from_body(body) is None
    assert classify_error_body(body).retry_after is None


def test_a_day_is_the_longest_retry_after() -> None:
    assert retry_after_from_body({"retry_after": MAX_RETRY_AFTER_SECONDS}) == 86400.0


# ---------------------------------------------------------------------------
# Redacting the caller's own key

KEY = "sk-air-abc123def456ghi789"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Invalid API key {KEY}", "Invalid API key sk-air-...REDACTED"),
        (f"Invalid API key {KEY[:13]}...", "Invalid API key sk-air-...REDACTED..."),
        (f"key={KEY}, again {KEY}!", "key=sk-air-...REDACTED, again sk-air-...REDACTED!"),
        (f"{KEY}xyz", "sk-air-...REDACTEDxyz"),
        ("Invalid API key sk-air-abc1****", "Invalid API key sk-air-abc1****"),  # masked already
        ("Invalid API key", "Invalid API key"),
    ],
)
def test_redact_secret(text: str, expected: str) -> None:
    assert redact_secret(text, KEY) == expected


def test_redact_secret_of_other_key_shapes() -> None:
    assert redact_secret("bad key abcdefghijklmnop", "abcdefghijklmnop") == "bad key ...REDACTED"
    assert redact_secret("bad key sk-0123456789ab", "sk-0123456789ab") == "bad key sk-...REDACTED"


@pytest.mark.parametrize("secret", ["", "x", "sk-air"])
def test_placeholder_keys_are_not_redacted(secret: str) -> None:
    assert redact_secret("an x in sk-air text", secret) == "an x in sk-air text"


def test_redact_body_walks_every_string() -> None:
    body = {
        "error": {"message": f"Invalid API key {KEY}", "param": None, "code": 401},
        "echo": [KEY, {"key": KEY[:16]}],
        KEY: True,
    }
    redacted = redact_body(body, KEY)
    assert KEY[:12] not in json.dumps(redacted)
    assert redacted["error"] == {
        "message": "Invalid API key sk-air-...REDACTED",
        "param": None,
        "code": 401,
    }
    assert body["error"]["message"] == f"Invalid API key {KEY}"  # the input is untouched


def test_secret_spellings_cover_every_way_a_key_comes_back() -> None:
    key = 'sk-air-a/b+c"d\u00e9'
    forms = secret_spellings(key)
    assert key in forms
    assert "sk-air-a%2Fb%2Bc%22d%C3%A9" in forms  # a query string
    assert 'sk-air-a/b+c\\"d\\u00e9' in forms  # a JSON string
    assert 'sk-air-a\\/b+c\\"d\\u00e9' in forms  # ... with its slashes escaped
    assert all(redact_secret(f"echo {form}!", form) != f"echo {form}!" for form in forms)
