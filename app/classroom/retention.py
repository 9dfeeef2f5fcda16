"""Old classes' data is deleted: a class nobody has used for ``classroom_retention_days``
(no new seat, no exercise check, not created recently) goes, with its seats, assignments and
attempts. Students' programs and names are personal data; a school keeps them for a term or
a year, not forever."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.classroom import service
from app.classroom.models import Attempt, Classroom, Student

log = logging.getLogger(__name__)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored moment is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def last_activity(session: Session) -> dict[int, datetime]:
    """Each class's latest moment of use: its creation, its newest seat, its newest attempt."""
    seats = dict(session.execute(
        select(Student.class_id, func.max(Student.created_at)).group_by(Student.class_id)
    ).all())
    attempts = dict(session.execute(
        select(Student.class_id, func.max(Attempt.created_at))
        .join(Attempt, Attempt.student_id == Student.id).group_by(Student.class_id)
    ).all())
    latest: dict[int, datetime] = {}
    for class_id, created in session.execute(select(Classroom.id, Classroom.created_at)):
        moments = [m for m in (_aware(created), _aware(seats.get(class_id)),
                               _aware(attempts.get(class_id))) if m is not None]
        latest[class_id] = max(moments)
    return latest


def delete_inactive_classes(session: Session, keep_days: int,
                            now: datetime | None = None) -> list[int]:
    """Deletes every class unused for more than ``keep_days`` days; returns their ids.
    ``keep_days`` 0 keeps everything."""
    if keep_days <= 0:
        return []
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    stale = sorted(class_id for class_id, latest in last_activity(session).items()
                   if latest < cutoff)
    for class_id in stale:
        classroom = session.get(Classroom, class_id)
        if classroom is not None:
            service.delete_class(session, classroom)
    if stale:
        log.info("deleted %d classes unused for more than %d days (setting "
                 "classroom_retention_days): ids %s", len(stale), keep_days, stale)
    return stale
