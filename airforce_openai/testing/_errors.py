"""The errors the emulated gateway answers with: default messages per status, and refusals.

>>> status_defaults(429)
('rate_limit_error', 'rate_limit_exceeded', 'Rate limit exceeded, please retry later')
"""

from __future__ import annotations

import http
from typing import Any, NoReturn

__all__ = ["PROVIDER_FAILED", "Refusal", "error_object", "refuse", "status_defaults"]

PROVIDER_FAILED = "Image generation failed, provider returned status 503"

# status -> (error type, error code, message): what the gateway answers for each status.
_STATUS_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("invalid_request_error", "bad_request", "Bad request"),
    401: ("authentication_error", "invalid_api_key", "Invalid API key"),
    402: ("billing_error", "insufficient_balance", "Insufficient balance: add credits to continue"),
    403: ("permission_error", "free_tier_gated", "This model is not available on the free tier"),
    404: ("invalid_request_error", "model_not_found", "Model not found"),
    408: ("timeout_error", "request_timeout", "Request timed out"),
    413: ("invalid_request_error", "payload_too_large", "Request body too large"),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit exceeded, please retry later"),
    500: ("server_error", "internal_error", "Internal server error"),
    502: ("server_error", "bad_gateway", "Bad gateway, please retry"),
    503: ("server_error", "provider_unavailable", PROVIDER_FAILED),
    504: ("server_error", "gateway_timeout", "The upstream provider timed out"),
}


def status_defaults(status: int) -> tuple[str, str | None, str]:
    """The error type, error code (or None) and message the gateway answers ``status`` with."""
    if status in _STATUS_DEFAULTS:
        return _STATUS_DEFAULTS[status]
    kind = "server_error" if status >= 500 else "invalid_request_error"
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return kind, None, f"{phrase} (status {status})"


class Refusal(Exception):
    """A request the gateway answers with an error status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


def refuse(param: str, message: str, code: str = "invalid_value") -> NoReturn:
    """Refuse the request with a 400 that names the culprit ``param``."""
    raise Refusal(400, message, param=param, code=code)


def error_object(
    message: str, *, kind: str | None, param: str | None, code: str | int | None
) -> dict[str, Any]:
    """An OpenAI-style ``{"error": {...}}`` body."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
