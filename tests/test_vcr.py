"""vcrpy settings: scrubbing as plain functions, then recording and replaying the real SDK."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import openai
import pytest
import vcr  # type: ignore[import-untyped]
import yaml  # type: ignore[import-untyped]
from _loopback import QuietHandler, serve
from openai.types import ImagesResponse
from vcr.errors import CannotOverwriteExistingCassetteException  # type: ignore[import-untyped]
from vcr.request import Request as VcrRequest  # type: ignore[import-untyped]

import airforce_openai as af
from airforce_openai._formats import sniff as sniff_format
from airforce_openai._sse import StreamResult, decode_image_stream
from airforce_openai.testing import Emulator, Fault, _media, vcr_config
from airforce_openai.testing._vcr import (
    DEFAULT_MAX_BASE64,
    REDACTED_KEY,
    REDACTED_SECRET,
    credentials_in,
    redact_keys,
    redact_secrets,
    scrub_request,
    scrub_response,
    shrink_base64,
    shrink_media,
)

SECRET = "sk-air-live-7f3a9c2e_b41d"
# A key with no sk-air- prefix, and characters that URLs and JSON may escape.
ODD_KEY = "team-key/7f3a+9c2e b41d"
ODD_SPELLINGS = (ODD_KEY, quote(ODD_KEY, safe=""), quote_plus(ODD_KEY), ODD_KEY.replace("/", "\\/"))
# The emulator draws small images, so recordings of it use a lower threshold.
THRESHOLD = 512
BIG_RUN = re.compile(rf"[A-Za-z0-9+/]{{{THRESHOLD + 1},}}")
UNREDACTED = re.compile(r"sk-air-(?!REDACTED\b)")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def big_png(seed: bytes = b"big") -> bytes:
    data = _media.png(160, 160, seed)
    assert len(b64(data)) > DEFAULT_MAX_BASE64
    return data


def stored_b64(body: bytes) -> bytes:
    """The bytes of the first ``b64_json`` in a JSON or event-stream body."""
    found = re.search(rb'"b64_json"\s*:\s*"([^"]+)"', body)
    assert found is not None, body[:200]
    return base64.b64decode(found[1].replace(b"\\/", b"/"))


# --- redact_keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bearer sk-air-abc123", f"Bearer {REDACTED_KEY}"),
        ('{"key": "sk-air-a.b_c-d"}', f'{{"key": "{REDACTED_KEY}"}}'),
        ("https://h/v1?key=sk-air-abc&x=1", f"https://h/v1?key={REDACTED_KEY}&x=1"),
        ("one sk-air-a, two sk-air-b", f"one {REDACTED_KEY}, two {REDACTED_KEY}"),
    ],
)
def test_redact_keys_replaces_every_key(text: str, expected: str) -> None:
    assert redact_keys(text) == expected


def test_redact_keys_is_idempotent_and_leaves_other_text_alone() -> None:
    assert redact_keys(REDACTED_KEY) == REDACTED_KEY
    assert redact_keys("sk-airline, sk-other-1") == "sk-airline, sk-other-1"


# --- shrink_base64 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("png", _media.png(160, 160, b"p")),
        ("jpeg", _media.jpeg(256, 256, b"j")),
        ("webp", _media.webp(160, 160, b"w")),
        ("mp3", _media.mp3(2.0, b"m")),
        ("mp4", _media.mp4(b"v", width=160, height=160, frames=8)),
    ],
)
def test_large_b64_json_becomes_a_tiny_file_of_the_same_format(kind: str, data: bytes) -> None:
    body = json.dumps({"created": 1, "data": [{"url": None, "b64_json": b64(data)}]}).encode()
    assert len(body) > DEFAULT_MAX_BASE64

    shrunk = shrink_base64(body)

    item = json.loads(shrunk)["data"][0]
    small = base64.b64decode(item["b64_json"])
    assert _media.sniff(small) == kind
    assert len(item["b64_json"]) <= DEFAULT_MAX_BASE64
    assert item["url"] is None and json.loads(shrunk)["created"] == 1


def test_short_base64_and_plain_text_are_kept_byte_for_byte() -> None:
    body = json.dumps(
        {
            "b64_json": b64(_media.tiny("png")),
            "prompt": "an otter " * 1000,
            "trace": "ab12" * 2000,  # base64 alphabet, but no media in it and not a b64_json
        }
    ).encode()
    assert shrink_base64(body) == body


def test_data_url_keeps_its_prefix() -> None:
    url = "data:image/jpeg;base64," + b64(_media.jpeg(160, 160, b"ref"))
    body = json.dumps({"image_urls": [url]}).encode()

    shrunk = json.loads(shrink_base64(body))["image_urls"][0]

    prefix, _, data = shrunk.partition(",")
    assert prefix == "data:image/jpeg;base64"
    assert _media.sniff(base64.b64decode(data)) == "jpeg"
    assert len(shrunk) < DEFAULT_MAX_BASE64


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"BM" + bytes(range(256)) * 40, "png"),  # a BMP: still an image
        (b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(8000), "mp3"),  # a WAV: still audio
        (bytes(range(256)) * 40, "png"),  # nothing known: an image, the endpoint's default
    ],
)
def test_other_formats_in_b64_json_become_a_tiny_file_of_the_same_kind(
    data: bytes, kind: str
) -> None:
    body = json.dumps({"b64_json": b64(data)}).encode()

    small = base64.b64decode(json.loads(shrink_base64(body))["b64_json"])

    assert _media.sniff(small) == kind


def test_event_stream_keeps_its_framing_and_still_decodes() -> None:
    image = b64(big_png()).replace("/", "\\/")  # some encoders escape slashes
    body = (
        b": ping\r\n\r\n"
        b'event: message\r\ndata: {"progress": 0.5}\r\n\r\n'
        b'event: message\r\ndata: {"created": 1, "data": [{"b64_json": "'
        + image.encode()
        + b'"}]}\r\n\r\ndata: [DONE]\r\n\r\n'
    )

    shrunk = shrink_base64(body)

    head, _, tail = body.partition(image.encode())
    assert shrunk.startswith(head) and shrunk.endswith(tail)
    outcome = decode_image_stream(shrunk)
    assert isinstance(outcome, StreamResult)
    assert _media.sniff(stored_b64(outcome.payload)) == "png"


@pytest.mark.parametrize(
    "value",
    [
        b64(big_png())[:-40] + "\\t" + "A" * 38,  # an escape that base64 never needs
        b64(big_png())[:4097],  # not a whole number of base64 quanta
    ],
    ids=["escape", "length"],
)
def test_strings_that_are_not_base64_are_kept(value: str) -> None:
    body = ('{"b64_json": "' + value + '"}').encode()
    assert shrink_base64(body) == body


def test_shrinking_twice_changes_nothing_more() -> None:
    body = json.dumps({"data": [{"b64_json": b64(big_png())}]}).encode()
    once = shrink_base64(body)
    assert once != body
    assert shrink_base64(once) == once


def test_the_threshold_is_configurable_and_checked() -> None:
    body = json.dumps({"b64_json": b64(_media.png(8, 8, b"s"))}).encode()
    assert shrink_base64(body) == body
    assert shrink_base64(body, max_chars=16) != body
    with pytest.raises(ValueError, match="max_chars"):
        shrink_base64(body, max_chars=0)


def test_shrink_media_replaces_large_downloads_only() -> None:
    large = big_png()
    assert _media.sniff(shrink_media(large)) == "png"
    assert len(shrink_media(large)) < len(large)
    small = _media.tiny("jpeg")
    assert shrink_media(small) is small
    text = json.dumps({"prompt": "x" * 10_000}).encode()
    assert shrink_media(text) is text
    unknown = bytes(range(256)) * 40
    assert shrink_media(unknown) is unknown
    audio = b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(8000)  # a format with no tiny twin
    assert _media.sniff(shrink_media(audio)) == "mp3"


# --- scrub_request / scrub_response -----------------------------------------------------------


def make_request() -> VcrRequest:
    body = json.dumps(
        {
            "model": "flux-2-dev",
            "prompt": "an otter",
            "input_images": [{"b64_json": b64(big_png())}],
            "note": SECRET,
        }
    ).encode()
    headers = {
        "Authorization": f"Bearer {SECRET}",
        "X-Stainless-Lang": "python",
        "Cookie": "session=1",
        "OpenAI-Organization": "org-1",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Host": "127.0.0.1:8123",
    }
    return VcrRequest(
        "POST", f"http://127.0.0.1:8123/v1/images/generations?k={SECRET}", body, headers
    )


def test_scrub_request_removes_credentials_and_large_inputs_from_a_copy() -> None:
    original = make_request()
    before = copy.deepcopy(original._to_dict())

    scrubbed = scrub_request(original, urls={"http://127.0.0.1:8123": "https://api.airforce"})

    assert original._to_dict() == before
    headers = {k.lower(): v for k, v in scrubbed.headers.items()}
    assert set(headers) == {"content-type", "content-length", "host"}
    assert headers["host"] == "api.airforce"
    assert scrubbed.uri == f"https://api.airforce/v1/images/generations?k={REDACTED_KEY}"
    body = json.loads(scrubbed.body)
    assert body["note"] == REDACTED_KEY
    assert _media.sniff(base64.b64decode(body["input_images"][0]["b64_json"])) == "png"
    assert headers["content-length"] == str(len(scrubbed.body))


def test_scrub_response_removes_secrets_and_large_results_from_a_copy() -> None:
    content = json.dumps({"data": [{"b64_json": b64(big_png())}], "echo": SECRET}).encode()
    original: dict[str, Any] = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Content-Type": ["application/json"],
            "Content-Length": [str(len(content))],
            "Set-Cookie": ["session=1"],
            "X-Request-ID": ["req_1"],
        },
        "body": {"string": content},
    }
    before = copy.deepcopy(original)

    scrubbed = scrub_response(original)

    assert original == before
    assert set(scrubbed["headers"]) == {"Content-Type", "Content-Length", "X-Request-ID"}
    stored = scrubbed["body"]["string"]
    assert scrubbed["headers"]["Content-Length"] == [str(len(stored))]
    assert json.loads(stored)["echo"] == REDACTED_KEY
    assert png_size(stored_b64(stored)) == png_size(_media.tiny("png"))


def test_text_bodies_are_scrubbed_too() -> None:
    request = VcrRequest("POST", "https://api.airforce/v1/x", f'{{"k": "{SECRET}"}}', {})
    assert json.loads(scrub_request(request).body) == {"k": REDACTED_KEY}
    response = {"status": {"code": 200}, "headers": {}, "body": {"string": SECRET}}
    assert scrub_response(response)["body"]["string"] == REDACTED_KEY.encode()


# --- the recording client's own key, whatever it looks like ------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Authorization": "Bearer team-key-1"}, {"team-key-1"}),
        ({"authorization": "plain-token-9"}, {"plain-token-9"}),
        ({"X-Api-Key": "abcd1234", "Content-Type": "text/plain"}, {"abcd1234"}),
        ({"Authorization": ["Bearer first-key", "Bearer second-key"]}, {"first-key", "second-key"}),
        ({"Authorization": "Bearer test-k"}, set()),  # a placeholder, not a key
        ({"X-Note": "Bearer not-a-credential"}, set()),
    ],
)
def test_credentials_in_finds_the_secret_values(
    headers: dict[str, Any], expected: set[str]
) -> None:
    assert credentials_in(headers) == expected


def test_redact_secrets_replaces_every_spelling() -> None:
    text = " | ".join([*ODD_SPELLINGS, json.dumps(ODD_KEY), "sk-air-x1 stays for redact_keys"])
    redacted = redact_secrets(text, [ODD_KEY])
    for spelling in ODD_SPELLINGS:
        assert spelling not in redacted
    assert redacted.count(REDACTED_SECRET) == len(ODD_SPELLINGS) + 1
    assert redact_secrets(f"key={SECRET}", [SECRET]) == f"key={REDACTED_KEY}"
    assert redact_secrets("abc and abcd", ["abc"]) == "abc and abcd"  # too short to hunt for


def make_odd_request() -> VcrRequest:
    body = json.dumps({"prompt": f"echo {ODD_KEY}", "escaped": ODD_KEY.replace("/", "\\/")})
    headers = {"Authorization": f"Bearer {ODD_KEY}", "X-Echo": ODD_KEY, "Host": "h"}
    return VcrRequest("POST", f"https://h/v1/x?key={quote_plus(ODD_KEY)}", body, headers)


def test_scrub_request_redacts_its_own_bearer_value_everywhere() -> None:
    scrubbed = scrub_request(make_odd_request())
    stored = json.dumps([scrubbed.uri, dict(scrubbed.headers), scrubbed.body.decode()])
    for spelling in ODD_SPELLINGS:
        assert spelling not in stored
    assert "authorization" not in {name.lower() for name in scrubbed.headers}
    assert scrubbed.headers["X-Echo"] == REDACTED_SECRET
    assert scrubbed.uri == f"https://h/v1/x?key={REDACTED_SECRET}"


def test_scrub_response_redacts_the_secrets_it_is_given() -> None:
    content = json.dumps({"error": {"message": f"key {ODD_KEY} is revoked"}}).encode()
    response = {
        "status": {"code": 401},
        "headers": {"X-Echo": [ODD_KEY]},
        "body": {"string": content},
    }
    scrubbed = scrub_response(response, secrets=[ODD_KEY])
    assert json.loads(scrubbed["body"]["string"])["error"]["message"] == "key REDACTED is revoked"
    assert scrubbed["headers"]["X-Echo"] == [REDACTED_SECRET]
    assert scrub_response(response)["body"]["string"] == content  # nothing to go by


# --- vcr_config -------------------------------------------------------------------------------


def test_vcr_config_defaults() -> None:
    config = vcr_config()
    assert config["record_mode"] == "none"
    assert config["decode_compressed_response"] is True
    assert "body" in config["match_on"]
    names = [f[0] if isinstance(f, tuple) else f for f in config["filter_headers"]]
    assert {"authorization", "api-key", "cookie"} <= set(names)
    vcr.VCR(**config)  # every key is a VCR option


def test_vcr_config_overrides_replace_and_none_removes() -> None:
    config = vcr_config(record_mode="once", match_on=("method", "uri"), serializer=None)
    assert config["record_mode"] == "once"
    assert config["match_on"] == ("method", "uri")
    assert "serializer" not in config
    assert "record_mode" not in vcr_config(record_mode=None)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"max_base64": 0}, "max_base64"),
        ({"max_base64": True}, "max_base64"),
        ({"replace_urls": ["http://127.0.0.1:1"]}, "replace_urls"),
        ({"replace_urls": {"127.0.0.1:1": "https://api.airforce"}}, "127.0.0.1:1"),
        ({"replace_urls": {"http://127.0.0.1:1": "api.airforce"}}, "api.airforce"),
    ],
)
def test_vcr_config_names_a_bad_argument(kwargs: dict[str, Any], culprit: str) -> None:
    with pytest.raises((TypeError, ValueError), match=re.escape(culprit)):
        vcr_config(**kwargs)


# --- recording and replaying the real SDK -----------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[Emulator]:
    """An emulator that accepts a realistic key, so the key's fate can be checked."""
    with Emulator(api_key=SECRET) as emu:
        yield emu


def recorder(**overrides: Any) -> vcr.VCR:
    return vcr.VCR(**vcr_config(**overrides))


def client_for(emu: Emulator, **kwargs: Any) -> af.OpenAI:
    return af.OpenAI(api_key=emu.api_key, base_url=emu.base_url, max_retries=0, **kwargs)


def cassette_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def interactions(path: Path) -> list[dict[str, Any]]:
    data: dict[str, Any] = yaml.safe_load(cassette_text(path))
    return list(data["interactions"])


def test_recording_scrubs_the_cassette_but_not_what_the_client_receives(
    gateway: Emulator, tmp_path: Path
) -> None:
    cassette = tmp_path / "scrubbed.yaml"
    reference = big_png(b"reference")
    record = recorder(record_mode="once", max_base64=THRESHOLD)
    with record.use_cassette(str(cassette)), client_for(gateway) as client:
        plain = client.images.generate(
            model="flux-2-dev",
            prompt="an otter",
            n=2,
            response_format="b64_json",
            extra_body=af.image_params(input_images=[reference]),
        )
        streamed = client.images.generate(
            model="flux-2-dev",
            prompt="an otter at sea",
            response_format="b64_json",
            extra_body=af.image_params(sse=True),
        )

    # The client and the gateway saw everything in full.
    for item in [*(plain.data or []), *(streamed.data or [])]:
        assert item.b64_json is not None and len(item.b64_json) > THRESHOLD
        assert png_size(base64.b64decode(item.b64_json)) == (64, 64)
    sent = gateway.generation_requests()[0]
    assert sent.header("authorization") == f"Bearer {SECRET}"
    assert sent.json["input_images"][0]["b64_json"] == b64(reference)

    # The cassette holds none of it.
    text = cassette_text(cassette)
    assert SECRET not in text
    assert not UNREDACTED.search(text)
    assert not re.search(r"(?i)authorization|bearer|x-stainless", text)
    assert not BIG_RUN.search(text)
    recorded = interactions(cassette)
    assert [i["request"]["method"] for i in recorded] == ["GET", "POST", "POST"]
    generation, sse = recorded[1], recorded[2]
    assert _media.sniff(stored_b64(generation["request"]["body"].encode())) == "png"
    assert png_size(stored_b64(generation["response"]["body"]["string"].encode())) == (2, 2)
    assert sse["response"]["headers"]["content-type"] == ["text/event-stream"]
    assert sse["response"]["body"]["string"].startswith("data: {")


class _GzipGateway(QuietHandler):
    """Answers every generation with gzip-compressed JSON, as a CDN in front might."""

    protocol_version = "HTTP/1.1"
    answer = json.dumps({"created": 1, "data": [{"b64_json": b64(_media.png(64, 64, b"gz"))}]})

    def do_POST(self) -> None:
        self.read_body()
        self.reply(gzip.compress(self.answer.encode()), headers={"Content-Encoding": "gzip"})


@pytest.fixture
def gzip_gateway() -> Iterator[str]:
    with serve(_GzipGateway) as origin:
        yield f"{origin}/v1"


def test_compressed_answers_are_stored_decompressed(gzip_gateway: str, tmp_path: Path) -> None:
    cassette = tmp_path / "gzip.yaml"
    with (
        recorder(record_mode="once").use_cassette(str(cassette)),
        af.OpenAI(api_key=SECRET, base_url=gzip_gateway, validation="off", max_retries=0) as client,
    ):
        live = client.images.generate(model="flux-2-dev", prompt="an otter")

    assert live.data is not None and png_size(base64.b64decode(live.data[0].b64_json or "")) == (
        64,
        64,
    )
    (interaction,) = interactions(cassette)
    headers = {k.lower() for k in interaction["response"]["headers"]}
    assert "content-encoding" not in headers
    stored = json.loads(interaction["response"]["body"]["string"])
    assert _media.sniff(base64.b64decode(stored["data"][0]["b64_json"])) == "png"


def test_replay_needs_no_server(gateway: Emulator, tmp_path: Path) -> None:
    cassette = tmp_path / "replay.yaml"
    with recorder(record_mode="once").use_cassette(str(cassette)), client_for(gateway) as client:
        client.images.generate(model="flux-2-dev", prompt="an otter", response_format="b64_json")
        linked = client.images.generate(model="nano-banana-2", prompt="ramen")
        af.save_images(linked, tmp_path / "recorded")  # the download is recorded too
    base_url = gateway.base_url
    gateway.stop()

    with (
        recorder().use_cassette(str(cassette)) as played,
        af.OpenAI(api_key="sk-air-other", base_url=base_url, max_retries=0) as client,
    ):
        inline = client.images.generate(
            model="flux-2-dev", prompt="an otter", response_format="b64_json"
        )
        linked = client.images.generate(model="nano-banana-2", prompt="ramen")
        saved = af.save_images(inline, tmp_path / "inline") + af.save_images(
            linked, tmp_path / "linked"
        )
        assert played.all_played

    assert isinstance(inline, ImagesResponse) and isinstance(linked, ImagesResponse)
    assert [p.suffix for p in saved] == [".png", ".jpg"]
    for path in saved:
        media = sniff_format(path.read_bytes())
        assert media is not None and media.kind == "image"


def test_requests_with_different_bodies_are_told_apart(gateway: Emulator, tmp_path: Path) -> None:
    cassette = tmp_path / "prompts.yaml"
    prompts = ["an otter", "a heron"]
    with recorder(record_mode="once").use_cassette(str(cassette)), client_for(gateway) as client:
        recorded = {p: client.images.generate(model="flux-2-dev", prompt=p) for p in prompts}

    with recorder().use_cassette(str(cassette)), client_for(gateway) as client:
        replayed = {p: client.images.generate(model="flux-2-dev", prompt=p) for p in prompts[::-1]}
        # Older SDKs wrap what the transport raises in APIConnectionError.
        with pytest.raises(
            (CannotOverwriteExistingCassetteException, openai.APIConnectionError)
        ) as unmatched:
            client.images.generate(model="flux-2-dev", prompt="a newt")
        refusal = unmatched.value
        if isinstance(refusal, openai.APIConnectionError):
            refusal = refusal.__cause__  # type: ignore[assignment]
        assert isinstance(refusal, CannotOverwriteExistingCassetteException)

    urls = {p: (r.data or [])[0].url for p, r in recorded.items()}
    assert urls["an otter"] != urls["a heron"]
    assert {p: (r.data or [])[0].url for p, r in replayed.items()} == urls
    assert len(gateway.generation_requests()) == len(prompts)


def test_body_matching_ignores_key_order(gateway: Emulator, tmp_path: Path) -> None:
    cassette = tmp_path / "order.yaml"
    with recorder(record_mode="once").use_cassette(str(cassette)), client_for(gateway) as client:
        client.images.generate(
            model="flux-2-dev", prompt="an otter", extra_body={"seed": 7, "aspect_ratio": "16:9"}
        )

    with recorder().use_cassette(str(cassette)) as played, client_for(gateway) as client:
        client.images.generate(
            model="flux-2-dev", prompt="an otter", extra_body={"aspect_ratio": "16:9", "seed": 7}
        )
        assert played.all_played
    assert len(gateway.generation_requests()) == 1


async def test_async_client_records_and_replays(gateway: Emulator, tmp_path: Path) -> None:
    cassette = tmp_path / "async.yaml"
    kwargs: dict[str, Any] = {
        "model": "flux-2-dev",
        "prompt": "an otter",
        "response_format": "b64_json",
        "extra_body": af.image_params(sse=True),
    }
    with recorder(record_mode="once").use_cassette(str(cassette)):
        async with af.AsyncOpenAI(
            api_key=gateway.api_key, base_url=gateway.base_url, max_retries=0
        ) as client:
            live = await client.images.generate(**kwargs)
    base_url = gateway.base_url
    gateway.stop()

    with recorder().use_cassette(str(cassette)):
        async with af.AsyncOpenAI(api_key=SECRET, base_url=base_url, max_retries=0) as client:
            replayed = await client.images.generate(**kwargs)

    assert png_size(base64.b64decode((live.data or [])[0].b64_json or "")) == (64, 64)
    paths = await af.asave_images(replayed, tmp_path / "out")
    assert png_size(paths[0].read_bytes()) == png_size(_media.tiny("png"))
    assert SECRET not in cassette_text(cassette)


def test_a_cassette_recorded_locally_replays_for_the_real_base_url(
    gateway: Emulator, tmp_path: Path
) -> None:
    cassette = tmp_path / "rewritten.yaml"
    record = recorder(record_mode="once", replace_urls={gateway.url: "https://api.airforce"})
    with record.use_cassette(str(cassette)), client_for(gateway) as client:
        recorded = client.images.generate(model="flux-2-dev", prompt="an otter")
        af.save_images(recorded, tmp_path / "recorded")
    address = f"127.0.0.1:{gateway.port}"
    gateway.stop()

    assert address not in cassette_text(cassette)
    with (
        recorder().use_cassette(str(cassette)) as played,
        af.OpenAI(api_key=SECRET, base_url=af.DEFAULT_BASE_URL, max_retries=0) as client,
    ):
        replayed = client.images.generate(model="flux-2-dev", prompt="an otter")
        (path,) = af.save_images(replayed, tmp_path / "replayed")
        assert played.all_played

    url = (replayed.data or [])[0].url or ""
    assert url.startswith("https://api.airforce/files/")
    assert path.suffix == ".png"


def test_a_key_the_gateway_echoes_never_reaches_the_cassette(tmp_path: Path) -> None:
    cassette = tmp_path / "echo.yaml"
    with Emulator(api_key=ODD_KEY) as emu:
        emu.inject(af_fault_echoing(ODD_KEY))
        with recorder(record_mode="once").use_cassette(str(cassette)), client_for(emu) as client:
            with pytest.raises(openai.BadRequestError) as refused:
                client.images.generate(model="flux-2-dev", prompt="an otter")
            client.images.generate(
                model="flux-2-dev", prompt=f"an otter named {ODD_KEY}", extra_query={"k": ODD_KEY}
            )
        base_url = emu.base_url
        sent = emu.generation_requests()

    # The live traffic carried the key; the client got the gateway's refusal.
    assert sent[1].header("authorization") == f"Bearer {ODD_KEY}"
    assert quote(ODD_KEY, safe="") in sent[1].query or quote_plus(ODD_KEY) in sent[1].query
    assert refused.value.status_code == 400
    text = cassette_text(cassette)
    for spelling in ODD_SPELLINGS:
        assert spelling not in text
    assert not re.search(r"(?i)authorization|bearer", text)
    assert "REDACTED" in text

    # The cassette still replays for a client using the same key.
    with (
        recorder().use_cassette(str(cassette)) as played,
        af.OpenAI(api_key=ODD_KEY, base_url=base_url, max_retries=0) as client,
    ):
        with pytest.raises(openai.BadRequestError, match="REDACTED"):
            client.images.generate(model="flux-2-dev", prompt="an otter")
        client.images.generate(
            model="flux-2-dev", prompt=f"an otter named {ODD_KEY}", extra_query={"k": ODD_KEY}
        )
        assert played.all_played


def af_fault_echoing(key: str) -> Fault:
    return Fault.status(400, message=f"model refused for key {key}", error_code="bad_request")


def test_a_copied_config_keeps_its_scrubbers_sharing_what_they_learn() -> None:
    # pytest-recording deep-copies the settings before building its VCR.
    original = vcr_config()
    config = copy.deepcopy(original)
    request = VcrRequest("GET", "https://h/v1/models", b"", {"Authorization": f"Bearer {ODD_KEY}"})
    vcr.VCR(**config)  # still valid settings
    config["before_record_request"](request)
    echo = {"status": {"code": 401}, "headers": {}, "body": {"string": ODD_KEY.encode()}}
    assert config["before_record_response"](echo)["body"]["string"] == REDACTED_SECRET.encode()
    # The original learned nothing from its copy's traffic.
    assert original["before_record_response"](echo)["body"]["string"] == ODD_KEY.encode()
