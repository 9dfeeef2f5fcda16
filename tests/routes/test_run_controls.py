"""Pause, resume and step one epoch through the JSON API, on the app's real worker pool: the
command crosses to the sandbox worker's training loop, which waits between epochs."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from test_runs import wait_for_end

# Many short epochs: the run is still going when the pause arrives.
RUN = {"dataset": {"name": "moons", "n_samples": 200}, "model": {"hidden": [8]},
       "batch_size": 50, "epochs": 200, "seed": 0}


def wait_for(client: TestClient, run_id: str, ready: Any, timeout_s: float = 30) -> dict[str, Any]:
    until = time.monotonic() + timeout_s
    while True:
        view = client.get(f"/runs/{run_id}").json()
        if ready(view):
            return view
        assert time.monotonic() < until, view["status"]
        time.sleep(0.02)


def test_pause_step_and_resume_a_run_on_its_worker(client: TestClient) -> None:
    run_id = client.post("/runs", json=RUN).json()["id"]
    paused = client.post(f"/runs/{run_id}/pause")
    assert paused.status_code == 202 and paused.json()["control_requested"] == "pause"
    view = wait_for(client, run_id, lambda v: v["status"] == "paused")
    at = view["pause"]["epoch"]
    assert view["progress"]["epoch"] == at < 200
    assert 0 < view["pause"]["pause_left_s"] <= view["pause"]["max_pause_s"]
    time.sleep(0.3)  # paused means paused: no epoch goes by
    assert client.get(f"/runs/{run_id}").json()["progress"]["epoch"] == at

    assert client.post(f"/runs/{run_id}/step").status_code == 202
    view = wait_for(client, run_id,
                    lambda v: v["status"] == "paused" and v["pause"]["epoch"] == at + 1)
    assert view["progress"]["epoch"] == at + 1  # exactly one epoch more

    assert client.post(f"/runs/{run_id}/resume").status_code == 202
    view = wait_for_end(client, run_id, timeout_s=60)
    assert view["status"] == "finished" and view["summary"]["epochs_completed"] == 200
    assert view["pause"] is None and view["control_requested"] is None
    # Once ended, a control is refused and says why.
    refused = client.post(f"/runs/{run_id}/pause")
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "RunEndedError"


def test_a_paused_run_can_be_cancelled_and_keeps_its_metrics(client: TestClient) -> None:
    run_id = client.post("/runs", json=RUN).json()["id"]
    client.post(f"/runs/{run_id}/pause")
    at = wait_for(client, run_id, lambda v: v["status"] == "paused")["pause"]["epoch"]
    assert client.post(f"/runs/{run_id}/cancel").status_code == 202
    view = wait_for_end(client, run_id, timeout_s=30)
    assert view["status"] == "cancelled"
    assert view["summary"]["epochs_completed"] == at


def test_controls_of_an_unknown_run_are_404(client: TestClient) -> None:
    for command in ("pause", "resume", "step"):
        assert client.post(f"/runs/no-such-run/{command}").status_code == 404
    assert client.post("/runs/no-such-run/explode").status_code in (404, 405)


def test_openapi_documents_the_controls(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for command in ("pause", "resume", "step"):
        post = paths[f"/runs/{{run_id}}/{command}"]["post"]
        assert "409" in post["responses"] and "train_max_pause_s" in (
            paths["/runs/{run_id}/pause"]["post"]["description"])
