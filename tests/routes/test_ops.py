"""Operations endpoints: /healthz, /readyz, /metrics, and the request id on every answer."""

from __future__ import annotations

import json
import logging
import re
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.observability import REQUEST_ID, JsonFormatter, RequestContextMiddleware
from app.routes import ops


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text ``text`` (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        sample_name, _, sample_labels = sample.partition("{")
        found = ",".join(sorted(sample_labels.rstrip("}").split(","))) if sample_labels else ""
        if sample_name == name and found == wanted:
            return float(value)
    return 0.0


def test_healthz_and_readyz_on_the_running_app(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["workers"] >= 1


def test_readyz_is_503_without_a_started_executor() -> None:
    app = FastAPI()
    app.include_router(ops.router)
    with TestClient(app) as bare:
        response = bare.get("/readyz")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


def test_metrics_count_requests_by_route_template_and_jobs_by_lane(client: TestClient) -> None:
    before = client.get("/metrics").text
    assert client.get("/runs/not-a-run-id").status_code == 404
    assert client.post("/eval", json={"code": "1 + 1"}).status_code == 200
    text = client.get("/metrics").text
    assert text.startswith("# HELP") or "# HELP" in text
    count = "playground_request_seconds_count"
    assert metric(text, count, method="GET", route="/runs/{run_id}", status="404") == \
        metric(before, count, method="GET", route="/runs/{run_id}", status="404") + 1
    assert "not-a-run-id" not in text  # ids never become label values
    waited = "playground_queue_wait_seconds_count"
    assert metric(text, waited, lane="interactive") > metric(before, waited, lane="interactive")
    for name in ("playground_queue_depth", "playground_jobs_running"):
        assert re.search(rf'^{name}{{lane="batch"}} ', text, re.M)


def test_a_finished_run_is_counted_by_status(client: TestClient) -> None:
    before = metric(client.get("/metrics").text, "playground_runs_total", status="finished")
    run_id = client.post("/runs", json={"dataset": {"name": "moons", "n_samples": 40},
                                        "model": {"hidden": [4]}, "epochs": 1}).json()["id"]
    until = time.monotonic() + 60
    while client.get(f"/runs/{run_id}").json()["status"] != "finished":
        assert time.monotonic() < until
        time.sleep(0.05)
    after = metric(client.get("/metrics").text, "playground_runs_total", status="finished")
    assert after == before + 1


def test_a_plain_request_id_is_echoed_and_anything_else_replaced(client: TestClient) -> None:
    assert client.get("/healthz", headers={"x-request-id": "abc-123"}).headers[
        "x-request-id"] == "abc-123"
    for hostile in ("<script>", "a" * 65, "id with spaces", ""):
        given = client.get("/healthz", headers={"x-request-id": hostile})
        assert re.fullmatch(r"[0-9a-f]{16}", given.headers["x-request-id"]), hostile


def test_log_lines_are_json_with_the_request_id() -> None:
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)
    seen: list[str] = []

    @app.get("/log")
    async def log_something() -> dict[str, str]:
        record = logging.LogRecord("app.test", logging.WARNING, __file__, 1, "hello %s",
                                   ("world",), None)
        seen.append(JsonFormatter().format(record))
        return {}

    with TestClient(app) as bare:
        bare.get("/log", headers={"x-request-id": "req-1"})
    entry = json.loads(seen[0])
    assert entry["message"] == "hello world" and entry["request_id"] == "req-1"
    assert entry["level"] == "WARNING" and entry["logger"] == "app.test"
    assert REQUEST_ID.get() is None  # reset after the request
