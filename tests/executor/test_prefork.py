"""app/executor/prefork.py: the read roots a worker's Landlock rules need are found once in
the forkserver and inherited, the same as a worker's own scan would find; workers do not run
the web process's main script again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.executor import oslayer

ROOT = Path(__file__).resolve().parents[2]


def test_remembered_roots_are_what_a_scan_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oslayer, "_read_roots", None)
    scanned = oslayer._needed_read_roots()
    oslayer.remember_read_roots()
    assert oslayer._read_roots == scanned
    assert oslayer._needed_read_roots() is oslayer._read_roots
    # The app's own package is among them (imported from the checkout, not site-packages).
    import app
    assert any(app.__file__.startswith(root) for root in scanned)


_MAIN_SCRIPT = """
import asyncio, os, sys
sys.path.insert(0, {root!r})
os.write(2, f"main script ran as {{__name__}}\\n".encode())
if __name__ == "__main__":
    from app.config import Settings
    from app.executor.base import Job
    from app.jobs import make_executor

    async def serve() -> None:
        executor = make_executor(Settings(workers=1, worker_max_programs=1))
        await executor.start()
        try:
            for _ in range(2):  # the second job runs on a replacement
                result = await executor.run(Job("eval", {{"code": "1 + 1"}}, 5.0))
                assert result.status == 200, result
        finally:
            await executor.close()

    asyncio.run(serve())
"""


def test_workers_do_not_run_the_web_processs_main_script_again(tmp_path: Path) -> None:
    """multiprocessing runs a script-started parent's main script again in every child
    (``.venv/bin/uvicorn`` imports uvicorn.main: ~18 ms per worker replacement); the
    forkserver's prefork module turns that off for the workers."""
    script = tmp_path / "serve.py"
    script.write_text(_MAIN_SCRIPT.format(root=str(ROOT)))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    ran = [line for line in done.stderr.splitlines() if line.startswith("main script ran")]
    assert ran == ["main script ran as __main__"], ran  # the parent only
