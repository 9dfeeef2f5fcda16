"""The SQLite run store, the default: a file in data_dir holds every run's record and events,
so a restart keeps finished runs with `make run` and no server to install. Several web
processes on one host may share the file (WAL lets readers run beside the one writer); SQLite
has no notifications, so a follower of a run another process drives polls for new events.
Across hosts, use Redis (app/training/store/redis.py)."""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from app.training.store.base import StoredEvent, StoredRun, StoreError

# Rows fetched per poll: a run's history is a few hundred events.
_BATCH = 500

# Bumped with every change to the tables below; an older file is migrated by _migrate().
SCHEMA_VERSION = 2  # 2: run_controls (pause, resume, step asked through another process)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    ended_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_end ON runs (ended_at);
CREATE TABLE IF NOT EXISTS run_events (
    run_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_controls (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    command TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS run_controls_by_run ON run_controls (run_id, seq);
"""

T = TypeVar("T")


class SqliteRunStore:
    def __init__(self, path: Path, keep_s: int, poll_s: float) -> None:
        self._keep_s = keep_s
        self._poll_s = poll_s
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # One connection, used by one thread at a time (the lock), off the event loop.
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=10,
                                       isolation_level=None)
            # WAL: readers (another process's followers) never block the writer; NORMAL
            # syncs at checkpoints, not at every event (a power cut may lose the last
            # events of a run, never corrupt the file).
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
            self._expire()
        except sqlite3.Error as error:
            raise StoreError(f"the run store {path} cannot be opened: {error}") from error
        self._lock = threading.Lock()

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(f"the run store was written by a newer version (schema {version}"
                             f" > {SCHEMA_VERSION}); upgrade the server or move the file")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _expire(self) -> None:
        """Forget runs that ended more than keep_s ago (as Redis expires its keys)."""
        cutoff = time.time() - self._keep_s
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM run_events WHERE run_id IN "
                             "(SELECT id FROM runs WHERE ended_at < ?)", (cutoff,))
            self._db.execute("DELETE FROM runs WHERE ended_at < ?", (cutoff,))

    async def _call(self, work: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work()
        try:
            return await asyncio.to_thread(locked)
        except sqlite3.Error as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def create(self, run_id: str, record: dict[str, Any]) -> None:
        def work() -> None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT INTO runs (id, record) VALUES (?, ?)",
                                 (run_id, json.dumps(record)))
            self._expire()  # a cheap indexed delete that keeps the file bounded
        await self._call(work)

    async def append(self, run_id: str, kind: str, data: str) -> None:
        def work() -> None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")  # the next idx is read under the lock
                ended = self._db.execute("SELECT ended_at IS NOT NULL FROM runs WHERE id = ?",
                                         (run_id,)).fetchone()
                if ended is None or ended[0]:
                    # A history ends with its end: two readers that both found a run's
                    # driver gone end it once, and a late event of the driver is dropped.
                    return
                self._db.execute(
                    "INSERT INTO run_events (run_id, idx, kind, data) SELECT ?, "
                    "COALESCE(MAX(idx) + 1, 0), ?, ? FROM run_events WHERE run_id = ?",
                    (run_id, kind, data, run_id))
                if kind == "end":  # retention starts; stale cancel and controls are dropped
                    self._db.execute("UPDATE runs SET ended_at = ?, cancel_requested = 0 "
                                     "WHERE id = ?", (time.time(), run_id))
                    self._db.execute("DELETE FROM run_controls WHERE run_id = ?", (run_id,))
        await self._call(work)

    def _alive(self, run_id: str) -> str | None:
        """The run's record, or None when it is unknown or expired."""
        row = self._db.execute("SELECT record FROM runs WHERE id = ? AND "
                               "(ended_at IS NULL OR ended_at >= ?)",
                               (run_id, time.time() - self._keep_s)).fetchone()
        return None if row is None else str(row[0])

    async def load(self, run_id: str) -> StoredRun | None:
        def work() -> StoredRun | None:
            with self._db:  # one read transaction: the record and its events agree
                self._db.execute("BEGIN")
                record = self._alive(run_id)
                if record is None:
                    return None
                rows = self._db.execute("SELECT kind, data FROM run_events WHERE run_id = ? "
                                        "ORDER BY idx", (run_id,)).fetchall()
            return StoredRun(record=json.loads(record),
                             events=[(str(kind), str(data)) for kind, data in rows])
        return await self._call(work)

    async def follow(self, run_id: str, after: int,
                     heartbeat_s: float) -> AsyncIterator[StoredEvent | None]:
        def newer(than: int) -> list[tuple[int, str, str]]:
            return [(int(i), str(k), str(d)) for i, k, d in self._db.execute(
                "SELECT idx, kind, data FROM run_events WHERE run_id = ? AND idx > ? "
                "ORDER BY idx LIMIT ?", (run_id, than, _BATCH))]

        last = after
        quiet_since = time.monotonic()
        while True:
            rows = await self._call(functools.partial(newer, last))
            for index, kind, data in rows:
                yield index, kind, data
                last = index
                if kind == "end":
                    return
            if rows:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= heartbeat_s:
                yield None
                quiet_since = time.monotonic()
            await asyncio.sleep(min(self._poll_s, heartbeat_s))

    async def request_cancel(self, run_id: str) -> None:
        def work() -> None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ? AND "
                                 "ended_at IS NULL", (run_id,))
        await self._call(work)

    async def cancel_requested(self, run_id: str) -> bool:
        def work() -> bool:
            row = self._db.execute("SELECT cancel_requested FROM runs WHERE id = ?",
                                   (run_id,)).fetchone()
            return row is not None and bool(row[0])
        return await self._call(work)

    async def request_control(self, run_id: str, command: str) -> None:
        def work() -> None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("INSERT INTO run_controls (run_id, command) SELECT id, ? "
                                 "FROM runs WHERE id = ? AND ended_at IS NULL",
                                 (command, run_id))
        await self._call(work)

    async def take_controls(self, run_id: str) -> list[str]:
        def work() -> list[str]:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                rows = self._db.execute("SELECT command FROM run_controls WHERE run_id = ? "
                                        "ORDER BY seq", (run_id,)).fetchall()
                if rows:
                    self._db.execute("DELETE FROM run_controls WHERE run_id = ?", (run_id,))
            return [str(command) for (command,) in rows]
        return await self._call(work)

    async def delete(self, run_id: str) -> None:
        def work() -> None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("DELETE FROM run_controls WHERE run_id = ?", (run_id,))
                self._db.execute("DELETE FROM run_events WHERE run_id = ?", (run_id,))
                self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        await self._call(work)

    async def close(self) -> None:
        await self._call(self._db.close)
