"""Fixtures: /eval bodies recorded from the real engine (tests/playground/fixtures/*.json,
each {"code", "status", "body"}), so the domain is tested on the exact contract shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def recorded():
    return load
