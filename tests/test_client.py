"""The drop-in clients: settings, credential hygiene, copies, and stock resources."""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import pathlib
import warnings
from typing import Any

import openai
import pytest

import airforce_openai as af
from airforce_openai.testing import Emulator, RecordedRequest, httpx

LEAKS = {
    "OPENAI_API_KEY": "sk-openai-LEAKED-KEY",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    "OPENAI_ORG_ID": "org-LEAKED",
    "OPENAI_PROJECT_ID": "proj_LEAKED",
    "OPENAI_CUSTOM_HEADERS": "Authorization: Bearer sk-custom-LEAKED\nX-Leaked-Header: LEAKED",
    "OPENAI_ADMIN_KEY": "sk-admin-LEAKED",
    # Read by openai 1.9x and later into `webhook_secret`; never a header, but proven so.
    "OPENAI_WEBHOOK_SECRET": "whsec_LEAKED",
}


def assert_clean(request: RecordedRequest, key: str) -> None:
    """Nothing from another service's credentials, and no SDK telemetry, reached the gateway."""
    for name, value in request.headers.items():
        assert "LEAKED" not in value, (name, value)
        assert not name.startswith("x-stainless"), name
    assert "openai-organization" not in request.headers
    assert "openai-project" not in request.headers
    assert "x-leaked-header" not in request.headers
    if request.path.startswith("/v1/"):
        assert request.headers.get("authorization") in (None, f"Bearer {key}")
    assert request.headers["user-agent"].startswith(f"airforce-openai/{af.__version__}")


def test_is_a_drop_in_subclass() -> None:
    assert isinstance(af.OpenAI(api_key="sk-air-x"), openai.OpenAI)
    assert isinstance(af.AsyncOpenAI(api_key="sk-air-x"), openai.AsyncOpenAI)


def test_default_base_url() -> None:
    client = af.OpenAI(api_key="sk-air-x")
    assert str(client.base_url) == af.DEFAULT_BASE_URL + "/"
    assert af.DEFAULT_BASE_URL == "https://api.airforce/v1"


def test_missing_key_names_airforce_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", LEAKS["OPENAI_API_KEY"])
    for cls in (af.OpenAI, af.AsyncOpenAI):
        with pytest.raises(openai.OpenAIError, match="AIRFORCE_API_KEY"):
            cls()


def test_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFORCE_API_KEY", "sk-air-from-env")
    monkeypatch.setenv("AIRFORCE_BASE_URL", "http://127.0.0.1:5/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", LEAKS["OPENAI_BASE_URL"])
    client = af.OpenAI()
    assert client.api_key == "sk-air-from-env"
    assert str(client.base_url) == "http://127.0.0.1:5/v1/"


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFORCE_API_KEY", "sk-air-from-env")
    monkeypatch.setenv("AIRFORCE_BASE_URL", "http://127.0.0.1:5/v1")
    client = af.AsyncOpenAI(api_key="sk-air-arg", base_url="http://127.0.0.1:6/v1")
    assert client.api_key == "sk-air-arg"
    assert str(client.base_url) == "http://127.0.0.1:6/v1/"


def test_bad_constructor_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="validation='loose'"):
        af.OpenAI(api_key="sk-air-x", validation="loose")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="catalog_ttl"):
        af.OpenAI(api_key="sk-air-x", catalog_ttl=-1)


def test_no_openai_credential_reaches_the_gateway(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    for name, value in LEAKS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIRFORCE_API_KEY", emulator.api_key)
    monkeypatch.setenv("AIRFORCE_BASE_URL", emulator.base_url)
    client = af.OpenAI(max_retries=0)
    assert client.organization is None and client.project is None
    client.images.generate(model="flux-2-dev", prompt="an otter")
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    client.models.list()
    client.with_options(timeout=30).images.generate(model="flux-2-dev", prompt="again")
    client.with_raw_response.images.generate(model="flux-2-dev", prompt="raw")
    assert len(emulator.requests) >= 5
    for request in emulator.requests:
        assert_clean(request, emulator.api_key)


async def test_no_openai_credential_reaches_the_gateway_async(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    for name, value in LEAKS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIRFORCE_API_KEY", emulator.api_key)
    monkeypatch.setenv("AIRFORCE_BASE_URL", emulator.base_url)
    async with af.AsyncOpenAI(max_retries=0) as client:
        await client.images.generate(model="flux-2-dev", prompt="an otter")
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        await client.copy(max_retries=1).models.list()
    assert len(emulator.requests) >= 4
    for request in emulator.requests:
        assert_clean(request, emulator.api_key)


@pytest.mark.skipif(
    "admin_api_key" not in inspect.signature(openai.OpenAI.__init__).parameters,
    reason="this openai SDK has no admin keys",
)
def test_an_explicit_admin_key_is_kept_where_the_sdk_has_them() -> None:
    client = af.OpenAI(api_key="sk-air-x", admin_api_key="sk-admin-mine")
    assert client.admin_api_key == "sk-admin-mine"


@pytest.mark.skipif(
    "admin_api_key" in inspect.signature(openai.OpenAI.__init__).parameters,
    reason="this openai SDK has admin keys",
)
def test_an_admin_key_on_an_sdk_without_them_is_a_clear_error() -> None:
    for cls in (af.OpenAI, af.AsyncOpenAI):
        with pytest.raises(
            openai.OpenAIError, match="admin_api_key= is not supported by the installed openai"
        ):
            cls(api_key="sk-air-x", admin_api_key="sk-admin-mine")


def test_explicit_organization_is_the_callers_choice(emulator: Emulator) -> None:
    client = af.OpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url, organization="org-mine"
    )
    client.models.list()
    assert emulator.requests[-1].headers["openai-organization"] == "org-mine"


def test_stock_resources_work_through_the_same_client(client: af.OpenAI) -> None:
    chat = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}]
    )
    assert isinstance(chat, openai.types.chat.ChatCompletion)
    assert "ping" in (chat.choices[0].message.content or "")
    ids = [m.id for m in client.models.list()]
    assert "flux-2-dev" in ids


def test_raw_and_streaming_responses_keep_working(client: af.OpenAI) -> None:
    raw = client.images.with_raw_response.generate(model="flux-2-dev", prompt="raw")
    assert raw.http_request.headers.get("x-stainless-raw-response") == "true"
    assert isinstance(raw.parse(), openai.types.ImagesResponse)
    with client.images.with_streaming_response.generate(
        model="flux-2-dev", prompt="streamed"
    ) as streamed:
        assert isinstance(streamed.parse(), openai.types.ImagesResponse)


def _settings(client: Any) -> tuple[Any, ...]:
    return (
        type(client),
        client.api_key,
        str(client.base_url),
        client.validation,
        client.catalog_ttl,
        client.request_hooks,
        client.organization,
    )


@pytest.mark.parametrize("cls", [af.OpenAI, af.AsyncOpenAI])
def test_copy_and_with_options_keep_every_setting(cls: Any) -> None:
    def hook(request: af.ImageRequest) -> None:
        return None

    client = cls(
        api_key="sk-air-x", base_url="http://127.0.0.1:7/v1", validation="warn", catalog_ttl=12
    )
    client.add_request_hook(hook)
    for derived in (
        client.copy(),
        client.with_options(timeout=5),
        client.with_options(max_retries=7),
    ):
        assert _settings(derived) == _settings(client)
        assert derived._catalog_cache is client._catalog_cache
    changed = client.with_options(validation="off", catalog_ttl=1)
    assert (changed.validation, changed.catalog_ttl) == ("off", 1)
    assert changed.request_hooks == (hook,)
    assert client.copy(api_key="sk-air-y")._catalog_cache is not client._catalog_cache


def test_with_options_http_client_keeps_hygiene(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator, client: af.OpenAI
) -> None:
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", LEAKS["OPENAI_CUSTOM_HEADERS"])
    monkeypatch.setenv("OPENAI_ORG_ID", LEAKS["OPENAI_ORG_ID"])
    with httpx.Client() as http:
        derived = client.with_options(http_client=http)
        assert isinstance(derived, af.OpenAI)
        derived.images.generate(model="flux-2-dev", prompt="own transport")
    for request in emulator.requests:
        assert_clean(request, emulator.api_key)


def test_hooks_survive_copies_but_copies_do_not_share_later_hooks(client: af.OpenAI) -> None:
    seen: list[str] = []
    client.add_request_hook(lambda req: seen.append(str(req.body["prompt"])))
    derived = client.with_options(timeout=20)
    derived.add_request_hook(lambda req: seen.append("derived-only"))
    client.images.generate(model="flux-2-dev", prompt="parent")
    derived.images.generate(model="flux-2-dev", prompt="child")
    assert seen == ["parent", "child", "derived-only"]


def test_remove_request_hook(client: af.OpenAI) -> None:
    seen: list[str] = []

    def hook(request: af.ImageRequest) -> None:
        seen.append("ran")

    assert client.add_request_hook(hook) is hook
    client.remove_request_hook(hook)
    client.images.generate(model="flux-2-dev", prompt="no hook")
    assert seen == []
    with pytest.raises(TypeError, match="callable"):
        client.add_request_hook("not a function")  # type: ignore[arg-type]


def test_async_hook_on_sync_client_is_refused_before_sending(
    client: af.OpenAI, emulator: Emulator
) -> None:
    async def hook(request: af.ImageRequest) -> None:
        return None

    client.add_request_hook(hook)
    with pytest.raises(TypeError, match="AsyncOpenAI"):
        client.images.generate(model="flux-2-dev", prompt="x")
    assert emulator.generation_requests() == []


async def test_async_client_awaits_coroutine_hooks(
    aclient: af.AsyncOpenAI, emulator: Emulator
) -> None:
    seen: list[Any] = []

    async def hook(request: af.ImageRequest) -> None:
        seen.append(request.model_info.id if request.model_info else None)

    aclient.add_request_hook(hook)
    await aclient.images.generate(model="flux-2-dev", prompt="x")
    assert seen == ["flux-2-dev"]
    assert len(emulator.generation_requests()) == 1


async def test_async_hooks_run_in_order_each_awaited_before_the_next(
    aclient: af.AsyncOpenAI,
) -> None:
    seen: list[str] = []

    async def first(request: af.ImageRequest) -> None:
        seen.append("first starts")
        await asyncio.sleep(0)
        seen.append("first ends")

    aclient.add_request_hook(first)
    aclient.add_request_hook(lambda request: seen.append("second"))
    await aclient.images.generate(model="flux-2-dev", prompt="x")
    assert seen == ["first starts", "first ends", "second"]


def test_a_refused_async_hook_is_closed_and_stops_the_later_hooks(client: af.OpenAI) -> None:
    seen: list[str] = []

    async def hook(request: af.ImageRequest) -> None:
        seen.append("awaited")  # never: the coroutine is closed, not run

    client.add_request_hook(hook)
    client.add_request_hook(lambda request: seen.append("later"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would fail here
        with pytest.raises(TypeError, match="coroutine function"):
            client.images.generate(model="flux-2-dev", prompt="x")
        gc.collect()
    assert seen == []


def _typed_keywords(class_name: str) -> list[str]:
    source = pathlib.Path(inspect.getfile(af.OpenAI)).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for inner in ast.walk(node):
                if isinstance(inner, ast.FunctionDef) and inner.name == "__init__":
                    return [arg.arg for arg in inner.args.kwonlyargs]
    raise AssertionError(f"no typed __init__ in {class_name}")


@pytest.mark.parametrize("cls", [af.OpenAI, af.AsyncOpenAI])
def test_the_typed_signatures_are_the_one_constructors(cls: Any) -> None:
    # The clients' typed `__init__` signatures are read by mypy only; one body runs for both.
    runtime = [
        name
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    typed = _typed_keywords(cls.__name__)
    # `http_client` reaches the stock constructor through the runtime one's `**kwargs`.
    assert typed == [*runtime[: runtime.index("_catalog_cache")], "http_client", *runtime[-2:]]
