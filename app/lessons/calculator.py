"""The epoch / iteration / batch size calculator (lesson 6).

Two answers side by side: the formula, and a real ``DataLoader`` over a data set of the
chosen size, iterated in the sandbox and counted. They agree; the point is to see why
(the last, partial batch, and what ``drop_last`` does with it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.message import Message

MAX_SIZE = 100_000
MAX_EPOCHS = 1_000
# What the live run may do inside the sandbox's deadline on a busy machine: a loader
# step costs the interpreter ~0.1 ms, a sample ~10 µs (measured with 10k batches of one).
MAX_LIVE_ITERATIONS = 5_000
MAX_LIVE_SAMPLES = 100_000


@dataclass(frozen=True)
class Inputs:
    size: int = 1000  # samples in the data set
    batch: int = 64
    epochs: int = 10
    drop_last: bool = False


@dataclass(frozen=True)
class Formula:
    per_epoch: int
    total: int
    last_batch: int  # size of the last batch of an epoch
    dropped: int  # samples left out of every epoch by drop_last


@dataclass(frozen=True)
class Live:
    """What the real DataLoader did: ``epochs_run`` may be fewer than asked (a cap)."""

    per_epoch: int  # len(loader)
    iterations: int  # batches counted in the epochs run
    samples: int  # samples seen in the epochs run
    last_batch: int
    epochs_run: int

    @property
    def per_epoch_counted(self) -> int:
        return self.iterations // self.epochs_run if self.epochs_run else 0


def _whole(fields: dict[str, str], name: str, default: int) -> int | None:
    text = (fields.get(name) or "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        return None


def parse(fields: dict[str, str]) -> tuple[Inputs, Message | None]:
    """The calculator's form: (inputs, problem or None). Out-of-range inputs keep the
    defaults so the form can show them again with the problem."""
    size = _whole(fields, "size", Inputs.size)
    batch = _whole(fields, "batch", Inputs.batch)
    epochs = _whole(fields, "epochs", Inputs.epochs)
    drop_last = fields.get("drop_last") in ("on", "true", "1")
    if size is None or batch is None or epochs is None:
        return Inputs(drop_last=drop_last), Message("Enter whole numbers.")
    if not (1 <= size <= MAX_SIZE and 1 <= batch <= MAX_SIZE and 1 <= epochs <= MAX_EPOCHS):
        return Inputs(drop_last=drop_last), Message("The data set size and batch size must be "
                                                    "from 1 to {MAX_SIZE:,}, and the epochs from "
                                                    "1 to {MAX_EPOCHS:,}.",
                                                    MAX_SIZE=MAX_SIZE, MAX_EPOCHS=MAX_EPOCHS)
    return Inputs(size, batch, epochs, drop_last), None


def formula(inputs: Inputs) -> Formula:
    full, rest = divmod(inputs.size, inputs.batch)
    if inputs.drop_last:
        per_epoch, last, dropped = full, inputs.batch if full else 0, rest
    else:
        per_epoch, last, dropped = math.ceil(inputs.size / inputs.batch), rest or inputs.batch, 0
    return Formula(per_epoch, per_epoch * inputs.epochs, last, dropped)


def live_epochs(inputs: Inputs) -> int:
    """How many epochs the live run iterates: all of them when they fit the caps, else as
    many as fit (every epoch of a DataLoader has the same number of batches)."""
    per_epoch = max(1, formula(inputs).per_epoch)
    fit = min(MAX_LIVE_ITERATIONS // per_epoch, MAX_LIVE_SAMPLES // inputs.size)
    return max(0, min(inputs.epochs, fit))


def program(inputs: Inputs) -> str:
    """The sandbox program: a real DataLoader, iterated and counted. No shuffling: the
    order does not change any count, and a shuffling sampler draws its permutation on the
    default device, which fails on a GPU server where that is CUDA."""
    epochs = live_epochs(inputs)
    return (
        f"dataset = TensorDataset(torch.arange({inputs.size}))\n"
        f"loader = DataLoader(dataset, batch_size={inputs.batch}, "
        f"drop_last={inputs.drop_last})\n"
        "iterations = 0\n"
        "samples = 0\n"
        "last_batch = 0\n"
        f"for epoch in range({epochs}):\n"
        "    for (batch,) in loader:\n"
        "        iterations += 1\n"
        "        samples += len(batch)\n"
        "        last_batch = len(batch)\n"
        "[len(loader), iterations, samples, last_batch]\n"
    )


def read_live(inputs: Inputs, data: dict[str, Any]) -> Live | None:
    """The counts from the program's result, or None if it did not finish."""
    result = data.get("result") if data.get("ok") else None
    items = (result or {}).get("items") or []
    numbers = [item.get("value") for item in items]
    if len(numbers) != 4 or not all(isinstance(n, int) for n in numbers):
        return None
    per_epoch, iterations, samples, last = numbers
    return Live(per_epoch, iterations, samples, last, live_epochs(inputs))


def too_big_for_live(inputs: Inputs) -> Message | None:
    if live_epochs(inputs) >= 1:
        return None
    return Message("Too large to run for real here: one epoch would take more than "
                   "{MAX_LIVE_ITERATIONS:,} batches or {MAX_LIVE_SAMPLES:,} samples. Use a larger "
                   "batch size or a smaller data set.",
                   MAX_LIVE_ITERATIONS=MAX_LIVE_ITERATIONS, MAX_LIVE_SAMPLES=MAX_LIVE_SAMPLES)
