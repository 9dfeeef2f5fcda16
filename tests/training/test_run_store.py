"""The run stores against real backends (an SQLite file, a real redis-server): records and
events round-trip, a follower gets the history then live events and stops after ``end``,
finished runs expire after run_store_keep_s while live ones stay, a cancel request is seen by
the driving process, and a second store on the same SQLite file (another process, or the
same server after a restart) reads what the first wrote."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.training.store import RunStore, StoredRun
from app.training.store.sqlite import SCHEMA_VERSION, SqliteRunStore

KEEP_S = 3600
POLL_S = 0.02

Opener = Callable[[], RunStore]


def _run_id() -> str:
    return secrets.token_urlsafe(9)


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a new client of one store: each call is another process's view of it."""
    if request.param == "sqlite":
        yield lambda: SqliteRunStore(tmp_path / "runs.sqlite3", KEEP_S, POLL_S)
        return
    pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")
    from app.training.store.redis import RedisRunStore

    url = request.getfixturevalue("redis_url")
    yield lambda: RedisRunStore(url, KEEP_S)


async def _collect(store: RunStore, run_id: str, after: int,
                   heartbeat_s: float = 5.0) -> list[Any]:
    return [item async for item in store.follow(run_id, after, heartbeat_s)]


def test_record_and_events_round_trip(open_store: Opener) -> None:
    async def scenario() -> StoredRun | None:
        store = open_store()
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


def test_a_follower_gets_history_then_live_events_and_stops_after_end(open_store: Opener) -> None:
    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        writer, reader = open_store(), open_store()
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


def test_a_quiet_run_yields_heartbeats(open_store: Opener) -> None:
    async def scenario() -> Any:
        store = open_store()
        run_id = _run_id()
        await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        stream = store.follow(run_id, -1, heartbeat_s=0.05)
        first = await asyncio.wait_for(anext(stream), 5)
        await stream.aclose()
        await store.close()
        return first

    assert asyncio.run(scenario()) is None


def test_redis_expires_finished_runs_and_not_live_ones(redis_url: str) -> None:
    redis = pytest.importorskip("redis", reason="the redis client (pip install '.[redis]')")
    from app.training.store.redis import RedisRunStore

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


def test_cancel_requests_and_delete(open_store: Opener) -> None:
    async def scenario() -> tuple[bool, bool, StoredRun | None]:
        store = open_store()
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


def test_sqlite_forgets_runs_that_ended_keep_s_ago_and_keeps_live_ones(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"

    async def write() -> tuple[str, str, str]:
        store = SqliteRunStore(path, KEEP_S, POLL_S)
        live, old, recent = _run_id(), _run_id(), _run_id()
        for run_id in (live, old, recent):
            await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
            await store.append(run_id, "start", '{"type": "start"}')
        for run_id in (old, recent):
            await store.append(run_id, "end", '{"type": "end", "status": "finished"}')
        await store.close()
        return live, old, recent

    live, old, recent = asyncio.run(write())
    with sqlite3.connect(path) as db:  # the old run ended a second more than keep_s ago
        db.execute("UPDATE runs SET ended_at = ? WHERE id = ?", (time.time() - KEEP_S - 1, old))

    async def read() -> tuple[list[StoredRun | None], int]:
        store = SqliteRunStore(path, KEEP_S, POLL_S)  # a restart purges what expired
        loaded = [await store.load(run_id) for run_id in (live, old, recent)]
        await store.close()
        with sqlite3.connect(path) as db:
            (rows,) = db.execute("SELECT COUNT(*) FROM run_events WHERE run_id = ?",
                                 (old,)).fetchone()
        return loaded, rows

    (on_live, on_old, on_recent), old_events = asyncio.run(read())
    assert on_live is not None and on_live.events == [("start", '{"type": "start"}')]
    assert on_old is None and old_events == 0
    assert on_recent is not None and [kind for kind, _ in on_recent.events] == ["start", "end"]


def test_sqlite_refuses_a_file_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(Exception, match="newer version"):
        SqliteRunStore(path, KEEP_S, POLL_S)


def test_sqlite_cancel_requests_end_with_the_run(tmp_path: Path) -> None:
    """A cancel request that arrives after the end is not left behind for nobody."""
    async def scenario() -> tuple[bool, bool]:
        store = SqliteRunStore(tmp_path / "runs.sqlite3", KEEP_S, POLL_S)
        run_id = _run_id()
        await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        await store.request_cancel(run_id)
        during = await store.cancel_requested(run_id)
        await store.append(run_id, "end", '{"type": "end", "status": "cancelled"}')
        await store.request_cancel(run_id)
        after = await store.cancel_requested(run_id)
        await store.close()
        return during, after

    assert asyncio.run(scenario()) == (True, False)


def test_sqlite_keeps_nothing_after_a_runs_end(tmp_path: Path) -> None:
    """Two readers that both find a run's driver gone end it once; a late event is dropped."""
    async def scenario() -> list[str]:
        store = SqliteRunStore(tmp_path / "runs.sqlite3", KEEP_S, POLL_S)
        run_id = _run_id()
        await store.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        await store.append(run_id, "start", '{"type": "start"}')
        await store.append(run_id, "end", '{"type": "end", "status": "failed"}')
        await store.append(run_id, "end", '{"type": "end", "status": "failed"}')
        await store.append(run_id, "step", '{"type": "step"}')
        stored = await store.load(run_id)
        await store.close()
        assert stored is not None
        return [kind for kind, _ in stored.events]

    assert asyncio.run(scenario()) == ["start", "end"]


def test_control_requests_are_taken_once_in_order(open_store: Opener) -> None:
    async def scenario() -> tuple[list[str], list[str], list[str]]:
        asker, driver = open_store(), open_store()  # another process asks, the driver takes
        run_id = _run_id()
        await driver.create(run_id, {"id": run_id, "created_at": 0.0, "spec": {}})
        await asker.request_control(run_id, "pause")
        await asker.request_control(run_id, "step")
        first = await driver.take_controls(run_id)
        second = await driver.take_controls(run_id)
        await asker.request_control(run_id, "resume")
        await driver.append(run_id, "end", json.dumps({"status": "finished"}))
        after_end = await driver.take_controls(run_id)  # an ended run drops what was asked
        await driver.delete(run_id)
        await asker.close()
        await driver.close()
        return first, second, after_end

    assert asyncio.run(scenario()) == (["pause", "step"], [], [])
