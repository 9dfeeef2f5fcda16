"""Throwaway real services for tests and benchmarks: a PostgreSQL cluster (Debian's
``postgresql`` binaries: initdb + pg_ctl in a temporary directory) and a Redis server (Debian's
``redis-server``), each on a free loopback port, stopped and removed on exit."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class ServiceMissingError(RuntimeError):
    """The service's binaries are not installed (tests skip with this message)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _unprivileged() -> tuple[Callable[[], None] | None, int | None]:
    """PostgreSQL refuses to run as root: as root, run it as ``postgres`` (or nobody)."""
    if os.geteuid() != 0:
        return None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue

        def demote(uid: int = user.pw_uid, gid: int = user.pw_gid) -> None:
            os.setgid(gid)
            os.setuid(uid)
        return demote, user.pw_uid
    raise ServiceMissingError("running as root and no postgres/nobody user to run PostgreSQL as")


@contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh cluster; yields its URL (database ``postgres``, user ``playground``)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        raise ServiceMissingError("PostgreSQL is not installed (fix: apt-get install postgresql)")
    demote, uid = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="playground-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    data, port = root / "data", free_port()
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "playground", "-A", "trust",
                    "--no-sync", "-E", "UTF8"], preexec_fn=demote, check=True,
                   capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o", options,
                    "start"], preexec_fn=demote, check=True, capture_output=True)
    try:
        yield f"postgresql://playground@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       preexec_fn=demote, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A fresh Redis without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceMissingError("redis-server is not installed (fix: apt-get install "
                                  "redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--protected-mode", "yes"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
