"""The rlimits of app/executor/worker.py ``apply_os_limits``, read from /proc/<pid>/limits
of a real worker started by LocalExecutor."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import torch

from app.config import Settings
from app.jobs import make_executor


def worker_limits() -> dict[str, tuple[str, str]]:
    """(soft, hard) of each limit of a fresh worker, as the kernel shows them."""

    async def main() -> str:
        executor = make_executor(Settings(workers=1))
        await executor.start()
        try:
            pid = next(iter(executor._workers)).process.pid
            return Path(f"/proc/{pid}/limits").read_text()
        finally:
            await executor.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        text = pool.submit(asyncio.run, main()).result()
    # "Max open files            45                   45                   files"
    limits = {}
    for line in text.splitlines()[1:]:
        name, soft, hard = line[:26].strip(), line[26:47].strip(), line[47:68].strip()
        limits[name] = (soft, hard)
    return limits


def test_a_worker_runs_under_its_rlimits() -> None:
    limits = worker_limits()
    assert limits["Max file size"] == ("0", "0")
    assert limits["Max core file size"] == ("0", "0")
    soft, hard = limits["Max open files"]
    assert soft == hard and int(soft) <= 256, limits["Max open files"]
    if not torch.cuda.is_available():  # CUDA's driver maps huge ranges: no cap there
        soft, hard = limits["Max address space"]
        assert soft == hard != "unlimited"
        assert int(soft) > Settings().worker_memory_bytes
