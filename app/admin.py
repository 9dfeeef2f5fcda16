"""``python -m app.admin create-teacher USERNAME``: make a teacher account (the password is
asked for twice, never taken from the command line where `ps` and shell history see it;
PLAYGROUND_TEACHER_PASSWORD supplies it to scripts)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.classroom import service
from app.classroom.db import database_for
from app.config import get_settings


def _password() -> str:
    from_env = os.environ.get("PLAYGROUND_TEACHER_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        sys.exit("The passwords differ: run the command again.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-teacher", help="make a teacher account")
    create.add_argument("username")
    args = parser.parse_args(argv)
    db = database_for(get_settings())
    try:
        with db.session() as session:
            service.create_teacher(session, args.username, _password())
    except service.ClassroomError as refused:
        print(refused, file=sys.stderr)
        return 1
    print(f"Teacher {args.username} created: log in at /teacher/login")
    return 0


if __name__ == "__main__":
    sys.exit(main())
