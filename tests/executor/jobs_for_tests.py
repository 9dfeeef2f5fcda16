"""Job handlers that only the executor tests register: they make timing, events, cancels,
crashes and worker state easy to observe without depending on the interpreter."""

from __future__ import annotations

import ctypes
import json
import os
import time
from typing import Any

from app.executor.handlers import JobContext

# Module state of one worker process: a replaced worker starts without it.
_MARKS: list[str] = []


def sleep_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    """Sleep ``s`` seconds in small steps, emitting ``ticks`` events, stopping when asked."""
    started = time.monotonic()
    ticks = int(payload.get("ticks", 0))
    for tick in range(ticks):
        context.emit({"type": "tick", "n": tick})
    stopped = False
    while time.monotonic() - started < float(payload["s"]):
        if context.should_stop():
            stopped = True
            break
        time.sleep(0.01)
    return 200, json.dumps({"ok": True, "pid": os.getpid(), "stopped": stopped,
                            "tag": payload.get("tag"), "started": time.time()}).encode()


def stubborn_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    """Sleeps without ever checking should_stop: only a kill ends it early."""
    time.sleep(float(payload["s"]))
    return 200, json.dumps({"ok": True}).encode()


def crash_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    """A native fault: reads address 0 (SIGSEGV)."""
    ctypes.string_at(0)
    return 200, b"{}"


def mark_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    """Leaves a mark in this worker's memory and reports the marks it found."""
    found = list(_MARKS)
    _MARKS.append(str(payload["mark"]))
    return 200, json.dumps({"pid": os.getpid(), "found": found}).encode()


def failing_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    raise RuntimeError("a handler bug")


def controls_job(payload: dict[str, Any], context: JobContext) -> tuple[int, bytes]:
    """Collects the control commands sent to it until "done" (or ``s`` seconds), emitting a
    "waiting" event once it listens, and returns them in order."""
    context.emit({"type": "waiting"})
    got: list[str] = []
    until = time.monotonic() + float(payload.get("s", 10))
    while "done" not in got and time.monotonic() < until and not context.should_stop():
        got += context.controls(0.2)
    return 200, json.dumps({"ok": True, "controls": got}).encode()
