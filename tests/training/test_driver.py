"""Whether a run's driving process is gone: this process is not, a process that exited is,
and a process this one cannot see (another host, another pid namespace) counts as alive."""

from __future__ import annotations

import json
import subprocess
import sys

from app.training import driver


def test_this_process_is_alive() -> None:
    assert not driver.is_gone(driver.this_process())


def test_a_process_that_exited_is_gone() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import json; from app.training import driver; "
         "print(json.dumps(driver.this_process()))"],
        capture_output=True, text=True, check=True)
    identity = json.loads(child.stdout)
    assert identity["pid"] != driver.this_process()["pid"]
    assert driver.is_gone(identity)


def test_a_reused_pid_is_still_gone() -> None:
    """The pid alone could name a new process: the start time tells them apart."""
    reused = {**driver.this_process(), "started": "1"}
    assert driver.is_gone(reused)


def test_what_this_process_cannot_see_counts_as_alive() -> None:
    gone = {**driver.this_process(), "started": "1"}
    assert not driver.is_gone({**gone, "host": "another-host"})
    assert not driver.is_gone({**gone, "pid_namespace": "pid:[1]"})
    assert not driver.is_gone({**gone, "pid_namespace": None})
    for nonsense in (None, "driver", {}, {**gone, "pid": "12"}, {**gone, "pid": -1}):
        assert not driver.is_gone(nonsense)
