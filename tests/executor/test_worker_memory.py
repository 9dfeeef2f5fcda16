"""What a worker does with memory between jobs (worker.release_job_garbage): a job's cycles
are freed, and what outlives the job (the parse cache, the view memos) is frozen out of the
next collections without piling up."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
import torch

from app.config import Settings
from app.engine.program import Sandbox
from app.executor.worker import release_job_garbage
from app.playground.presets import EXAMPLES
from bench.eval_latency import AUTOGRAD64, TINY
from tests.engine.test_seed_programs import CUSTOM_DATASET, SIMPLE_NN, TRAINING_LOOP

CYCLE = """class Node:
    def __init__(self):
        self.me = self
        self.data = torch.ones(1000)
node = Node()
loop = [torch.zeros(3)]
loop.append(loop)
len(loop)"""

PROGRAMS = [TINY, AUTOGRAD64, TRAINING_LOOP, SIMPLE_NN, CUSTOM_DATASET, CYCLE,
            *(example.code for example in EXAMPLES)]


@pytest.fixture
def worker_gc() -> Iterator[None]:
    """This test process's collector as a worker's: start-up frozen. Afterwards, frozen again
    if it was before (the app's start-up freezes, and later tests' collections, timed repeats
    of large cycles among them, must not walk the whole test process), else unfrozen."""
    was_frozen = gc.get_freeze_count() > 0
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        if not was_frozen:
            gc.unfreeze()


def _run(sandbox: Sandbox, count: int, start: int) -> None:
    for n in range(start, start + count):
        code = PROGRAMS[n % len(PROGRAMS)]
        outcome = sandbox.run(f"{code}\n# program {n}")  # each text new: the caches turn over
        assert outcome.status == 200  # some examples show an error on purpose
        release_job_garbage()


@pytest.mark.usefixtures("worker_gc")
def test_what_outlives_a_job_is_frozen_and_does_not_pile_up() -> None:
    sandbox = Sandbox(Settings(parsed_program_cache_entries=16))
    _run(sandbox, 3 * len(PROGRAMS), 0)  # every cache full
    frozen = gc.get_freeze_count()
    _run(sandbox, 10 * len(PROGRAMS), 1000)
    # Trees and memos dropped by the parse cache were freed by their reference counts.
    assert gc.get_freeze_count() <= frozen * 1.1
    # What survives a job is out of the collector's generations: the next full collection
    # walks only that job's own objects.
    assert len(gc.get_objects()) < 300
    assert len(sandbox.programs._entries) == 16


@pytest.mark.usefixtures("worker_gc")
def test_a_jobs_cycles_are_freed_before_anything_is_frozen() -> None:
    sandbox = Sandbox(Settings())
    assert sandbox.run(CYCLE).body["ok"]
    held = [o for o in gc.get_objects() if isinstance(o, list) and any(i is o for i in o)]
    (loop,) = held
    tensors = [weakref.ref(loop[0])]
    nodes = [o for o in gc.get_objects() if type(o).__name__ == "Node"]
    assert len(nodes) == 1
    tensors.append(weakref.ref(vars(nodes[0])["data"]))
    assert all(isinstance(ref(), torch.Tensor) for ref in tensors)
    del held, loop, nodes
    release_job_garbage()
    assert [ref() for ref in tensors] == [None, None]
