"""Imported last by the forkserver (LocalExecutor's preload list): work that every worker
forked from it would otherwise repeat after its fork."""

from __future__ import annotations

from app.executor import oslayer

oslayer.remember_read_roots()
