"""Tool-call arguments, each accepted or refused, shared by the plain tool's and LangChain's tests.

Both front ends must agree on every row: ``ImageTool.call`` and ``AirforceImageTool`` send the
same request for an accepted row, and send nothing for a refused one. ``needle`` is part of
the plain tool's ``Error: ...`` text (LangChain words its own schema refusals).
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

import pytest

URL = "https://example.test/ref.png"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


class ToolCase(NamedTuple):
    arguments: dict[str, Any]
    needle: str | None  # None: accepted
    model: str = "flux-2-dev"  # an emulator model: max_n 4, qualities, 4 input images, seeds


CASES = [
    # accepted
    ToolCase({"prompt": "an otter"}, None),
    ToolCase(
        {"prompt": "an otter", "aspect_ratio": "16:9", "n": 2, "seed": 7, "quality": "hd"}, None
    ),
    ToolCase({"prompt": "x", "n": 4, "seed": 0}, None),
    ToolCase({"prompt": "x", "input_images": []}, None),
    ToolCase({"prompt": "x", "input_images": [URL, URL]}, None),
    ToolCase({"prompt": "an otter", "input_images": [DATA_URL]}, None, "nano-banana-2"),
    # refused by the validator's rules
    ToolCase({}, "flux-2-dev: prompt is required"),
    ToolCase({"aspect_ratio": "1:1"}, "flux-2-dev: prompt is required"),
    ToolCase({"prompt": ""}, "flux-2-dev: prompt is empty"),
    ToolCase({"prompt": "  "}, "flux-2-dev: prompt is empty"),
    ToolCase({"prompt": "x", "n": 5}, "flux-2-dev: n 5 is above the maximum of 4"),
    ToolCase({"prompt": "x", "n": 0}, "flux-2-dev: n 0 is below the minimum of 1"),
    ToolCase({"prompt": "x", "n": -1}, "flux-2-dev: n -1 is below the minimum of 1"),
    ToolCase(
        {"prompt": "x", "aspect_ratio": "5:4"},
        "flux-2-dev: aspect_ratio '5:4' is not one of 1:1, 16:9",
    ),
    ToolCase(
        {"prompt": "x", "quality": "ultra"}, "flux-2-dev: quality 'ultra' is not one of standard"
    ),
    ToolCase({"prompt": "x", "input_images": [URL] * 5}, "is above the maximum of 4"),
    ToolCase({"prompt": "x", "input_images": [URL]}, "input_images[0] is a URL", "nano-banana-2"),
    # refused by the schema's shape: unknown names, other JSON types, null
    ToolCase({"prompt": "x", "style": "noir"}, "flux-2-dev: unknown argument 'style'"),
    ToolCase({"prompt": "x", "aspectRatio": "16:9"}, "unknown argument 'aspectRatio'"),
    ToolCase({"prompt": "x", "seed": 7}, "unknown argument 'seed'", "nano-banana-2"),
    ToolCase({"prompt": 3}, "flux-2-dev: prompt must be a string, got int 3"),
    ToolCase({"prompt": None}, "prompt must be a string, got null"),
    ToolCase({"prompt": "x", "n": "2"}, "n must be an integer, got str '2'"),
    ToolCase({"prompt": "x", "n": True}, "n must be an integer, got bool True"),
    ToolCase({"prompt": "x", "n": 2.0}, "n must be an integer, got float 2.0"),
    ToolCase({"prompt": "x", "n": None}, "n must be an integer, got null"),
    ToolCase({"prompt": "x", "seed": True}, "seed must be an integer"),
    ToolCase({"prompt": "x", "seed": "7"}, "seed must be an integer"),
    ToolCase({"prompt": "x", "aspect_ratio": 16}, "aspect_ratio must be a string"),
    ToolCase({"prompt": "x", "input_images": URL}, "input_images must be a list"),
    ToolCase({"prompt": "x", "input_images": [1]}, "input_images[0] must be a string"),
]

CASE_PARAMS = [pytest.param(case, id=f"{case.model}-{str(case.arguments)[:60]}") for case in CASES]
