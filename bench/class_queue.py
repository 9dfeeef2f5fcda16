"""A class starts training at once: N callers each queue one default training run (the spec
the /train form starts with, less its epochs: TrainSpec()), while a program is run every
second. Prints the measured run length d, when the last run ended against the queue math
ceil(N / T) * d (T: training workers), and the programs' latency meanwhile.

    .venv/bin/python bench/class_queue.py --students 30 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time

from app.config import Settings
from app.executor.base import Job
from app.jobs import make_executor
from app.training.spec import TrainSpec


async def main(students: int, workers: int, train_workers: int) -> None:
    settings = Settings(workers=workers, train_workers=train_workers)
    executor = make_executor(settings)
    await executor.start()
    slots = settings.effective_train_workers
    payload = TrainSpec().model_dump(mode="json")
    deadline = settings.train_deadline_s + settings.train_wrapup_s
    try:
        started = time.monotonic()
        handles = [await executor.submit(Job("train", payload, deadline, lane="batch",
                                             expected_s=settings.train_expected_s,
                                             owner=f"student{i}")) for i in range(students)]
        first_estimate = executor.position(handles[-1])
        latencies: list[float] = []

        async def programs() -> None:
            while True:
                t0 = time.monotonic()
                await executor.run(Job("eval", {"code": "torch.ones(3).sum()"}, 5.0))
                latencies.append(time.monotonic() - t0)
                await asyncio.sleep(1.0)

        prober = asyncio.create_task(programs())
        durations = []
        for handle in handles:
            summary = json.loads((await executor.result(handle)).body)
            assert summary["status"] == "finished", summary
            durations.append(summary["elapsed_s"])
        total = time.monotonic() - started
        prober.cancel()
    finally:
        await executor.close()
    d = statistics.mean(durations)
    print(f"workers={workers} training workers T={slots} students N={students}")
    print(f"default run d: mean {d:.2f} s, min {min(durations):.2f}, max {max(durations):.2f}")
    print(f"last run ended after {total:.1f} s; ceil(N/T) * d = "
          f"{math.ceil(students / slots) * d:.1f} s")
    if first_estimate is not None:
        print(f"estimate shown to the last student at submit: position "
              f"{first_estimate.position}, start in {first_estimate.estimated_start_s:.1f} s "
              "(before any run had ended: train_expected_s per run)")
    print(f"programs meanwhile: {len(latencies)}, median {statistics.median(latencies)*1000:.0f}"
          f" ms, max {max(latencies)*1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--train-workers", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.students, args.workers, args.train_workers))
