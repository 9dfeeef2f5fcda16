"""``python -m app.admin create-teacher``: makes an account that can log in, refuses a
duplicate or a short password with a message naming the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.classroom import service
from app.classroom.db import Database

ROOT = Path(__file__).resolve().parents[2]


def run_admin(tmp_path: Path, database_url: str, username: str,
              password: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLAYGROUND_DATA_DIR": str(tmp_path),
           "PLAYGROUND_DATABASE_URL": database_url, "PLAYGROUND_TEACHER_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "app.admin", "create-teacher", username],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_create_teacher_then_log_in(tmp_path: Path, database_url: str) -> None:
    made = run_admin(tmp_path, database_url, "ms-sato", "a long enough password")
    assert made.returncode == 0, made.stderr
    assert "created" in made.stdout
    again = run_admin(tmp_path, database_url, "ms-sato", "a long enough password")
    assert again.returncode == 1 and "pick another name" in again.stderr
    short = run_admin(tmp_path, database_url, "mr-kato", "short")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    db = Database(database_url)
    with db.session() as session:
        assert service.authenticate(session, "ms-sato", "a long enough password") is not None
        assert service.authenticate(session, "mr-kato", "short") is None
    db.close()
