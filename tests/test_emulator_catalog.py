"""The catalog the emulator serves (``testing/_catalog.py``, ``testing/_catalog_data.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _gateway import REQUIRED_MODELS, generate

from airforce_openai.testing import Emulator, httpx
from airforce_openai.testing._catalog import format_cents, price_cents
from airforce_openai.testing._catalog_data import default_catalog

pytest_plugins = ["_gateway_plugin"]  # the module's emulator and its clients


def test_default_catalog_embodies_the_live_drift() -> None:
    entries = {m["id"]: m for m in default_catalog()}
    assert set(entries) >= REQUIRED_MODELS
    flux_ratios = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
    for model_id in ("flux-2-klein-4b", "flux-2-klein-9b", "flux-2-dev"):
        assert entries[model_id]["image_caps"]["aspect_ratios"] == flux_ratios
    for model_id in ("nano-banana-2", "nano-banana-2-search", "nano-banana-pro"):
        caps = entries[model_id]["image_caps"]
        assert caps["aspect_ratios"] == ["1:1", "16:9", "9:16", "4:3"]
        assert caps["resolutions"] == ["512", "1024", "2048"]
    for model_id in ("suno-v4.5", "suno-v5"):
        assert entries[model_id]["media_type"] == "audio"
        assert entries[model_id]["output_modalities"] == ["audio"]
    assert entries["gpt-4o-mini"]["supports_chat"] is True
    assert entries["gpt-4o-mini"]["output_modalities"] == ["text"]
    assert entries["wan-2.2"]["media_type"] == "video"
    values = list(entries.values())
    # Old and partial shapes, as the live catalog has them.
    assert any(m.get("media_type") == "image" and "output_modalities" not in m for m in values)
    assert any(
        m.get("supports_images") is True and "media_type" not in m and "output_modalities" not in m
        for m in values
    )
    assert any("image_caps" in m and m["image_caps"] is None for m in values)
    assert any("image_caps" not in m and m.get("media_type") == "audio" for m in values)
    caps = [m["image_caps"] for m in values if isinstance(m.get("image_caps"), dict)]
    assert any(c.get("max_input_images") == 0 for c in caps)
    assert any(c.get("supports_url_input") is False for c in caps)
    assert any(c.get("supports_seed") is False for c in caps)
    assert any(c.get("qualities") for c in caps)
    assert entries["flux-2-dev"]["priceperthousandimages"] == 500


def test_default_catalog_is_a_fresh_copy() -> None:
    first = default_catalog()
    first[0]["image_caps"]["aspect_ratios"].append("5:4")
    first[0]["id"] = "changed"
    second = default_catalog()
    assert second[0]["id"] == "flux-2-klein-4b"
    assert "5:4" not in second[0]["image_caps"]["aspect_ratios"]
    # Entries never share lists, even within one copy.
    second[0]["image_caps"]["aspect_ratios"].append("5:4")
    assert "5:4" not in second[1]["image_caps"]["aspect_ratios"]


def test_set_catalog_accepts_every_shape(emu: Emulator, http: httpx.Client, tmp_path: Path) -> None:
    entry = {"id": "only-model", "output_modalities": ["image"], "image_caps": {"max_n": 1}}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"object": "list", "data": [entry]}))
    for source in ([entry], {"data": [entry]}, path, str(path)):
        emu.set_catalog(source)
        assert [m["id"] for m in http.get("/models").json()["data"]] == ["only-model"]
        assert generate(http, model="only-model").status_code == 200
        assert generate(http, model="flux-2-dev").json()["error"]["code"] == "unknown_model"
    emu.set_catalog(None)
    assert "flux-2-dev" in {m["id"] for m in emu.catalog}


def test_a_broken_catalog_is_served_as_given(emu: Emulator, http: httpx.Client) -> None:
    emu.set_catalog({"object": "list", "data": "not a list"})
    assert http.get("/models").json() == {"object": "list", "data": "not a list"}
    assert emu.catalog == []
    # A broken listing does not stop generation: any model goes, unchecked.
    assert generate(http, model="any-model", n=7, aspect_ratio="5:4").status_code == 200
    drifted = [None, 7, {"id": None}, {"id": "flux-2-dev", "media_type": "image"}]
    emu.set_catalog(drifted)  # type: ignore[arg-type]
    assert http.get("/models").json()["data"] == drifted
    assert generate(http, model="flux-2-dev").status_code == 200
    assert generate(http, model="any-model").json()["error"]["code"] == "unknown_model"


def test_bad_catalogs_name_the_culprit(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot be served as JSON"):
        Emulator(catalog=[{"id": "a", "created": object()}])
    missing = tmp_path / "missing.json"
    with pytest.raises(ValueError, match=r"missing\.json"):
        Emulator(catalog=missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match=r"broken\.json.*not valid JSON"):
        Emulator(catalog=broken)
    with pytest.raises(TypeError, match="int"):
        Emulator(catalog=42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "cents"),
    [
        ({"priceperthousandimages": 500, "price_per_generation_cents": 9}, 0.5),
        ({"priceperthousandimages": None, "price_per_generation_cents": 0.4}, 0.4),
        ({"priceperthousandimages": float("nan"), "price_per_generation_cents": 8}, 8.0),
        ({"priceperthousandimages": float("inf")}, 0.0),
        ({"priceperthousandimages": "500", "price_per_generation_cents": True}, 0.0),
        ({}, 0.0),
    ],
)
def test_the_price_of_one_file(entry: dict[str, Any], cents: float) -> None:
    # A number that is no price (a string, a bool, NaN, infinity) is passed over.
    assert price_cents(entry) == cents
    assert format_cents(3 * cents) == {0.5: "1.5", 0.4: "1.2", 8.0: "24", 0.0: "0"}[cents]
