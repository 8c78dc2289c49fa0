"""What the emulated gateway answers with: generated files, event streams and chat text.

    >>> render("flux-2-dev", {"id": "flux-2-dev"}, {"prompt": "an otter"}, 0)[1:4]
    b'PNG'

Files are real and small (long side at most 64 px) and the same for the same (model, prompt,
seed, index).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .._values import is_int
from . import _media
from ._catalog import entry_kind, image_caps
from ._errors import PROVIDER_FAILED, status_defaults
from ._faults import Fault

__all__ = ["last_user_text", "render", "sse_events"]

_MAX_SIDE = 64  # long side of generated images, in pixels


def _parse_pair(value: object, separator: str) -> tuple[float, float] | None:
    if not isinstance(value, str):
        return None
    parts = value.lower().split(separator)
    if len(parts) != 2:
        return None
    try:
        first, second = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (math.isfinite(first) and math.isfinite(second) and first > 0 and second > 0):
        return None
    return first, second


def _pixel_size(body: Mapping[str, Any]) -> tuple[int, int]:
    """An aspect ratio gives its shape at the full long side; a size is only scaled down."""
    ratio = _parse_pair(body.get("aspect_ratio", body.get("aspectRatio")), ":")
    if ratio is not None:
        width, height = ratio
        scale = _MAX_SIDE / max(width, height)
    else:
        width, height = _parse_pair(body.get("size"), "x") or (1024.0, 1024.0)
        scale = min(1.0, _MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _file_kind(model_id: str, entry: Mapping[str, Any]) -> _media.MediaKind:
    kind = entry_kind(entry)
    if kind == "audio":
        return "mp3"
    if kind == "video":
        return "mp4"
    if model_id.startswith("nano-banana"):
        return "jpeg"  # the gateway often answers JPEG whatever the docs say
    if model_id.startswith("seedream"):
        return "webp"
    return "png"


def render(model_id: str, entry: Mapping[str, Any], body: Mapping[str, Any], index: int) -> bytes:
    """The bytes of file ``index`` of a generation, in the format the model answers with."""
    # A model that ignores seeds draws the same file whatever seed it is given.
    seed = body.get("seed") if image_caps(entry).get("supports_seed") is not False else None
    key = json.dumps([model_id, body.get("prompt"), seed, index]).encode()
    width, height = _pixel_size(body)
    kind = _file_kind(model_id, entry)
    if kind == "mp3":
        return _media.mp3(1.0, key)
    if kind == "mp4":
        return _media.mp4(key, width=width, height=height)
    draw = {"jpeg": _media.jpeg, "webp": _media.webp}.get(kind, _media.png)
    return draw(width, height, key)


def sse_events(payload: Mapping[str, Any], fault: Fault) -> tuple[list[bytes], bytes | None]:
    """The event-stream blocks to send, and the half block to send before cutting, if any."""
    variants = set(fault.variants)
    newline = "\r\n" if "crlf" in variants else "\n"

    def event(data: str) -> bytes:
        lines = ["event: message"] if "event_lines" in variants else []
        lines.append(f"data: {data}")
        return (newline.join(lines) + newline * 2).encode()

    def comment() -> list[bytes]:
        return [(": ping" + newline * 2).encode()] if "comments" in variants else []

    blocks = comment()
    if variants & {"keepalive", "keepalive_only"}:
        blocks += [event(": keepalive"), *comment(), event(": keepalive")]
    if "progress" in variants:
        for progress in (0.25, 0.5, 0.75):
            blocks += [event(json.dumps({"progress": progress})), *comment()]
    if "keepalive_only" in variants:
        return blocks, None
    result: Any = payload
    if "error_string" in variants:
        result = {"error": fault.message or PROVIDER_FAILED}
    elif "error_object" in variants:
        code = fault.error_code if fault.error_code is not None else 429
        default_message = status_defaults(code)[2] if is_int(code) else "Image generation failed"
        result = {
            "error": {
                "message": fault.message or default_message,
                "code": code,
                "retry_after": fault.retry_after if fault.retry_after is not None else 0,
            }
        }
    last = event(json.dumps(result))
    if "cut_mid_event" in variants:
        return blocks, last[: len(last) // 2]
    blocks.append(last)
    if "no_done" not in variants:
        blocks.append(event("[DONE]"))
    return blocks, None


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user message: what the emulated chat model echoes back."""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(part.get("text", ""))
                    for part in content
                    if isinstance(part, Mapping) and part.get("type") == "text"
                )
    return ""
