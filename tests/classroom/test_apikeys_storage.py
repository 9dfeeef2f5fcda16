"""API keys and the spotlight over the database (SQLite and PostgreSQL): what is stored, what
a presented key resolves to, and who can reach what."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.classroom import apikeys, service, spotlight
from app.classroom.db import Database
from app.classroom.models import ApiKey, Spotlight

LIMITS = apikeys.KeyLimits(rate_limit_per_minute=30, max_runs=1)
BOUNDS = {"max_name_chars": 40, "max_keys": 3, "max_rate": 600, "max_runs": 10}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.close()


def test_a_key_is_stored_as_prefix_and_hash_and_checked(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        made = apikeys.create_key(s, teacher.id, "grader", LIMITS, class_id=None, **BOUNDS)
        secret, key_id = made.secret, made.key.id
    assert secret.startswith(f"tpk_{made.key.prefix}_") and len(secret) == 4 + 8 + 1 + 43
    with db.session() as s:
        stored = s.get(ApiKey, key_id)
        assert stored is not None
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        row = [str(getattr(stored, c.name)) for c in ApiKey.__table__.columns]
        assert not any(secret in value or secret[13:] in value for value in row)
        assert stored.last_used_at is None
    with db.session() as s:
        found = apikeys.authenticate(s, f"  {secret} ", last_used_every_s=60)
        assert (found.id, found.rate_limit_per_minute, found.max_runs) == (key_id, 30, 1)
        assert found.last_used_at is not None
    # One character off, another key's prefix, junk: all the same refusal.
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"),
                  secret.replace(made.key.prefix, "00000000"), "tpk_", "", "x" * 500):
        with db.session() as s, pytest.raises(apikeys.KeyRefusedError, match="not valid"):
            apikeys.authenticate(s, wrong, last_used_every_s=60)


def test_last_use_is_written_at_most_every_interval(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        made = apikeys.create_key(s, teacher.id, "k", LIMITS, class_id=None, **BOUNDS)
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    for offset_s, expected in ((0, start), (30, start), (61, start + timedelta(seconds=61))):
        with db.session() as s:
            apikeys.authenticate(s, made.secret, last_used_every_s=60,
                                 now=start + timedelta(seconds=offset_s))
        with db.session() as s:
            last = s.get(ApiKey, made.key.id).last_used_at  # type: ignore[union-attr]
            assert last is not None and last.replace(tzinfo=UTC) == expected


def test_revoked_keys_bounds_and_ownership(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        other = service.create_teacher(s, "u", "0123456789")
        theirs = service.create_class(s, other.id, "theirs", max_name_chars=40, max_classes=5)
        mine = service.create_class(s, teacher.id, "mine", max_name_chars=40, max_classes=5)
        with pytest.raises(service.ClassroomError, match="your own classes"):
            apikeys.create_key(s, teacher.id, "k", LIMITS, class_id=theirs.id, **BOUNDS)
        for bad in (apikeys.KeyLimits(0, 1), apikeys.KeyLimits(601, 1),
                    apikeys.KeyLimits(10, -1), apikeys.KeyLimits(10, 11)):
            with pytest.raises(service.ClassroomError, match="need"):
                apikeys.create_key(s, teacher.id, "k", bad, class_id=None, **BOUNDS)
        made = [apikeys.create_key(s, teacher.id, f"k{i}", LIMITS, class_id=mine.id, **BOUNDS)
                for i in range(3)]
        with pytest.raises(service.ClassroomError, match="revoke one"):
            apikeys.create_key(s, teacher.id, "k4", LIMITS, class_id=None, **BOUNDS)
        assert not apikeys.revoke(s, other.id, made[0].key.id)  # not theirs to revoke
        assert apikeys.revoke(s, teacher.id, made[0].key.id)
        # A revoked key frees its place.
        apikeys.create_key(s, teacher.id, "k4", LIMITS, class_id=None, **BOUNDS)
        listed = apikeys.teacher_keys(s, teacher.id)
        assert [k.name for k in listed] == ["k4", "k2", "k1", "k0"]  # live first, newest first
        assert apikeys.teacher_keys(s, other.id) == []
    with db.session() as s, pytest.raises(apikeys.KeyRefusedError, match="revoked"):
        apikeys.authenticate(s, made[0].secret, last_used_every_s=60)
    with db.session() as s:
        assert apikeys.authenticate(s, made[1].secret, last_used_every_s=60).class_id == mine.id
        service.delete_class(s, service.owned_class(s, teacher.id, mine.id))  # type: ignore[arg-type]
    with db.session() as s:  # a class's keys go with it
        assert s.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_spotlight_keeps_the_picked_attempt_and_stays_in_its_class(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        room = service.create_class(s, teacher.id, "a", max_name_chars=40, max_classes=5)
        other_room = service.create_class(s, teacher.id, "b", max_name_chars=40, max_classes=5)
        aiko = service.join(s, room.join_code, "Aiko", max_name_chars=40, max_students=9)
        ben = service.join(s, other_room.join_code, "Ben", max_name_chars=40, max_students=9)
        quiet = service.join(s, room.join_code, "Quiet", max_name_chars=40, max_students=9)
        for code, passed in (("x = 1", False), ("x = 2", True)):
            service.record_attempt(s, aiko.student.id, "l", "e", passed=passed, error_type="",
                                   code=code, max_code_chars=100)
        service.record_attempt(s, ben.student.id, "l", "e", passed=False,
                               error_type="TypeError", code="y", max_code_chars=100)
        assert spotlight.current(s, room) is None
        with pytest.raises(service.ClassroomError, match="nothing to show"):
            spotlight.spotlight_student(s, room, quiet.student.id)
        with pytest.raises(service.ClassroomError, match="nothing to show"):
            spotlight.spotlight_student(s, room, ben.student.id)  # another class's student
        spotlight.spotlight_student(s, room, aiko.student.id)
        shown = spotlight.current(s, room)
        assert shown is not None and (shown.code, shown.passed) == ("x = 2", True)
        assert spotlight.spotlit_student_id(s, room) == aiko.student.id
        assert spotlight.current(s, other_room) is None
        # A later check does not change what the projector shows.
        service.record_attempt(s, aiko.student.id, "l", "e", passed=False,
                               error_type="NameError", code="x = 3", max_code_chars=100)
        assert spotlight.current(s, room).code == "x = 2"  # type: ignore[union-attr]
        spotlight.spotlight_student(s, room, aiko.student.id)  # picked again: the newest
        assert spotlight.current(s, room).error_type == "NameError"  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(Spotlight)) == 1
        spotlight.clear(s, room)
        assert spotlight.current(s, room) is None


def test_sqlite_commits_to_a_write_ahead_log(db: Database) -> None:
    """A commit appends to the log (no journal synced per commit): what keeps a class of 200
    joining and checking at once fast on one SQLite file (bench/classroom.py)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    from sqlalchemy import text

    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
