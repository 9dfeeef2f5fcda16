"""The Ray backend end to end: an actor is locked down like a local worker (the OS layer's
self-test, run inside an actor), and a server with executor_backend=ray answers /eval and
/runs. One Ray-backed app serves the module, on the session's local Ray cluster."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from app.config import get_settings

SMALL_RUN = {"dataset": {"name": "moons", "n_samples": 200}, "model": {"hidden": [8]},
             "epochs": 3, "batch_size": 16}


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A directory the actor could write to, were it not locked down."""
    path = Path(tempfile.mkdtemp(prefix="ray-selftest-"))
    (path / "existing.txt").write_text("written before the actor started")
    os.chmod(path, 0o777)
    os.chmod(path / "existing.txt", 0o666)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_client(ray_cluster: None) -> Iterator[TestClient]:
    from app.main import create_app

    with pytest.MonkeyPatch.context() as env:
        env.setenv("PLAYGROUND_EXECUTOR_BACKEND", "ray")
        env.setenv("PLAYGROUND_WORKERS", "2")
        env.setenv("PLAYGROUND_RAY_CPUS_PER_ACTOR", "0.5")
        get_settings.cache_clear()
        try:
            with TestClient(create_app()) as client:
                yield client
        finally:
            get_settings.cache_clear()


def test_a_ray_backed_server_is_ready_on_ray_actors(ray_client: TestClient) -> None:
    ready = ray_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    executor = ray_client.app.state.executor  # type: ignore[attr-defined]
    assert type(executor).__name__ == "RayExecutor"
    capacity = executor.capacity()
    assert capacity.workers == 2
    assert capacity.extra["ray"]["cluster"]["CPU"] == 2.0


def test_eval_through_ray_matches_plain_torch(ray_client: TestClient) -> None:
    response = ray_client.post("/eval", json={"code": "a = torch.arange(6.).reshape(2, 3)\n"
                                                      "a @ a.T"})
    assert response.status_code == 200, response.text
    body = response.json()
    reference = torch.arange(6.0).reshape(2, 3)
    assert body["ok"] is True
    assert body["result"]["values"] == (reference @ reference.T).tolist()


def test_a_training_run_through_ray_finishes_with_its_events(ray_client: TestClient) -> None:
    created = ray_client.post("/runs", json=SMALL_RUN)
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    until = time.monotonic() + 60
    view: dict[str, Any] = {}
    while time.monotonic() < until:
        view = ray_client.get(f"/runs/{run_id}").json()
        if view["summary"] is not None:
            break
        time.sleep(0.05)
    assert view["status"] == "finished", view
    assert view["summary"]["status"] == "finished"
    # Progress events crossed from the actor: one per epoch at least.
    events = ray_client.get(f"/runs/{run_id}/events").text
    assert events.count("event: epoch") >= SMALL_RUN["epochs"], events[:500]


def test_an_actor_is_locked_down_like_a_local_worker(ray_cluster: None, scratch: Path) -> None:
    import asyncio
    import concurrent.futures

    from app.config import Settings
    from app.executor.base import Job
    from app.executor.ray_backend import RayExecutor
    from app.jobs import JOB_HANDLERS

    async def main() -> dict[str, Any]:
        executor = RayExecutor(Settings(workers=1, ray_cpus_per_actor=0.5),
                               {**JOB_HANDLERS, "selftest": "app.executor.oslayer:selftest_job"})
        await executor.start()
        try:
            result = await executor.run(Job("selftest", {"scratch": str(scratch)}, 20.0))
            assert result.status == 200
            return dict(json.loads(result.body))
        finally:
            await executor.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(asyncio.run, main()).result()
    assert (report["execv"], report["subprocess"], report["fork"]) == ("EPERM",) * 3
    assert (report["socket"], report["socketpair"]) == ("EPERM", "EPERM")
    assert (report["open_w"], report["open_r+"], report["mkdir"]) == ("EPERM",) * 3
    assert sorted(os.listdir(scratch)) == ["existing.txt"]
    assert report["kill_parent"] == "EPERM"
    if os.geteuid() == 0:
        assert report["uid"] != 0 and report["euid"] != 0


def test_more_actors_than_the_cluster_holds_are_refused_naming_the_settings(
        ray_cluster: None) -> None:
    import asyncio
    import concurrent.futures

    from app.config import Settings
    from app.executor.ray_backend import RayExecutor
    from app.jobs import JOB_HANDLERS

    executor = RayExecutor(Settings(workers=5, ray_cpus_per_actor=1.0), JOB_HANDLERS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool, \
            pytest.raises(RuntimeError, match=r"2 CPUs; 5 actors .*ray_cpus_per_actor"):
        pool.submit(asyncio.run, executor.start()).result()


@pytest.mark.parametrize(("overrides", "fraction"), [
    ({"ray_gpus_per_actor": 0.25}, 0.225),  # Ray's share, less a tenth for the contexts
    ({"ray_gpus_per_actor": 0.25, "cuda_memory_fraction": 0.5}, 0.5),  # the setting wins
    ({"workers": 3}, 0.3),  # CPU placement: the local pool's rule, 0.9 / workers
])
def test_an_actor_caps_its_gpu_memory_at_its_share(ray_cluster: None, overrides: dict[str, Any],
                                                   fraction: float) -> None:
    from app.config import Settings
    from app.executor.ray_backend import _cuda_fraction

    assert _cuda_fraction(Settings(**overrides)) == pytest.approx(fraction)


def test_a_recycled_actor_serves_until_its_successor_is_ready(ray_cluster: None) -> None:
    """worker_max_programs replaces an actor; a new one takes seconds to start, so no job
    may wait for it: the old one answers meanwhile, and the successor starts clean."""
    import asyncio
    import concurrent.futures
    import sys

    from app.config import Settings
    from app.executor.base import Job
    from app.executor.ray_backend import RayExecutor

    sys.path.insert(0, str(Path(__file__).parent))
    handlers = {"mark": "jobs_for_tests:mark_job"}

    async def main() -> list[tuple[float, dict[str, Any]]]:
        executor = RayExecutor(Settings(workers=1, ray_cpus_per_actor=0.5,
                                        worker_max_programs=2), handlers)
        await executor.start()
        try:
            seen: list[tuple[float, dict[str, Any]]] = []
            until = time.monotonic() + 90
            while time.monotonic() < until:
                started = time.monotonic()
                result = await executor.run(Job("mark", {"mark": str(len(seen))}, 10.0))
                seen.append((time.monotonic() - started, json.loads(result.body)))
                if seen[-1][1]["pid"] != seen[0][1]["pid"]:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            assert executor.capacity().workers == 1  # the old one retired
            return seen
        finally:
            await executor.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        seen = pool.submit(asyncio.run, main()).result()
    first_pid = seen[0][1]["pid"]
    assert seen[-1][1]["pid"] != first_pid, "the actor was never recycled"
    assert seen[-1][1]["found"] == []  # the successor has none of the old one's state
    old = [body for _, body in seen[:-1]]
    assert len(old) > 2 and all(body["pid"] == first_pid for body in old)
    assert max(took for took, _ in seen) < 1.0, "a job waited for an actor to start"
