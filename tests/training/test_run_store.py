"""The Redis run store against a real redis-server: records and events round-trip, a follower
gets the history then live events and stops after ``end``, finished runs expire after
run_store_keep_s, and a cancel request is seen by the driving process."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import pytest

pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")

from app.training.store import StoredRun
from app.training.store.redis import RedisRunStore

KEEP_S = 3600


def _run_id() -> str:
    return secrets.token_urlsafe(9)


async def _collect(store: RedisRunStore, run_id: str, after: int,
                   heartbeat_s: float = 5.0) -> list[Any]:
    return [item async for item in store.follow(run_id, after, heartbeat_s)]


def test_record_and_events_round_trip(redis_url: str) -> None:
    async def scenario() -> StoredRun | None:
        store = RedisRunStore(redis_url, keep_s=KEEP_S)
        run_id = _run_id()
        await store.create(run_id, {"id": run_id, "created_at": 1.5, "spec": {"epochs": 2}})
        await store.append(run_id, "start", json.dumps({"type": "start"}))
        await store.append(run_id, "step", json.dumps({"type": "step", "loss": 0.25}))
        stored = await store.load(run_id)
        assert await store.load("unknown") is None
        await store.close()
        return stored

    stored = asyncio.run(scenario())
    assert stored is not None
    assert stored.record["created_at"] == 1.5 and stored.record["spec"] == {"epochs": 2}
    assert [(kind, json.loads(text)) for kind, text in stored.events] == [
        ("start", {"type": "start"}), ("step", {"type": "step", "loss": 0.25})]


def test_a_follower_gets_history_then_live_events_and_stops_after_end(redis_url: str) -> None:
    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        writer, reader = RedisRunStore(redis_url, KEEP_S), RedisRunStore(redis_url, KEEP_S)
        run_id = _run_id()
        await writer.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        await writer.append(run_id, "start", '{"type": "start"}')
        follower = asyncio.create_task(_collect(reader, run_id, -1))
        resumed = asyncio.create_task(_collect(reader, run_id, 1))
        await asyncio.sleep(0.2)  # both followers are now blocked waiting for live events
        for i in range(3):
            await writer.append(run_id, "step", json.dumps({"type": "step", "i": i}))
        await writer.append(run_id, "end", '{"type": "end", "status": "finished"}')
        live, after = await asyncio.wait_for(asyncio.gather(follower, resumed), 10)
        replay = await _collect(reader, run_id, -1)  # after the end: the same, at once
        await writer.close()
        await reader.close()
        return live, after, replay

    live, after, replay = asyncio.run(scenario())
    assert [(i, kind) for i, kind, _ in live] == [
        (0, "start"), (1, "step"), (2, "step"), (3, "step"), (4, "end")]
    assert [json.loads(text).get("i") for _, kind, text in live if kind == "step"] == [0, 1, 2]
    assert after == live[2:]
    assert replay == live


def test_a_quiet_run_yields_heartbeats(redis_url: str) -> None:
    async def scenario() -> Any:
        store = RedisRunStore(redis_url, KEEP_S)
        run_id = _run_id()
        await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        stream = store.follow(run_id, -1, heartbeat_s=0.05)
        first = await asyncio.wait_for(anext(stream), 5)
        await stream.aclose()
        await store.close()
        return first

    assert asyncio.run(scenario()) is None


def test_finished_runs_expire_and_live_ones_do_not(redis_url: str) -> None:
    import redis

    async def scenario() -> tuple[str, str]:
        store = RedisRunStore(redis_url, KEEP_S)
        live, ended = _run_id(), _run_id()
        for run_id in (live, ended):
            await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
            await store.append(run_id, "start", '{"type": "start"}')
        await store.append(ended, "end", '{"type": "end", "status": "finished"}')
        await store.close()
        return live, ended

    live, ended = asyncio.run(scenario())
    client = redis.Redis.from_url(redis_url)
    assert client.ttl(f"playground:run:{live}") == -1  # no expiry while it may still run
    for key in (f"playground:run:{ended}", f"playground:run:{ended}:events"):
        assert 0 < client.ttl(key) <= KEEP_S
    client.close()


def test_cancel_requests_and_delete(redis_url: str) -> None:
    async def scenario() -> tuple[bool, bool, StoredRun | None]:
        store = RedisRunStore(redis_url, KEEP_S)
        run_id = _run_id()
        await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        before = await store.cancel_requested(run_id)
        await store.request_cancel(run_id)
        requested = await store.cancel_requested(run_id)
        await store.delete(run_id)
        gone = await store.load(run_id)
        await store.close()
        return before, requested, gone

    assert asyncio.run(scenario()) == (False, True, None)
