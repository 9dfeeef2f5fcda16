"""The classroom's databases: an SQLite file always, and a real PostgreSQL server started from
the Debian ``postgresql`` package's binaries (initdb + pg_ctl in a temporary directory on a
free port). Tests asking for ``database_url`` run once against each."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import ServiceMissingError, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway PostgreSQL cluster for the session (tests/services.py)."""
    try:
        with postgres_server() as url:
            yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    except ServiceMissingError as missing:
        pytest.skip(f"{missing}: the classroom tests then run against SQLite only")


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
