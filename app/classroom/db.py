"""The classroom database: which one (an SQLite file under data_dir unless database_url
names another), its migrations (applied at start-up), and sessions."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any fixed number: the PostgreSQL advisory lock that one migrating process holds at a time.
MIGRATION_LOCK_KEY = 0x706C6179


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'classroom.sqlite3').resolve()}"


def make_engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless each connection asks.
        @event.listens_for(engine, "connect")
        def _foreign_keys_on(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Write-ahead log, synced at checkpoints: a commit (a join, an attempt) appends to
            # the log instead of syncing the journal and the file several times, 1 ms instead
            # of 15-50 ms on a busy disk (measured for bench/classroom.py), and readers no
            # longer wait for a writer. A power cut can lose the last commits, never the file.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    return engine


@contextmanager
def _one_migrator_at_a_time(engine: Engine) -> Iterator[None]:
    """Web processes starting together (uvicorn --workers N, two servers on one data_dir)
    would each create the tables and all but one fail with "table already exists". SQLite's
    driver does not wrap DDL in the transaction, so a lock file beside the database
    serialises them; PostgreSQL takes an advisory lock inside migrate()'s transaction."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def migrate(engine: Engine) -> None:
    """Brings the schema to the newest revision (a no-op when it is there already)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with _one_migrator_at_a_time(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """An engine with its schema migrated, and a session factory over it."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


_databases: dict[str, Database] = {}


def database_for(settings: Settings) -> Database:
    """The process's one Database per URL (migrated the first time it is asked for)."""
    url = database_url(settings)
    db = _databases.get(url)
    if db is None:
        db = _databases[url] = Database(url)
    return db
