"""Imported last by the forkserver (LocalExecutor's preload list): work that every worker
forked from it would otherwise repeat after its fork."""

from __future__ import annotations

from multiprocessing import spawn

from app.executor import oslayer

oslayer.remember_read_roots()


def _skip_parent_main(main_path: str) -> None:
    """Workers start at app.executor.worker.worker_main, found by its module's name: they
    never need the web process's main script. multiprocessing ran that script again in every
    child of a server started from one (``.venv/bin/uvicorn``, as ``make run`` and the
    Dockerfile start it; gunicorn; pytest): for uvicorn's, ~18 ms of CPU importing
    uvicorn.main at every worker replacement (one per ``worker_max_programs`` programs), a
    third of what a replacement costs. CPython's own remedy, preloading "__main__" in the
    forkserver, does nothing up to 3.13: forkserver.py asks for ``main_path`` where spawn.py
    writes ``init_main_from_path``."""


# Only in the forkserver and the workers it forks (this module is imported nowhere else).
if hasattr(spawn, "_fixup_main_from_path"):
    spawn._fixup_main_from_path = _skip_parent_main
