"""Prometheus metrics of the service (served at /metrics by app/routes/ops.py).

Plain prometheus-client objects in the process's default registry: the executor, the run
registry, the rate limiter and the request middleware record into them; nothing here knows
FastAPI.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "playground_request_seconds", "Time to answer an HTTP request, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
QUEUE_DEPTH = Gauge("playground_queue_depth", "Jobs waiting for a worker, by lane.", ["lane"])
RUNNING = Gauge("playground_jobs_running", "Jobs running on a worker, by lane.", ["lane"])
QUEUE_WAIT = Histogram(
    "playground_queue_wait_seconds", "Time a job waited for a worker, by lane.", ["lane"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600))
WORKER_RESTARTS = Counter(
    "playground_worker_restarts_total", "Sandbox workers replaced, by reason "
    "(deadline, crash, cancelled, recycled).", ["reason"])
RUNS = Counter("playground_runs_total", "Training runs that ended, by final status.",
               ["status"])
REFUSALS = Counter("playground_refusals_total", "Requests refused by a rate limit or a quota, "
                   "by which.", ["limit"])
