"""app/engine/job.py: a worker forked from a warmed forkserver does not run the warm-up
program again; any other worker does."""

from __future__ import annotations

import sys
import types

import pytest

from app.config import Settings
from app.engine import job


@pytest.fixture
def fresh_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job, "_sandbox", None)


def _warm_up_ran() -> bool:
    assert job._sandbox is not None
    return job.WARM_UP_PROGRAM in job._sandbox.programs._entries


@pytest.mark.usefixtures("fresh_worker")
@pytest.mark.parametrize("warmed", [True, False])
def test_the_warm_up_program_runs_unless_the_forkserver_ran_it(
        monkeypatch: pytest.MonkeyPatch, warmed: bool) -> None:
    prewarm = types.SimpleNamespace(WARMED=warmed)
    monkeypatch.setitem(sys.modules, "app.engine.prewarm", prewarm)
    job.warm_up(Settings())
    assert _warm_up_ran() is not warmed


@pytest.mark.usefixtures("fresh_worker")
def test_a_worker_without_a_forkserver_warms_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "app.engine.prewarm", raising=False)
    job.warm_up(Settings())
    assert _warm_up_ran()
