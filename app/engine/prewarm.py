"""Warm torch up once in the forkserver, so that every worker forked from it starts warm.

app/jobs.py names this module in the forkserver's preload list (LocalExecutor's ``preload``).
The first run of the warm-up program imports about 800 modules lazily (torch._dynamo, sympy,
torch.distributed ...) and registers meta kernels: about 2 s of CPU. Done in each worker,
every replacement (one per ``worker_max_programs`` programs, or after a kill) paid it again,
on the cores that serve requests; done here, a new worker's own warm-up run takes tens of
milliseconds.
Importing the sandbox imports matplotlib too (``app/engine/plots.py``), and the warm-up
program draws a figure, so a worker's first plot pays no import (about 0.6 s) and no font
loading. ``gc.freeze()`` then keeps the inherited objects out of the workers' collections.

A worker forked from here skips its own warm-up run (app/engine/job.py): its first program
then pays a few milliseconds of copy-on-write faults, where the run cost ~90 ms of CPU at
every replacement.

Only our own warm-up program runs here, on the CPU, with the workers' thread settings, before
any worker exists. On CUDA builds of torch nothing runs here: CUDA must not be initialised in
a process that forks, and the workers warm themselves as before.
"""

from __future__ import annotations

import gc
import logging

import torch

log = logging.getLogger(__name__)

# True once the warm-up program ran here: a worker forked from this process starts warm.
WARMED = False


def prewarm() -> None:
    global WARMED
    if torch.version.cuda is not None or getattr(torch.version, "hip", None) is not None:
        return
    from app.config import Settings
    from app.engine.job import WARM_UP_PROGRAM
    from app.engine.program import Sandbox

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work
        pass
    try:
        Sandbox(Settings()).run(WARM_UP_PROGRAM, device="cpu")
        WARMED = True
    except Exception:  # the workers still warm themselves; never stop the forkserver
        log.exception("the forkserver could not pre-warm torch")
    gc.collect()
    gc.freeze()


prewarm()
