"""The classroom's tables, as SQLAlchemy 2.0 typed ORM classes. The schema itself is made by
the Alembic migrations in ``migrations/versions``; a test checks the two agree."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Teacher(Base):
    __tablename__ = "teachers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped by "log out": a session cookie carries the generation it was issued under, so
    # logging out ends every copy of the cookie, not only the browser's own.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())


class Classroom(Base):
    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    joining_open: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="classroom", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Assignment.id")
    students: Mapped[list[Student]] = relationship(
        back_populates="classroom", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Student.id")


# The lesson id of a teacher's own exercise in assignments and attempts (its exercise id is
# the TeacherExercise's id): not a slug, so no catalog lesson can ever have it.
TEACHER_LESSON = "_teacher"


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("class_id", "lesson_id", "exercise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    lesson_id: Mapped[str] = mapped_column(String(100))
    exercise_id: Mapped[str] = mapped_column(String(100))

    classroom: Mapped[Classroom] = relationship(back_populates="assignments")


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the recovery code: the code itself is shown once, and a leaked database
    # does not hand out seats. The code is random (50+ bits), so no slow hash is needed.
    recovery_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())

    classroom: Mapped[Classroom] = relationship(back_populates="students")
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Attempt.id")


class Attempt(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"),
                                            index=True)
    lesson_id: Mapped[str] = mapped_column(String(100))
    exercise_id: Mapped[str] = mapped_column(String(100))
    passed: Mapped[bool] = mapped_column(Boolean)
    # The exception class name the program raised (TypeError...), or "" for a wrong answer
    # or a pass: what the dashboard's "most common errors" counts.
    error_type: Mapped[str] = mapped_column(String(100), default="")
    code: Mapped[str] = mapped_column(Text)
    # The student's own values of a teacher's exercise with randomized inputs ("n=4,
    # shape=(2, 3)"), as checked: what the dashboard shows; "" for every other exercise.
    variant: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())

    student: Mapped[Student] = relationship(back_populates="attempts")


class TeacherExercise(Base):
    """An exercise a teacher wrote in the browser (app/classroom/exercises.py). Its texts
    and programs may hold {{name}} placeholders of the randomized inputs ``params``
    declares (app/classroom/variants.py)."""

    __tablename__ = "teacher_exercises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id", ondelete="CASCADE"),
                                            index=True)
    title: Mapped[str] = mapped_column(String(200))
    prompt_en: Mapped[str] = mapped_column(Text)
    prompt_ja: Mapped[str] = mapped_column(Text, default="")
    starter: Mapped[str] = mapped_column(Text, default="")
    solution: Mapped[str] = mapped_column(Text)
    # The checks as JSON: [{"target": "var:y", "compare": "values", "rtol": ..., ...}]
    checks: Mapped[str] = mapped_column(Text)
    # The randomized inputs as the teacher typed them, one per line ("n: int 2..6").
    params: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every edit: cached reference runs of the older text are never used again.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())


class ApiKey(Base):
    """A teacher's key for scripts and API clients (app/classroom/apikeys.py). The key itself
    is shown once; only its prefix (to find it) and its SHA-256 (to check it) are kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teachers.id", ondelete="CASCADE"),
                                            index=True)
    # A key for a class counts against that class's quotas; None: the teacher's own.
    class_id: Mapped[int | None] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    max_runs: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Spotlight(Base):
    """The one program a class's projector shows (app/classroom/spotlight.py): an attempt,
    picked by the teacher, kept as it was when picked."""

    __tablename__ = "spotlights"

    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                             server_default=func.now())

    attempt: Mapped[Attempt] = relationship()
