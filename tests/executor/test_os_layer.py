"""The worker's OS layer (app/executor/oslayer.py), seen from inside a real worker.

A pool built with ``self_test=True`` accepts the "selftest" job kind: the worker runs
``oslayer.self_test`` and reports what each probe met (an errno name, or "ok"). One pool per
module answers every test here; a second one, with the layer off, shows the switch works and
that a worker of the app (no ``self_test``) refuses the kind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.executor import oslayer
from app.executor.base import Job
from app.executor.local import LocalExecutor
from app.jobs import JOB_HANDLERS, PRELOAD

SCRATCH_TEXT = "written before the worker started"
CAP_DAC_READ_SEARCH = 1 << 2


def _status_of(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {line.split(":")[0]: line.split(":", 1)[1].strip() for line in lines}


def in_a_pool(jobs: list[Job], self_test: bool, **overrides: Any
              ) -> tuple[list[tuple[int, Any]], dict[str, str]]:
    """Run the jobs in a fresh one-worker pool; their (status, JSON body) and the worker's
    /proc status as the test process sees it."""
    settings = Settings(workers=1, **overrides)

    async def main() -> tuple[list[tuple[int, Any]], dict[str, str]]:
        handlers = {**JOB_HANDLERS, "selftest": "app.executor.oslayer:selftest_job"} \
            if self_test else JOB_HANDLERS
        executor = LocalExecutor(settings, handlers, preload=PRELOAD)
        await executor.start()
        try:
            status = _status_of(next(iter(executor._workers)).process.pid)
            results = [await executor.run(job) for job in jobs]
            return [(result.status, json.loads(result.body)) for result in results], status
        finally:
            await executor.close()

    # A thread of its own, as in test_local.py: an event loop may already run in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A directory anyone may write, outside the paths a worker may read: only the OS layer
    stands between a worker and it."""
    directory = Path(tempfile.mkdtemp(prefix="oslayer-", dir="/tmp"))
    directory.chmod(0o777)
    existing = directory / "existing.txt"
    existing.write_text(SCRATCH_TEXT)
    existing.chmod(0o666)
    yield directory
    shutil.rmtree(directory)


@pytest.fixture(scope="module")
def report(scratch: Path) -> dict[str, Any]:
    jobs = [Job("selftest", {"scratch": str(scratch)}, 30.0),
            Job("eval", {"code": "torch.ones(2, 3).sum()", "seed": 0, "device": "auto"}, 10.0)]
    (selftest, evaluation), status = in_a_pool(jobs, self_test=True)
    assert selftest[0] == 200, selftest
    assert evaluation[0] == 200 and evaluation[1]["ok"], evaluation  # programs still run
    return {**selftest[1], "outside": status}


def test_no_program_or_process_can_start(report: dict[str, Any]) -> None:
    assert (report["execv"], report["subprocess"], report["fork"]) == ("EPERM",) * 3
    # clone3 hides its flags from the filter: it answers "not implemented", so glibc falls
    # back to clone, whose flags the filter reads (threads still start: see below).
    assert report["clone3"] == "ENOSYS"


def test_no_socket_can_be_made(report: dict[str, Any]) -> None:
    assert (report["socket"], report["socketpair"]) == ("EPERM", "EPERM")


def test_no_file_can_be_written_or_created(report: dict[str, Any], scratch: Path) -> None:
    assert (report["open_w"], report["open_r+"], report["mkdir"]) == ("EPERM",) * 3
    assert sorted(os.listdir(scratch)) == ["existing.txt"]
    assert (scratch / "existing.txt").read_text() == SCRATCH_TEXT


def test_installed_files_can_still_be_read_and_threads_started(report: dict[str, Any]
                                                              ) -> None:
    assert (report["read_app"], report["read_stdlib"], report["thread"]) == ("ok",) * 3
    assert report["thread_ran"] is True


def test_no_signal_reaches_another_process(report: dict[str, Any]) -> None:
    assert report["kill_parent"] == "EPERM"


def test_the_kernel_reports_no_new_privs_and_a_seccomp_filter(report: dict[str, Any]) -> None:
    for status in (report["status"], report["outside"]):
        assert (status["NoNewPrivs"], status["Seccomp"]) == ("1", "2")
    assert not report["missing"] or all(not line.startswith(("seccomp", "no_new_privs"))
                                        for line in report["missing"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the worker changes user only when started "
                    "as root")
def test_a_worker_started_as_root_runs_as_an_unprivileged_user(report: dict[str, Any]) -> None:
    assert report["uid"] != 0 and report["euid"] != 0
    assert set(report["status"]["Uid"].split()) == {str(report["uid"])}
    # At most the right to read files, kept only when the Python installation is not
    # readable by that user (Landlock then bounds what it may read).
    assert int(report["status"]["CapEff"], 16) & ~CAP_DAC_READ_SEARCH == 0
    assert int(report["status"]["CapPrm"], 16) & ~CAP_DAC_READ_SEARCH == 0


def test_landlock_confines_reads_to_the_installation(report: dict[str, Any]) -> None:
    if not report["landlock_abi"]:
        pytest.skip("this kernel has no Landlock")
    assert report["read_scratch"] == "EACCES"


def test_freed_heap_memory_is_scrubbed(report: dict[str, Any]) -> None:
    scrubbed = report["scrubbed"]
    assert scrubbed["same_block"] is True, "malloc gave another block: the probe proves nothing"
    assert scrubbed["marker_seen"] is False
    # What malloc hands out is filled with the complement of the byte free() writes.
    assert scrubbed["fill"] == f"{oslayer.PERTURB_BYTE ^ 0xFF:02x}" * 4


def test_the_layer_can_be_turned_off_and_the_app_refuses_the_test_kind(scratch: Path) -> None:
    jobs = [Job("selftest", {"scratch": str(scratch)}, 30.0)]
    ((status, body),), outside = in_a_pool(jobs, self_test=False, worker_os_layer=False)
    assert status == 400 and "unknown job kind 'selftest'" in body["error"]["message"]
    assert (outside["NoNewPrivs"], outside["Seccomp"]) == ("0", "0")


@pytest.mark.skipif(os.geteuid() != 0, reason="the worker changes user only when started "
                    "as root")
def test_a_missing_user_is_logged_and_the_other_layers_still_apply(scratch: Path) -> None:
    jobs = [Job("selftest", {"scratch": str(scratch)}, 30.0)]
    ((status, body),), outside = in_a_pool(jobs, self_test=True,
                                           worker_user="no-such-user-here")
    assert status == 200 and body["uid"] == 0
    assert any("no user 'no-such-user-here'" in line for line in body["missing"])
    assert (body["fork"], body["open_w"]) == ("EPERM", "EPERM")
    assert (outside["NoNewPrivs"], outside["Seccomp"]) == ("1", "2")
