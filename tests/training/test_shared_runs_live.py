"""Two real uvicorn servers sharing one run store (the default SQLite file in a shared data_dir,
as processes on one host do, and a Redis server, as hosts of a cluster do): a run started
on A is followed over SSE from B to its end, B reads the same final record as A, B cancels a
run that A drives, a run live when A shuts down ends (cancelled) for B, and a restarted A
still serves its finished run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services import LiveServer

ROOT = Path(__file__).resolve().parents[2]
# Warm-up imports torch in each worker: ~30 s on a loaded 2-core machine.
START_TIMEOUT_S = 180
# Long enough (a few hundred steps) that B's stream is opened while the run is still going.
FOLLOWED = {"dataset": {"name": "moons", "n_samples": 400}, "model": {"hidden": [8]},
            "epochs": 15, "batch_size": 16}
# Thousands of steps: caught running, cancelled long before its end.
LONG = {**FOLLOWED, "epochs": 1000, "dataset": {"name": "moons", "n_samples": 200}}
# 50,000 steps (the most a run may ask for), so it is surely still going when its server
# shuts down: with LONG's 10,000, CI once read "finished" instead of "cancelled" there.
LIVE_AT_SHUTDOWN = {**LONG, "dataset": {"name": "moons", "n_samples": 1000}}


@pytest.fixture(params=["sqlite", "redis"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The settings that make servers share one store (each server has its own data_dir
    otherwise: only the store is shared)."""
    if request.param == "sqlite":  # the default: nothing to set but the directory
        return {"PLAYGROUND_DATA_DIR": str(tmp_path)}
    pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")
    return {"PLAYGROUND_RUN_STORE": "redis",
            "PLAYGROUND_RUN_STORE_URL": request.getfixturevalue("redis_url")}


def store_server(store_env: dict[str, str]) -> LiveServer:
    """A server of its own whose runs live in the shared store."""
    return LiveServer({"PLAYGROUND_WORKERS": "1", "PLAYGROUND_RATE_LIMIT_PER_MINUTE": "0",
                       **store_env})


@pytest.fixture
def servers(store_env: dict[str, str]) -> Iterator[list[LiveServer]]:
    started = [store_server(store_env), store_server(store_env)]
    try:
        for server in started:
            server.wait_ready(START_TIMEOUT_S)
        yield started
    finally:
        for server in started:
            server.stop()


def follow(url: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, event, data) of every event of an SSE stream, read until the server closes it."""
    events = []
    with httpx.stream("GET", url, timeout=30) as response:
        assert response.status_code == 200
        frame: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in frame:
                    events.append((int(frame["id"]), frame["event"], json.loads(frame["data"])))
                frame = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                frame[key] = value
    return events


def wait_running(server: LiveServer, run_id: str) -> None:
    deadline = time.monotonic() + 20
    while httpx.get(f"{server.url}/runs/{run_id}", timeout=10).json()["status"] != "running":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)


def wait_status(server: LiveServer, run_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while (view := httpx.get(f"{server.url}/runs/{run_id}", timeout=10).json())["status"] \
            != status:
        assert time.monotonic() < deadline, view["status"]
        time.sleep(0.1)
    return view


def test_a_run_started_on_one_server_is_followed_and_read_on_the_other(
        servers: list[LiveServer], store_env: dict[str, str]) -> None:
    a, b = servers
    created = httpx.post(f"{a.url}/runs", json=FOLLOWED, timeout=10)
    assert created.status_code == 201
    run_id = created.json()["id"]

    events = follow(f"{b.url}/runs/{run_id}/events")  # opened while A's run is queued/running
    assert [index for index, _, _ in events] == list(range(len(events)))
    kinds = [kind for _, kind, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("end") == 1
    assert "step" in kinds and kinds.count("epoch") == FOLLOWED["epochs"]
    assert events[-1][2]["status"] == "finished"

    on_a = httpx.get(f"{a.url}/runs/{run_id}", timeout=10).json()
    on_b = httpx.get(f"{b.url}/runs/{run_id}", timeout=10).json()
    assert on_b["status"] == "finished"
    for key in ("status", "spec", "summary", "metrics", "progress", "latest_snapshot",
                "created_at", "device"):
        assert on_b[key] == on_a[key], key
    assert on_b["metrics"]["epochs"]["epoch"] == list(range(1, FOLLOWED["epochs"] + 1))
    # A reconnecting EventSource on B resumes after the last event it saw.
    assert httpx.get(f"{b.url}/runs/{run_id}/events", timeout=10,
                     headers={"Last-Event-ID": str(events[-1][0])}).status_code == 204
    assert httpx.get(f"{b.url}/runs/unknown-run", timeout=10).status_code == 404

    # Cancelled on B, stopped by A (which drives it), seen to its end from B.
    long_id = httpx.post(f"{a.url}/runs", json=LONG, timeout=10).json()["id"]
    wait_running(b, long_id)
    assert httpx.post(f"{b.url}/runs/{long_id}/cancel", timeout=10).status_code == 202
    ended = follow(f"{b.url}/runs/{long_id}/events")[-1]
    assert ended[1] == "end" and ended[2]["status"] == "cancelled"
    assert httpx.get(f"{a.url}/runs/{long_id}", timeout=10).json()["status"] == "cancelled"

    # Paused, stepped and cancelled through B, done by A: A polls the store for controls,
    # since a paused run sends no events to check at.
    paused_id = httpx.post(f"{a.url}/runs", json=LONG, timeout=10).json()["id"]
    wait_running(b, paused_id)
    assert httpx.post(f"{b.url}/runs/{paused_id}/pause", timeout=10).status_code == 202
    at = wait_status(b, paused_id, "paused")["pause"]["epoch"]
    time.sleep(0.6)
    assert httpx.get(f"{a.url}/runs/{paused_id}", timeout=10).json()["progress"]["epoch"] == at
    assert httpx.post(f"{b.url}/runs/{paused_id}/step", timeout=10).status_code == 202
    deadline = time.monotonic() + 20
    while (view := httpx.get(f"{b.url}/runs/{paused_id}", timeout=10).json())["progress"][
            "epoch"] != at + 1 or view["status"] != "paused":
        assert time.monotonic() < deadline, view["status"]
        time.sleep(0.1)
    assert httpx.post(f"{b.url}/runs/{paused_id}/cancel", timeout=10).status_code == 202
    ended = follow(f"{b.url}/runs/{paused_id}/events")[-1]
    assert ended[2]["status"] == "cancelled" and ended[2]["epochs_completed"] == at + 1

    # A run live when A shuts down ends as cancelled in the store too: B's followers stop.
    live_id = httpx.post(f"{a.url}/runs", json=LIVE_AT_SHUTDOWN, timeout=10).json()["id"]
    wait_running(b, live_id)
    a.stop()
    at_shutdown = httpx.get(f"{b.url}/runs/{live_id}", timeout=10).json()
    # A clean shutdown records why. On a loaded CI machine A was once killed (LiveServer.stop
    # waits 15 s) before its shutdown recorded the end: then B, on the same host, finds the
    # driver gone and ends the run itself (app/training/driver.py). Either way B's readers
    # see an end, never a run "running" forever.
    ended_by = (at_shutdown["status"], at_shutdown["summary"]["reason"])
    assert ended_by == ("cancelled", "The server shut down.") or (
        ended_by[0] == "failed" and "server stopped while this run was going" in ended_by[1]
    ), at_shutdown["summary"]
    assert follow(f"{b.url}/runs/{live_id}/events")[-1][1] == "end"

    # A restart of A keeps its finished runs: the new process reads them from the store.
    restarted = store_server(store_env)
    servers.append(restarted)
    restarted.wait_ready(START_TIMEOUT_S)
    again = httpx.get(f"{restarted.url}/runs/{run_id}", timeout=10).json()
    for key in ("status", "spec", "summary", "metrics", "created_at"):
        assert again[key] == on_a[key], key
    assert [kind for _, kind, _ in follow(f"{restarted.url}/runs/{run_id}/events")] == kinds
