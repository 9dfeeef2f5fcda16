"""A server killed in the middle of a run (SIGKILL: no shutdown code runs) cannot end it. The
restarted server, on the same data_dir and its default SQLite run store, finds the run's
driver gone and ends the run as failed, saying why, for page readers and SSE followers alike;
a finished run from before is unchanged."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.services import LiveServer
from tests.training.test_shared_runs_live import FOLLOWED, LONG, START_TIMEOUT_S, follow


def _server(data_dir: Path) -> LiveServer:
    server = LiveServer({"PLAYGROUND_WORKERS": "1", "PLAYGROUND_RATE_LIMIT_PER_MINUTE": "0",
                         "PLAYGROUND_DATA_DIR": str(data_dir)})
    server.wait_ready(START_TIMEOUT_S)
    return server


def _until(server: LiveServer, run_id: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while True:
        run: dict[str, object] = httpx.get(f"{server.url}/runs/{run_id}", timeout=10).json()
        if run["status"] == status:
            return run
        assert time.monotonic() < deadline, f"the run is {run['status']}, never {status}"
        time.sleep(0.1)


def test_a_run_whose_server_was_killed_ends_as_failed_after_a_restart(tmp_path: Path) -> None:
    first = _server(tmp_path)
    try:
        finished_id = httpx.post(f"{first.url}/runs", json=FOLLOWED, timeout=10).json()["id"]
        finished = _until(first, finished_id, "finished")
        live_id = httpx.post(f"{first.url}/runs", json=LONG, timeout=10).json()["id"]
        _until(first, live_id, "running")
    finally:
        first.process.kill()  # SIGKILL: the run is left "running" in the store
        first.process.wait()
    second = _server(tmp_path)
    try:
        # A follower first (as the run's page reconnecting), then a reader of the record.
        events = follow(f"{second.url}/runs/{live_id}/events")
        kinds = [kind for _, kind, _ in events]
        assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("end") == 1
        assert events[-1][2]["status"] == "failed"
        orphan = httpx.get(f"{second.url}/runs/{live_id}", timeout=10).json()
        assert orphan["status"] == "failed"
        assert "server stopped while this run was going" in orphan["summary"]["reason"]
        assert orphan["summary"]["hint"] == "Start the run again."
        again = httpx.get(f"{second.url}/runs/{finished_id}", timeout=10).json()
        for key in ("status", "summary", "metrics", "created_at"):
            assert again[key] == finished[key], key
    finally:
        second.stop()
