"""Which process drives a run, and whether that process is gone.

A run is driven by the web process that accepted it. A process that shuts down ends its live
runs ("The server shut down."); one that is killed (OOM, SIGKILL, a power cut) cannot, and its
runs would read "running" forever from the store. A run's record therefore names its driver,
and a process on the same host that finds the driver gone ends the run for it."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from app.message import Message, with_i18n

# What the ended run says, for the student who started it.
ORPHANED = {
    "status": "failed",
    **with_i18n(reason=Message("The server stopped while this run was going (it was killed or "
                               "crashed), so the run could not finish."),
                hint=Message("Start the run again.")),
}


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with
    the pid it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def this_process() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid_namespace": _pid_namespace(),
            "pid": os.getpid(), "started": _start_ticks(os.getpid())}


def is_gone(driver: Any) -> bool:
    """True only when the driver is certainly not running: it was a process this one can see
    (same host, same pid namespace) and that process no longer exists. Unknown means alive."""
    if not isinstance(driver, dict) or driver.get("started") is None:
        return False
    here = this_process()
    if driver.get("host") != here["host"] or driver.get("pid_namespace") is None \
            or driver.get("pid_namespace") != here["pid_namespace"]:
        return False
    pid = driver.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    return bool(_start_ticks(pid) != driver["started"])
