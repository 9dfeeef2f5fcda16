"""Shared fixtures: one in-process sandbox and one running app (with its worker pool) per
test session, so the suite pays for starting torch workers once."""

from __future__ import annotations

import os

# The suite sends hundreds of requests from one client address; the rate limiter has its own
# tests (tests/test_ratelimit.py) with an explicit limit.
os.environ.setdefault("PLAYGROUND_RATE_LIMIT_PER_MINUTE", "0")

from collections.abc import Iterator

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.engine.program import Sandbox

# In-process torch work in tests uses one thread, like the sandbox workers: extra threads
# only spin against the worker processes on a small machine.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def sandbox(settings: Settings) -> Sandbox:
    """Runs programs in this process (no worker): fast, for engine-level tests."""
    return Sandbox(settings)


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """The real app with its real worker pool."""
    from app.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which tests using asyncio.run cannot share."""
    items.sort(key=lambda item: "tests/e2e/" in str(item.path).replace("\\", "/"))
