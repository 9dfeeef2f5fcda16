"""Shared fixtures: one in-process sandbox and one running app (with its worker pool) per
test session, so the suite pays for starting torch workers once."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

# The suite sends hundreds of requests from one client address; the rate limiter has its own
# tests (tests/test_ratelimit.py) with an explicit limit.
os.environ.setdefault("PLAYGROUND_RATE_LIMIT_PER_MINUTE", "0")
# The classroom's SQLite file and cookie key go to a temporary directory, not the checkout.
if "PLAYGROUND_DATA_DIR" not in os.environ:
    os.environ["PLAYGROUND_DATA_DIR"] = tempfile.mkdtemp(prefix="playground-data-")
    atexit.register(shutil.rmtree, os.environ["PLAYGROUND_DATA_DIR"], ignore_errors=True)

# Under `make mutation`, mutmut wraps every function of app/engine and app/executor in a
# trampoline: three Python frames per call instead of one. The sandbox's depth limits
# (max_call_depth, max_ast_depth) are sized against Python's default recursion limit, so the
# trampolined stack gets the same headroom, or the depth cases fail before any mutant runs.
# Three times the limit the process started with, not the current one: mutmut runs pytest
# several times in one process, and each run imports this file again (9x let the parser take
# a 9,000-term sum whose refusal a corpus case checks).
if "MUTANT_UNDER_TEST" in os.environ:
    os.environ.setdefault("PLAYGROUND_BASE_RECURSION_LIMIT", str(sys.getrecursionlimit()))
    sys.setrecursionlimit(3 * int(os.environ["PLAYGROUND_BASE_RECURSION_LIMIT"]))

from collections.abc import Iterator

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.engine.job import WARM_UP_PROGRAM
from app.engine.program import Sandbox

# Whether this run is one of mutmut's (make mutation): see above and the sandbox fixture.
UNDER_MUTATION = "MUTANT_UNDER_TEST" in os.environ

# In-process torch work in tests uses one thread, like the sandbox workers: extra threads
# only spin against the worker processes on a small machine.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def sandbox(settings: Settings) -> Sandbox:
    """Runs programs in this process (no worker): fast, for engine-level tests.

    Warmed up the way a worker is (its own WARM_UP_PROGRAM): the first program that reaches
    the meta device imports torch._dynamo and friends lazily, 4 s or more on a loaded machine,
    and whichever test came first paid that against its 5 s deadline and flaked."""
    # The warm-up runs under a generous deadline of its own: the lazy imports it pays for are
    # per process, so they stay paid for the fixture's real sandbox below.
    warm_up = Sandbox(settings.model_copy(update={"deadline_s": 300.0}))
    outcome = warm_up.run(WARM_UP_PROGRAM, device="cpu")
    assert outcome.body["ok"], f"the warm-up program failed: {outcome.body.get('error')}"
    if UNDER_MUTATION:
        # mutmut's trampolines (and its tracing run) make the interpreter several times
        # slower: a program meant to hit max_steps would hit the deadline instead, and the
        # verdict of every mutant would be a timeout.
        settings = settings.model_copy(update={"deadline_s": 10 * settings.deadline_s})
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
