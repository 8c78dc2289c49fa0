"""The cassette scenarios against the real gateway: only with `-m live` and AIRFORCE_API_KEY set.

AIRFORCE_API_KEY=sk-air-... python -m pytest tests/test_live.py -m live   # billed per image
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from test_cassettes import SCENARIOS

import airforce_openai as af

# Read at import: the suite's autouse fixture hides the developer's keys from every test.
API_KEY = os.environ.get("AIRFORCE_API_KEY")
BASE_URL = os.environ.get("AIRFORCE_BASE_URL") or af.DEFAULT_BASE_URL

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not API_KEY, reason="set AIRFORCE_API_KEY to run against the live gateway"),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_against_the_gateway(scenario: Any, tmp_path: Path) -> None:
    with af.OpenAI(api_key=API_KEY, base_url=BASE_URL, timeout=300) as client:
        response, paths = scenario.run(client, tmp_path)
    scenario.check(response, paths)


def test_catalog_lists_every_scenario_model() -> None:
    with af.OpenAI(api_key=API_KEY, base_url=BASE_URL, timeout=60) as client:
        missing = [s.model for s in SCENARIOS if client.catalog.get(s.model) is None]
    assert not missing, f"the gateway no longer lists {missing}"
