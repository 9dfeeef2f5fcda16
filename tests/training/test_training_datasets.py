"""Built-in data sets: shapes, label ranges, determinism under the seed."""

from __future__ import annotations

import pytest
import torch

from app.training import datasets
from app.training.spec import DatasetSpec

CLASSIFICATION = {"moons": 2, "circles": 2, "xor": 2, "spirals": 3, "blobs": 3, "digits": 10}


@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
def test_classification_sets(name: str) -> None:
    x, y = datasets.make_dataset(DatasetSpec(name=name, n_samples=300), seed=0)
    features = 64 if name == "digits" else 2
    assert x.shape == (300, features) and x.dtype == torch.float32
    assert y.shape == (300,) and y.dtype == torch.int64
    assert set(y.tolist()) == set(range(CLASSIFICATION[name]))
    assert torch.isfinite(x).all()


@pytest.mark.parametrize("name", ["sine", "linear"])
def test_regression_sets(name: str) -> None:
    x, y = datasets.make_dataset(DatasetSpec(name=name, n_samples=200, noise=0.0), seed=0)
    assert x.shape == (200, 1) and y.shape == (200, 1) and y.dtype == torch.float32
    expected = torch.sin(x) if name == "sine" else 1.5 * x - 0.5
    torch.testing.assert_close(y, expected)


def test_same_seed_same_data_other_seed_other_data() -> None:
    spec = DatasetSpec(name="moons", n_samples=100)
    a, b = datasets.make_dataset(spec, 7), datasets.make_dataset(spec, 7)
    torch.testing.assert_close(a[0], b[0])
    assert torch.equal(a[1], b[1])
    assert not torch.equal(a[0], datasets.make_dataset(spec, 8)[0])


def test_generation_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    datasets.make_dataset(DatasetSpec(name="spirals", n_samples=50), 0)
    torch.testing.assert_close(torch.rand(3), expected)


def test_moons_are_balanced_and_shuffled() -> None:
    _, y = datasets.make_dataset(DatasetSpec(name="moons", n_samples=101), 0)
    assert y.sum().item() == 51  # n - n // 2 in class 1
    assert 0 < y[:20].sum().item() < 20  # classes mixed, not sorted


def test_digits_are_scaled_pixels_of_the_bundled_set() -> None:
    x, y = datasets.make_dataset(DatasetSpec(name="digits", n_samples=5000), 0)
    assert x.shape == (1797, 64)  # capped at the size of the bundled set
    assert x.min().item() == 0.0 and x.max().item() == 1.0
    assert torch.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_split_keeps_the_last_fraction_for_validation() -> None:
    split = datasets.load(DatasetSpec(name="xor", n_samples=100, validation_fraction=0.25), 0)
    assert split.x_train.shape[0] == 75 and split.x_val.shape[0] == 25
    assert split.y_train.shape[0] == 75 and split.y_val.shape[0] == 25
