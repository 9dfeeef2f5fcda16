"""The classroom's storage against both databases: migrations, the schema they make, the
services' rules, and deleting a class with its data."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from app.classroom import codes, service
from app.classroom.db import Database
from app.classroom.models import Attempt, Base, Student


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    yield database
    database.close()


def test_migrations_make_the_models_schema_and_run_twice(database_url: str) -> None:
    first = Database(database_url)
    first.close()
    again = Database(database_url)  # already at head: a no-op, not an error
    inspector = inspect(again.engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    again.close()


def test_processes_starting_together_migrate_one_at_a_time(database_url: str) -> None:
    """uvicorn --workers 4 on a fresh database: every process starts; without the lock all
    but one failed with "table teachers already exists"."""
    # Each process imports first, then waits for the same instant: the migrations overlap.
    migrate = ("import sys, time; from app.classroom.db import make_engine, migrate; "
               "engine = make_engine(sys.argv[1]); "
               "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); migrate(engine)")
    root = Path(__file__).resolve().parents[2]
    at = str(time.time() + 5)
    starts = [subprocess.Popen([sys.executable, "-c", migrate, database_url, at], cwd=root,
                               stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1][-500:] for p in starts]
    assert [p.returncode for p in starts] == [0] * 4, errors


def test_teacher_password_is_hashed_and_checked(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "ms-tanaka", "correct horse battery")
        assert teacher.password_hash.startswith("$argon2id$")
        assert "correct horse" not in teacher.password_hash
    with db.session() as s:
        assert service.authenticate(s, "ms-tanaka", "correct horse battery") is not None
        assert service.authenticate(s, "ms-tanaka", "wrong password!!") is None
        assert service.authenticate(s, "nobody", "correct horse battery") is None
    with db.session() as s, pytest.raises(service.ClassroomError, match="exists already"):
        service.create_teacher(s, "ms-tanaka", "another password")
    with db.session() as s, pytest.raises(service.ClassroomError, match="at least"):
        service.create_teacher(s, "mr-short", "short")


def test_join_codes_avoid_ambiguous_characters(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        made = [service.create_class(s, teacher.id, f"class {i}", max_name_chars=40,
                                     max_classes=200) for i in range(30)]
    joined = "".join(c.join_code for c in made)
    assert len({c.join_code for c in made}) == 30
    assert all(len(c.join_code) == codes.JOIN_CODE_LENGTH for c in made)
    assert not set(joined) & set("0O1IL2Z5S8BUV")


def test_join_recover_attempts_and_delete_cascade(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        other = service.create_teacher(s, "u", "0123456789")
        room = service.create_class(s, teacher.id, "  Period   3 ", max_name_chars=40,
                                    max_classes=5)
        assert room.name == "Period 3"
        assert service.owned_class(s, other.id, room.id) is None
        service.set_assignments(s, room, [service.ExerciseRef("tensors", "e1")])
        code = room.join_code
    with db.session() as s:
        seat = service.join(s, code.lower(), "Aiko", max_name_chars=40, max_students=10)
        service.record_attempt(s, seat.student.id, "tensors", "e1", passed=False,
                               error_type="TypeError", code="x = 1", max_code_chars=100)
        service.record_attempt(s, seat.student.id, "tensors", "e1", passed=True,
                               error_type="", code="x = 2", max_code_chars=100)
        student_id = seat.student.id
        recovery = seat.recovery_code
    with db.session() as s:
        again = service.recover(s, codes.pretty_recovery(recovery).lower())
        assert again is not None and again.id == student_id
        assert service.recover(s, "AAAA-AAAA-AAAA") is None
        progress = service.student_progress(s, again)
        assert progress["tensors/e1"] == service.Cell("solved", 2, "")
        room = service.owned_class(s, teacher.id, again.class_id)
        board = service.dashboard(s, room)
        assert board.common_errors == [("TypeError", 1)]
        service.delete_class(s, room)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Student)) == 0
        assert s.scalar(select(func.count()).select_from(Attempt)) == 0


def test_closed_or_full_class_refuses_to_join(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        room = service.create_class(s, teacher.id, "c", max_name_chars=40, max_classes=5)
        service.join(s, room.join_code, "one", max_name_chars=40, max_students=1)
        with pytest.raises(service.ClassroomError, match="full"):
            service.join(s, room.join_code, "two", max_name_chars=40, max_students=1)
        room.joining_open = False
        with pytest.raises(service.ClassroomError, match="open joining"):
            service.join(s, room.join_code, "three", max_name_chars=40, max_students=9)
        with pytest.raises(service.ClassroomError, match="No class"):
            service.join(s, "XXXXXX", "four", max_name_chars=40, max_students=9)
        with pytest.raises(service.ClassroomError, match="too long"):
            service.create_class(s, teacher.id, "x" * 41, max_name_chars=40, max_classes=5)


def test_csv_defuses_spreadsheet_formulas(db: Database) -> None:
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        room = service.create_class(s, teacher.id, "c", max_name_chars=40, max_classes=5)
        service.join(s, room.join_code, "=HYPERLINK(\"x\")", max_name_chars=40, max_students=9)
        s.refresh(room)
        text = service.dashboard_csv(service.dashboard(s, room))
    assert "'=HYPERLINK" in text
