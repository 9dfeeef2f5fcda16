"""The API contract, checked the way an API client meets it: `schemathesis run /openapi.json
--checks all` against a live server (uvicorn on a free port, its real worker pool), with the
expected statuses of schemathesis.toml. Zero failures, or the test prints schemathesis's
report: each failure with a curl command that reproduces it.

The number of examples is bounded so the run takes about half a minute; the seed is fixed so
a failure replays (SCHEMATHESIS_SEED=random draws a new one).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90
MAX_EXAMPLES = "30"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PLAYGROUND_WORKERS": "2", "PLAYGROUND_RATE_LIMIT_PER_MINUTE": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_schemathesis_finds_no_failure_with_all_checks(live_server: str,
                                                       tmp_path: Path) -> None:
    seed = os.environ.get("SCHEMATHESIS_SEED", "20261205")
    command = [sys.executable, "-m", "schemathesis.cli",
               "--config-file", str(ROOT / "schemathesis.toml"),
               "run", f"{live_server}/openapi.json", "--checks", "all",
               "--max-examples", MAX_EXAMPLES, "--request-timeout", "20",
               "--report-dir", str(tmp_path)]
    if seed != "random":
        command += ["--seed", seed]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-12_000:] + done.stderr[-2_000:]
    assert "No issues found" in done.stdout, done.stdout[-12_000:]
