"""Fixtures for the lesson tests: the real catalog, read once."""

from __future__ import annotations

import pytest

from app.lessons.loader import Catalog, load_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
