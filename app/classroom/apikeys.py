"""A teacher's API keys: for scripts and API clients, each with its own limits.

A key reads ``tpk_<prefix>_<secret>``. The prefix (8 hex digits) is stored as it is, to find
the key and to show it in the teacher's list; of the whole key only its SHA-256 is stored,
and a presented key is compared with it in constant time. The secret is 256 random bits, so
a fast hash suffices (a slow one guards guessable passwords, which this is not): a leaked
database hands out no key. The key itself is returned once, by ``create_key``."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.classroom.models import ApiKey, Classroom
from app.classroom.service import ClassroomError, clean_name
from app.message import N_

KEY_PREFIX = "tpk_"
_KEY_SHAPE = re.compile(r"tpk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
# Compared against when the prefix is unknown, so an unknown key costs as much as a wrong one.
_DUMMY_HASH = hashlib.sha256(b"no key of anyone").hexdigest()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyLimits:
    rate_limit_per_minute: int
    max_runs: int


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown to the teacher once; only its hash is stored


def _limits(limits: KeyLimits, *, max_rate: int, max_runs: int) -> KeyLimits:
    if not 1 <= limits.rate_limit_per_minute <= max_rate:
        raise ClassroomError(N_("A key's rate needs 1 to {n} requests per minute."), n=max_rate)
    if not 0 <= limits.max_runs <= max_runs:
        raise ClassroomError(N_("A key's training runs at once need 0 to {n}."), n=max_runs)
    return limits


def create_key(session: Session, teacher_id: int, name: str, limits: KeyLimits, *,
               class_id: int | None, max_name_chars: int, max_keys: int, max_rate: int,
               max_runs: int) -> NewKey:
    """A new key of the teacher's (for one of their classes, or for themselves)."""
    name = clean_name(name, max_name_chars)
    limits = _limits(limits, max_rate=max_rate, max_runs=max_runs)
    if class_id is not None and session.scalar(select(Classroom.id).where(
            Classroom.id == class_id, Classroom.teacher_id == teacher_id)) is None:
        raise ClassroomError(N_("Pick one of your own classes for the key, or none."))
    live = session.scalar(select(func.count()).select_from(ApiKey).where(
        ApiKey.teacher_id == teacher_id, ApiKey.revoked_at.is_(None))) or 0
    if live >= max_keys:
        raise ClassroomError(N_("You have {n} keys, the most allowed: revoke one you no "
                                "longer use first."), n=live)
    for _ in range(10):  # 4 billion prefixes: a clash is rare, retried away
        prefix = secrets.token_hex(4)
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(teacher_id=teacher_id, class_id=class_id, name=name, prefix=prefix,
                 secret_hash=_digest(secret), rate_limit_per_minute=limits.rate_limit_per_minute,
                 max_runs=limits.max_runs)
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def teacher_keys(session: Session, teacher_id: int) -> list[ApiKey]:
    """The teacher's keys, live ones first, newest first."""
    return list(session.scalars(select(ApiKey).where(ApiKey.teacher_id == teacher_id)
                                .order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def revoke(session: Session, teacher_id: int, key_id: int) -> bool:
    """Revokes one of the teacher's keys; False when they have no such key."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id,
                                              ApiKey.teacher_id == teacher_id))
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    return True


class KeyRefusedError(Exception):
    """A presented key that is malformed, unknown, wrong or revoked."""


def authenticate(session: Session, presented: str, *, last_used_every_s: int,
                 now: datetime | None = None) -> ApiKey:
    """The live key ``presented`` is, with its last use noted (at most every
    ``last_used_every_s``); KeyRefusedError for anything else."""
    presented = presented.strip()
    shape = _KEY_SHAPE.fullmatch(presented)
    key = None if shape is None else session.scalar(
        select(ApiKey).where(ApiKey.prefix == shape.group(1)))
    matches = hmac.compare_digest(key.secret_hash if key else _DUMMY_HASH, _digest(presented))
    if key is None or not matches:
        raise KeyRefusedError("this API key is not valid")
    if key.revoked_at is not None:
        raise KeyRefusedError("this API key was revoked")
    now = now or datetime.now(UTC)
    last = key.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=UTC)
    if last is None or now - last >= timedelta(seconds=last_used_every_s):
        key.last_used_at = now
    return key
