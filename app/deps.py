"""Annotated dependency aliases for routes.

The dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in its thread
pool, and those two hops cost ~0.4 ms of every request's latency (bench/eval_latency.py).
"""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.callers import Caller, caller_of, needs_lookup
from app.config import Settings, get_settings
from app.executor.base import Executor


async def get_executor(request: Request) -> Executor:
    return request.app.state.executor


async def current_settings(request: Request) -> Settings:
    """``get_settings()``, honouring an app's dependency override of ``get_settings``."""
    override = request.app.dependency_overrides.get(get_settings)
    if override is None:
        return get_settings()
    settings = override()
    return await settings if inspect.isawaitable(settings) else settings


async def current_caller(request: Request) -> Caller:
    """``caller_of``, in the thread pool only when a resolver must look credentials up (a
    database query): an anonymous request is answered here, on the event loop."""
    if needs_lookup(request):
        return await run_in_threadpool(caller_of, request)
    return caller_of(request)


async def eval_context(request: Request) -> tuple[Caller, Settings, Executor]:
    """The caller, settings and executor of a request, found as the dependencies below find
    them, for the route a class calls most (/eval): FastAPI's solver costs ~10 us per
    dependency and request, and these three were 30 us of /eval's ~0.5 ms in the web
    process (bench/eval_latency.py)."""
    return (await current_caller(request), await current_settings(request),
            await get_executor(request))


# For routers whose handlers run programs and read the Caller with caller_of(request): it is
# found before the handler runs, off the event loop where a lookup is needed, and kept.
CALLER_FIRST = [Depends(current_caller)]

SettingsDep = Annotated[Settings, Depends(current_settings)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
CallerDep = Annotated[Caller, Depends(current_caller)]
