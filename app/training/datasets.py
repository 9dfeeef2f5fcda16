"""Built-in data sets, generated with torch under a seeded generator (no download, no numpy RNG).

Every set is a float32 input matrix ``x`` [N, F] and either class labels (int64 [N]) or
real targets (float32 [N, 1]). Samples come out in a random order, so the train/validation
split and unshuffled training both see every class mixed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch

from app.training.spec import DatasetSpec, plan_n_samples

_BLOB_STD = 0.5  # base spread of a blob; `noise` adds to it so noise=0 still gives a cloud


@dataclass(frozen=True)
class Split:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor

    def to(self, device: torch.device) -> Split:
        return Split(*(t.to(device) for t in (self.x_train, self.y_train, self.x_val, self.y_val)))


def make_dataset(spec: DatasetSpec, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) for ``spec``; the same spec and seed always give the same tensors."""
    gen = torch.Generator().manual_seed(seed)
    n = plan_n_samples(spec)
    x, y = _MAKERS[spec.name](spec, n, gen)
    order = torch.randperm(n, generator=gen)
    return x[order].contiguous(), y[order].contiguous()


def split(x: torch.Tensor, y: torch.Tensor, validation_fraction: float) -> Split:
    """The last ``validation_fraction`` of the (already shuffled) samples is the validation set."""
    n_val = int(x.shape[0] * validation_fraction)
    n_train = x.shape[0] - n_val
    return Split(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def load(spec: DatasetSpec, seed: int) -> Split:
    return split(*make_dataset(spec, seed), spec.validation_fraction)


def _two_classes(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _moons(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n0, n1 = _two_classes(n)
    t0 = torch.rand(n0, generator=gen) * math.pi
    t1 = torch.rand(n1, generator=gen) * math.pi
    upper = torch.stack([torch.cos(t0), torch.sin(t0)], dim=1)  # [n0, 2]
    lower = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)], dim=1)  # [n1, 2]
    x = torch.cat([upper, lower]) + spec.noise * torch.randn(n, 2, generator=gen)
    return x, _labels(n0, n1)


def _circles(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n0, n1 = _two_classes(n)
    angle = torch.rand(n, generator=gen) * (2 * math.pi)
    radius = torch.cat([torch.ones(n0), torch.full((n1,), 0.5)])  # outer ring is class 0
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)  # [n, 2]
    x = x + spec.noise * torch.randn(n, 2, generator=gen)
    return x, _labels(n0, n1)


def _xor(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    clean = torch.rand(n, 2, generator=gen) * 2 - 1  # uniform in [-1, 1]^2
    # Class 1 where the coordinates' signs differ; labels come from the noise-free points.
    y = ((clean[:, 0] > 0) != (clean[:, 1] > 0)).long()
    return clean + spec.noise * torch.randn(n, 2, generator=gen), y


def _spirals(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    k = spec.n_classes
    y = torch.arange(n) % k
    r = torch.rand(n, generator=gen)  # distance from the centre, 0..1
    # Each arm makes about 0.8 of a turn and arms start evenly spaced around the circle.
    theta = y * (2 * math.pi / k) + r * 5.0
    x = torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1)  # [n, 2]
    return x + spec.noise * 0.5 * torch.randn(n, 2, generator=gen), y


def _blobs(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    k = spec.n_classes
    centres = torch.rand(k, 2, generator=gen) * 8 - 4  # [k, 2] in [-4, 4]^2
    y = torch.arange(n) % k
    x = centres[y] + (_BLOB_STD + spec.noise) * torch.randn(n, 2, generator=gen)
    return x, y


def _sine(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = (torch.rand(n, 1, generator=gen) * 2 - 1) * math.pi  # [n, 1] in [-pi, pi]
    return x, torch.sin(x) + spec.noise * torch.randn(n, 1, generator=gen)


def _linear(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(n, 1, generator=gen) * 4 - 2  # [n, 1] in [-2, 2]
    return x, 1.5 * x - 0.5 + spec.noise * torch.randn(n, 1, generator=gen)


def _digits(spec: DatasetSpec, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = _digits_tensors()
    # n <= 1,797: a random subset; make_dataset shuffles it again, which costs nothing.
    keep = torch.randperm(x.shape[0], generator=gen)[:n]
    return x[keep], y[keep]


@lru_cache(maxsize=1)
def _digits_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    # Imported here: sklearn takes ~2 s to import and only this set needs it. Cached, so a
    # reused worker pays that once. Pixel values 0..16 are scaled to 0..1.
    with warnings.catch_warnings():
        # In a sandbox worker (no file writes) joblib cannot create its semaphore and warns
        # that it will run serially; nothing here runs in parallel, so that is noise.
        warnings.filterwarnings("ignore", message=".*joblib will operate in serial mode.*")
        from sklearn.datasets import load_digits

        bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32) / 16.0  # [1797, 64]
    y = torch.tensor(bunch.target, dtype=torch.int64)  # [1797]
    return x, y


def _labels(n0: int, n1: int) -> torch.Tensor:
    return torch.cat([torch.zeros(n0, dtype=torch.int64), torch.ones(n1, dtype=torch.int64)])


_Maker = Callable[[DatasetSpec, int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
_MAKERS: dict[str, _Maker] = {
    "moons": _moons,
    "circles": _circles,
    "xor": _xor,
    "spirals": _spirals,
    "blobs": _blobs,
    "sine": _sine,
    "linear": _linear,
    "digits": _digits,
}
