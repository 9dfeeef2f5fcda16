"""Two checkouts' sandboxes side by side, for changes too small for the server benchmark.

bench/eval_latency.py measures the whole path through real servers. On a shared machine its
ratio between two trees can move by 10-30% from one run to the next, more than a change of a
few percent in the sandbox. Here each checkout runs in a long-lived process set up like a
sandbox worker: one torch thread, the warm-up program, and a collection and a freeze after
each program. The two take turns block by block, in alternating order, so a slow phase of
the machine falls on both.

Printed per program: the median over blocks of each tree's p50 ``elapsed_ms`` (the worker's
own timer, Sandbox.run) and of its ``to_json`` time, and the ratio this/other with its range
over the blocks.

Run:  .venv/bin/python bench/sandbox_ab.py DIR [--blocks 8] [--runs 500] [--fresh]
      DIR: the other checkout, e.g. `git worktree add --detach ../before HEAD~1`
Results: docs/BENCHMARKS.md (the sections that name this script).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
WARM_UP_RUNS = 200


def serve() -> None:
    """The child: the checkout first on sys.path answers one JSON request per line,
    {"program", "runs", "fresh"}, with {"elapsed_ms", "json_ms"} (p50 of the block)."""
    import gc
    import inspect
    import time

    import torch

    import app
    from app.config import Settings
    from app.engine.program import Sandbox, to_json

    torch.set_num_threads(1)
    sandbox = Sandbox(Settings())
    options: dict[str, Any] = {}
    if "checked_mark" in inspect.signature(sandbox.run).parameters:
        from app.engine.parser import check_mark  # as the web process sends it

        options["checked_mark"] = check_mark(sandbox.settings)
    try:
        from app.engine.job import WARM_UP_PROGRAM
    except ImportError:  # an older checkout
        WARM_UP_PROGRAM = "x = torch.ones(2)\nx + x"
    sandbox.run(WARM_UP_PROGRAM)
    written = 0

    def block(code: str, runs: int, fresh: bool) -> tuple[list[float], list[float]]:
        nonlocal written
        elapsed, encoding = [], []
        for _ in range(runs):
            written += 1
            text = f"{code}\n# ab {written}" if fresh else code
            outcome = sandbox.run(text, **options)
            started = time.perf_counter()
            to_json(outcome.body)
            encoding.append((time.perf_counter() - started) * 1000)
            elapsed.append(float(outcome.body["elapsed_ms"]))
            gc.collect()  # what a worker does after each answer (release_job_garbage)
            gc.freeze()
        return elapsed, encoding

    print(json.dumps({"app": app.__file__}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("warm_up"):
            block(request["program"], WARM_UP_RUNS, request["fresh"])
            print("{}", flush=True)
            continue
        elapsed, encoding = block(request["program"], request["runs"], request["fresh"])
        print(json.dumps({"elapsed_ms": statistics.median(elapsed),
                          "json_ms": statistics.median(encoding)}), flush=True)


class _Child:
    def __init__(self, root: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(root)}
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"], cwd=root, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        loaded = Path(self._read()["app"]).resolve()
        if not loaded.is_relative_to(root.resolve()):
            raise RuntimeError(f"{loaded} was imported instead of {root}'s app")

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the sandbox process of {self.root} ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def compare(other: Path, blocks: int, runs: int, fresh: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.eval_latency import PROGRAMS

    children = {"this": _Child(ROOT), "other": _Child(other)}
    try:
        print(f"this: {ROOT}\nother: {other}\n{blocks} blocks of {runs} "
              f"{'new texts' if fresh else 'reruns'} per program and tree, taking turns\n")
        print(f"{'program':<11} {'':>5} {'this p50 ms':>12} {'other p50 ms':>13}  "
              "this/other (median of blocks [min .. max])")
        for name, code in PROGRAMS.items():
            for child in children.values():
                child.ask({"program": code, "fresh": fresh, "warm_up": True})
            found: dict[str, list[dict[str, Any]]] = {"this": [], "other": []}
            for index in range(blocks):
                order = ["this", "other"] if index % 2 == 0 else ["other", "this"]
                for label in order:
                    found[label].append(children[label].ask(
                        {"program": code, "runs": runs, "fresh": fresh}))
            for key, label in (("elapsed_ms", "sandbox"), ("json_ms", "to_json")):
                mine = [block[key] for block in found["this"]]
                theirs = [block[key] for block in found["other"]]
                ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
                print(f"{name:<11} {label:>7} {statistics.median(mine):10.3f} "
                      f"{statistics.median(theirs):13.3f}  x{statistics.median(ratios):.3f} "
                      f"[{min(ratios):.3f} .. {max(ratios):.3f}]", flush=True)
    finally:
        for child in children.values():
            child.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, nargs="?", help="the other checkout")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--runs", type=int, default=500, help="programs per block")
    parser.add_argument("--fresh", action="store_true",
                        help="every program text new (a numbered comment): first runs")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if args.other is None:
        parser.error("name the other checkout")
    compare(args.other, args.blocks, args.runs, args.fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
