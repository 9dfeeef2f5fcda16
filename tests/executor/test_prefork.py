"""app/executor/prefork.py: the read roots a worker's Landlock rules need are found once in
the forkserver and inherited, the same as a worker's own scan would find."""

from __future__ import annotations

import pytest

from app.executor import oslayer


def test_remembered_roots_are_what_a_scan_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oslayer, "_read_roots", None)
    scanned = oslayer._needed_read_roots()
    oslayer.remember_read_roots()
    assert oslayer._read_roots == scanned
    assert oslayer._needed_read_roots() is oslayer._read_roots
    # The app's own package is among them (imported from the checkout, not site-packages).
    import app
    assert any(app.__file__.startswith(root) for root in scanned)
