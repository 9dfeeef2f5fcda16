"""The classroom's databases: an SQLite file always, and a real PostgreSQL server started from
the Debian ``postgresql`` package's binaries (initdb + pg_ctl in a temporary directory on a
free port). Tests asking for ``database_url`` run once against each."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_unprivileged() -> tuple[Callable[[], None] | None, int | None]:
    """PostgreSQL refuses to run as root: as root, run its binaries as the package's
    ``postgres`` user (or nobody)."""
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
    pytest.skip("running as root and no postgres/nobody user to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: "
                    "apt-get install postgresql to run the classroom tests against it")
    demote, uid = _as_unprivileged()
    root = Path(tempfile.mkdtemp(prefix="playground-pg-"))
    if uid is not None:
        os.chown(root, uid, -1)
    data, port = root / "data", _free_port()
    run = {"preexec_fn": demote, "check": True, "capture_output": True}
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "playground", "-A", "trust",
                    "--no-sync", "-E", "UTF8"], **run)  # type: ignore[call-overload]
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o", options,
                    "start"], **run)  # type: ignore[call-overload]
    try:
        yield f"postgresql+psycopg://playground@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       preexec_fn=demote, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind (PostgreSQL: a new database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'classroom.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    name = f"t_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**9}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from app.classroom import db

        for key in [k for k in db._databases if k.endswith(f"/{name}")]:
            db._databases.pop(key).close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
