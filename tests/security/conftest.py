"""The canary: a file outside the app that no program may read or write, and directories in
which no program may create a file.

Every corpus case, fuzz example and worker test names the canary's path in its program (the
path a real attacker would have to guess), then checks that the canary's content, size, mtime,
atime and ctime are what they were at session start and that the watched directories list
the same files as before the case ran. The filesystem is mounted relatime, so the first read
of the freshly written canary would move its atime; the check itself reads it with O_NOATIME.

Tests that run programs in this process (the ``sandbox`` fixture) do so under an address-space
cap: a budget bug that let an allocation through once made the in-process corpus allocate
24 GB for real, and the kernel's OOM killer ended pytest, on a machine others share.
"""

from __future__ import annotations

import os
import resource
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Address space an in-process test may add to what the test process already maps: far above
# any legitimate program (max_total_bytes is 1 GB of tensors), far below the machine's 24 GB.
IN_PROCESS_HEADROOM_BYTES = 6 * 1024**3


def _listing(directory: Path) -> frozenset[str]:
    return frozenset(os.listdir(directory))


@dataclass
class Canary:
    directory: Path
    path: Path
    token: str
    stat: os.stat_result
    watched: tuple[Path, ...]
    listings: dict[Path, frozenset[str]] = field(default_factory=dict)

    def snapshot(self) -> dict[Path, frozenset[str]]:
        return {directory: _listing(directory) for directory in self.watched}

    def read_without_touching(self) -> bytes:
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
        try:
            return os.read(fd, 1 << 16)
        finally:
            os.close(fd)

    def assert_intact(self, before: dict[Path, frozenset[str]] | None = None) -> None:
        now = os.stat(self.path)  # before reading: the check must not disturb what it checks
        assert now.st_size == self.stat.st_size, "the canary's size changed"
        assert now.st_mtime_ns == self.stat.st_mtime_ns, "the canary was written"
        assert now.st_ctime_ns == self.stat.st_ctime_ns, "the canary's inode was changed"
        assert now.st_atime_ns == self.stat.st_atime_ns, "the canary was read"
        assert self.read_without_touching() == self.token.encode(), "the canary's content changed"
        for directory, listing in (before or self.listings).items():
            appeared = _listing(directory) - listing
            assert not appeared, f"new files appeared in {directory}: {sorted(appeared)}"

    def program(self, code: str) -> str:
        """The program with {canary} and {dir} replaced by the canary's paths."""
        return code.replace("{canary}", str(self.path)).replace("{dir}", str(self.directory))


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Canary:
    directory = tmp_path_factory.mktemp("canary")
    token = "canary-" + secrets.token_hex(16)
    path = directory / "secret.txt"
    path.write_text(token)
    stat = os.stat(path)
    found = Canary(directory, path, token, stat, watched=(directory, REPO_ROOT))
    found.listings = found.snapshot()
    return found


@pytest.fixture
def intact(canary: Canary) -> Iterator[Canary]:
    """Checks after the test that the canary is untouched and no file appeared meanwhile."""
    before = canary.snapshot()
    yield canary
    canary.assert_intact(before)


def _address_space_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(autouse=True)
def in_process_memory_cap(request: pytest.FixtureRequest) -> Iterator[int | None]:
    """RLIMIT_AS for the duration of each test that runs programs in this process, so that a
    runaway allocation fails that test (MemoryError, or torch's "can't allocate memory")
    instead of the machine.

    Scoped on purpose: only the soft limit is lowered (the hard one stays, so it can be put
    back), and only around in-process tests. Tests of the worker pool (the ``client``
    fixture) run without it: the pool's forkserver is started once per test process, and a
    cap in force at that moment would be inherited by every worker forked later, hiding
    whether a worker applies its own limits. Browser tests start chromium, which reserves
    terabytes of address space and must never inherit a cap either."""
    if "sandbox" not in request.fixturenames or "client" in request.fixturenames \
            or not os.path.exists("/proc/self/statm"):
        yield None
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space_bytes() + IN_PROCESS_HEADROOM_BYTES
    for limit in (soft, hard):  # never raise a limit someone else set (ulimit -v)
        if limit != resource.RLIM_INFINITY:
            cap = min(cap, limit)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield cap
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
