"""Where run records and their events live, beyond the web process's own table.

``run_store = "sqlite"`` (the default) writes every run to a file in data_dir, so a restart
keeps finished runs and processes on one host share them; ``"redis"`` writes them to a Redis
server that web processes on any host share (docs/SCALING.md, "Run state"); ``"memory"``
keeps runs only in the process's own registry."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from app.training.store.base import RunStore, StoredRun, StoreError

__all__ = ["RunStore", "StoreError", "StoredRun", "make_run_store"]

# The default store's file, beside the classroom database in data_dir.
SQLITE_FILE = "runs.sqlite3"


def make_run_store(settings: Settings) -> RunStore | None:
    """The configured store, or None when runs live in the process only."""
    if settings.run_store == "memory":
        return None
    if settings.run_store == "sqlite":
        from app.training.store.sqlite import SqliteRunStore

        return SqliteRunStore(Path(settings.data_dir) / SQLITE_FILE,
                              keep_s=settings.run_store_keep_s, poll_s=settings.run_store_poll_s)
    from app.training.store.redis import RedisRunStore  # the client is an optional extra

    return RedisRunStore(settings.run_store_url, keep_s=settings.run_store_keep_s)
