"""Where run records and their events live when several web processes share them.

``run_store = "local"`` (the default) keeps runs in the web process's own registry, as one
process needs; ``"redis"`` writes every run and event to a Redis server, so any process
serves any run and a restart keeps finished runs (docs/SCALING.md, "Run state")."""

from __future__ import annotations

from app.config import Settings
from app.training.store.base import RunStore, StoredRun, StoreError

__all__ = ["RunStore", "StoreError", "StoredRun", "make_run_store"]


def make_run_store(settings: Settings) -> RunStore | None:
    """The configured shared store, or None for the in-process default."""
    if settings.run_store == "local":
        return None
    from app.training.store.redis import RedisRunStore  # the client is an optional extra

    return RedisRunStore(settings.run_store_url, keep_s=settings.run_store_keep_s)
