"""What recording provenance ("where each number came from", app/inspect/provenance.py)
costs a program: the same programs run by Sandbox.run with provenance on (the default
settings) and off (max_provenance_records=0), interleaved in this process with one torch
thread, like a sandbox worker. Prints the median time of each and the ratio on/off.

The programs: a lesson-sized one (stack, cat, view, mm: every operation recorded), a loop of
small supported operations (the worst case: each pass replays), and a loop whose operations
are too large to record (only the check that skips them).

Run:  .venv/bin/python bench/provenance_overhead.py [--repeats 15]
Results: docs/BENCHMARKS.md, section "Provenance overhead".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from app.config import Settings
from app.engine.program import Sandbox

PROGRAMS = {
    "lesson": ("a = torch.tensor([1., 2., 3.])\nb = torch.tensor([4., 5., 6.])\n"
               "s = torch.stack([a, b])\nc = torch.cat([a, b])\nv = c.view(3, 2)\n"
               "m = s * torch.tensor([[10.], [20.]])\nA = torch.arange(6.).reshape(2, 3)\n"
               "A @ v\n"),
    "small-loop": ("x = torch.arange(12.).reshape(3, 4)\nw = torch.ones(4)\n"
                   "for i in range(300):\n    y = x.T\n    z = x * w\n"
                   "    s = torch.stack([w, w])\n"),
    "large-loop": ("x = torch.randn(64, 64)\nfor i in range(300):\n    y = x @ x\n"
                   "    z = torch.cat([y, y])\n"),
}


def run_ms(sandbox: Sandbox, code: str) -> float:
    start = time.perf_counter()
    outcome = sandbox.run(code, device="cpu")
    elapsed = (time.perf_counter() - start) * 1000
    assert outcome.body.get("ok"), outcome.body.get("error")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = Settings(deadline_s=60)
    on = Sandbox(base)
    off = Sandbox(base.model_copy(update={"max_provenance_records": 0}))
    for sandbox in (on, off):  # warm up: lazy imports, parse caches
        for code in PROGRAMS.values():
            run_ms(sandbox, code)
    print(f"{'program':<12} {'on ms':>9} {'off ms':>9} {'on/off':>7}")
    for name, code in PROGRAMS.items():
        times: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(args.repeats):
            times["on"].append(run_ms(on, code))
            times["off"].append(run_ms(off, code))
        a, b = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"{name:<12} {a:9.2f} {b:9.2f} {a / b:7.2f}")


if __name__ == "__main__":
    main()
