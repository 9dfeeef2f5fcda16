"""Throwaway real services for tests and benchmarks: a PostgreSQL cluster (Debian's
``postgresql`` binaries: initdb + pg_ctl in a temporary directory), a Redis server (Debian's
``redis-server``) and the app itself under uvicorn, each on a free loopback port, stopped and
removed on exit."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
ROOT = Path(__file__).resolve().parents[1]


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


class LiveServer:
    """``uvicorn app.main:app`` in a subprocess of its own, with the given settings as
    PLAYGROUND_* environment variables (for example {"PLAYGROUND_WORKERS": "1"})."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)

    def wait_ready(self, timeout_s: float) -> None:
        """Until /readyz answers 200: the workers are warm (torch imported in each)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"server exited: {stderr[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready in time")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def live_server(env: dict[str, str], timeout_s: float = 120) -> Iterator[str]:
    """A ready server; yields its base URL."""
    server = LiveServer(env)
    try:
        server.wait_ready(timeout_s)
        yield server.url
    finally:
        server.stop()
