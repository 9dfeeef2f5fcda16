"""Retention against both databases: a class unused for classroom_retention_days is deleted
with its seats and attempts when the app starts; a class still in use, a recent one, and
every class when the setting is 0 are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.classroom import retention, service
from app.classroom.db import Database, database_for
from app.classroom.models import Attempt, Classroom, Student
from app.config import Settings, get_settings
from app.routes import classroom as classroom_routes

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _class_with_a_student(session: object, teacher_id: int, name: str, created: datetime,
                          attempt_at: datetime | None = None) -> int:
    room = service.create_class(session, teacher_id, name, max_name_chars=40,  # type: ignore[arg-type]
                                max_classes=10)
    room.created_at = created
    seat = service.join(session, room.join_code, f"{name} student", max_name_chars=40,  # type: ignore[arg-type]
                        max_students=10)
    seat.student.created_at = created
    if attempt_at is not None:
        service.record_attempt(session, seat.student.id, "tensors", "e1",  # type: ignore[arg-type]
                               passed=True, error_type="", code="x = 1", max_code_chars=100)
        session.flush()  # type: ignore[attr-defined]
        attempt = session.scalars(  # type: ignore[attr-defined]
            select(Attempt).where(Attempt.student_id == seat.student.id)).one()
        attempt.created_at = attempt_at
    return room.id


def _classes(db: Database) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(Classroom.name)))


def test_classes_unused_for_keep_days_go_with_their_data(database_url: str) -> None:
    db = Database(database_url)
    year_and_a_bit = NOW - timedelta(days=400)
    with db.session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        stale = _class_with_a_student(s, teacher.id, "stale", year_and_a_bit,
                                      attempt_at=year_and_a_bit)
        _class_with_a_student(s, teacher.id, "still used", year_and_a_bit,
                              attempt_at=NOW - timedelta(days=10))
        _class_with_a_student(s, teacher.id, "new", NOW - timedelta(days=3))
    with db.session() as s:
        assert retention.delete_inactive_classes(s, keep_days=0, now=NOW) == []
    assert _classes(db) == {"stale", "still used", "new"}
    with db.session() as s:
        assert retention.delete_inactive_classes(s, keep_days=365, now=NOW) == [stale]
    assert _classes(db) == {"still used", "new"}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Student)) == 2
        assert s.scalar(select(func.count()).select_from(Attempt)) == 1
        assert not s.scalars(select(Student).where(Student.class_id == stale)).all()
    db.close()


def test_the_app_deletes_old_classes_when_it_starts(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=str(tmp_path),
                        classroom_retention_days=30)
    with database_for(settings).session() as s:
        teacher = service.create_teacher(s, "t", "0123456789")
        _class_with_a_student(s, teacher.id, "last term", datetime.now(UTC) - timedelta(days=90))
        _class_with_a_student(s, teacher.id, "this week", datetime.now(UTC) - timedelta(days=2))
    app = FastAPI()
    app.include_router(classroom_routes.router)
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app):  # the lifespan runs the first check before serving
        pass
    assert _classes(database_for(settings)) == {"this week"}
