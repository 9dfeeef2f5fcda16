"""The worker's resident memory, read while a program runs.

The tensor budget counts tensors and arrays; Python objects (lists of a million items,
megabyte strings) are bounded per object but not in total. ``[[0] * 10**6 for i in
range(400)]`` held 3 GB after 400 steps. On a CPU worker RLIMIT_AS stops that eventually; a
CUDA worker has none, so the deadline kill was the only bound. The budget reads the resident
set every few milliseconds and refuses past a growth limit (max_resident_growth_bytes).

/proc/self/statm is opened once, when the worker's sandbox is built: the OS layer (Landlock)
applied after that allows no new open of /proc files, but an open descriptor stays readable.
"""

from __future__ import annotations

import os

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class ResidentMemory:
    """Reads this process's resident set size in bytes (None where /proc is missing)."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        try:
            self._fd: int | None = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._fd = None

    def bytes(self) -> int | None:
        if self._fd is None or os.getpid() != self._pid:
            return None  # a forked copy would read its parent's numbers
        try:
            return int(os.pread(self._fd, 128, 0).split()[1]) * _PAGE_BYTES
        except (OSError, ValueError, IndexError):
            return None
