"""The Redis run store: a run's record is a string key, its events a stream (XADD appends,
XREAD BLOCK follows: replay and live following are one primitive). Chosen over PostgreSQL
LISTEN/NOTIFY by measuring append+follow latency (docs/BENCHMARKS.md, "Run store")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, cast

import redis.asyncio as redis
from redis.exceptions import RedisError

from app.training.store.base import StoredEvent, StoredRun, StoreError

# Entries fetched per XREAD: a run's history is a few hundred events.
_BATCH = 500

# A stream entry as the client decodes it (decode_responses=True): (id, {field: value}).
_Entry = tuple[str, dict[str, str]]


class RedisRunStore:
    def __init__(self, url: str, keep_s: int, prefix: str = "playground:") -> None:
        # decode_responses: records and events are JSON text, never bytes to the app.
        # A connect timeout, so an unreachable server is a prompt 503 (and shutdown does not
        # hang on it); no read timeout, which would cut XREAD BLOCK's wait short.
        self._redis = redis.from_url(url, decode_responses=True, socket_connect_timeout=5)
        self._keep_s = keep_s
        self._prefix = prefix

    def _record_key(self, run_id: str) -> str:
        return f"{self._prefix}run:{run_id}"

    def _events_key(self, run_id: str) -> str:
        return f"{self._prefix}run:{run_id}:events"

    def _cancel_key(self, run_id: str) -> str:
        return f"{self._prefix}run:{run_id}:cancel"

    def _control_key(self, run_id: str) -> str:
        return f"{self._prefix}run:{run_id}:control"

    async def create(self, run_id: str, record: dict[str, Any]) -> None:
        try:
            await self._redis.set(self._record_key(run_id), json.dumps(record))
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def append(self, run_id: str, kind: str, data: str) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(self._events_key(run_id), {"kind": kind, "data": data})
                if kind == "end":  # finished runs are kept keep_s, then expire
                    for key in (self._record_key(run_id), self._events_key(run_id)):
                        pipe.expire(key, self._keep_s)
                    pipe.delete(self._cancel_key(run_id), self._control_key(run_id))
                await pipe.execute()
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def load(self, run_id: str) -> StoredRun | None:
        try:
            record = await self._redis.get(self._record_key(run_id))
            if record is None:
                return None
            entries = cast(list[_Entry], await self._redis.xrange(self._events_key(run_id)))
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error
        return StoredRun(record=json.loads(record),
                         events=[(fields["kind"], fields["data"]) for _, fields in entries])

    async def follow(self, run_id: str, after: int,
                     heartbeat_s: float) -> AsyncIterator[StoredEvent | None]:
        key = self._events_key(run_id)
        index, last_id = 0, "0-0"
        try:
            while True:
                answer = cast(list[tuple[str, list[_Entry]]], await self._redis.xread(
                    {key: last_id}, count=_BATCH, block=max(1, int(heartbeat_s * 1000))))
                if not answer:
                    yield None
                    continue
                for _, entries in answer:
                    for entry_id, fields in entries:
                        last_id = entry_id
                        if index > after:
                            yield index, fields["kind"], fields["data"]
                        index += 1
                        if fields["kind"] == "end":
                            return
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def request_cancel(self, run_id: str) -> None:
        try:
            await self._redis.set(self._cancel_key(run_id), "1", ex=self._keep_s)
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def cancel_requested(self, run_id: str) -> bool:
        try:
            return bool(await self._redis.exists(self._cancel_key(run_id)))
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def request_control(self, run_id: str, command: str) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(self._control_key(run_id), command)
                pipe.expire(self._control_key(run_id), self._keep_s)
                await pipe.execute()
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def take_controls(self, run_id: str) -> list[str]:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lrange(self._control_key(run_id), 0, -1)
                pipe.delete(self._control_key(run_id))
                commands, _ = await pipe.execute()
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error
        return [str(c) for c in commands]

    async def delete(self, run_id: str) -> None:
        try:
            await self._redis.delete(self._record_key(run_id), self._events_key(run_id),
                                     self._cancel_key(run_id), self._control_key(run_id))
        except RedisError as error:
            raise StoreError(f"the run store failed: {error}") from error

    async def close(self) -> None:
        await self._redis.aclose()
