"""The spec refuses what cannot train (naming the fix) and its arithmetic matches torch."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.training.models import build_mlp
from app.training.spec import (
    EXAMPLE_SPEC,
    ModelSpec,
    SpecLimitError,
    TrainSpec,
    check_limits,
    parameter_count,
    plan,
)


def spec(**over: object) -> TrainSpec:
    return TrainSpec.model_validate({**EXAMPLE_SPEC, **over})


def refusal(**over: object) -> str:
    with pytest.raises(ValidationError) as info:
        spec(**over)
    return str(info.value)


def test_examples_validate() -> None:
    for example in TrainSpec.model_config["json_schema_extra"]["examples"]:
        TrainSpec.model_validate(example)


@pytest.mark.parametrize(
    ("dataset", "loss", "fix"),
    [
        ({"name": "moons"}, "mse", "'cross_entropy'"),
        ({"name": "digits"}, "l1", "'cross_entropy'"),
        ({"name": "sine"}, "cross_entropy", "use 'mse'"),
        ({"name": "linear"}, "bce_with_logits", "use 'mse'"),
        ({"name": "digits"}, "bce", "use 'cross_entropy'"),
        ({"name": "blobs", "n_classes": 3}, "bce_with_logits", "set dataset.n_classes to 2"),
    ],
)
def test_incompatible_loss_names_the_fix(dataset: dict, loss: str, fix: str) -> None:
    message = refusal(dataset=dataset, loss=loss)
    assert loss in message
    assert fix in message


def test_binary_losses_accept_two_class_sets() -> None:
    assert spec(dataset={"name": "xor"}, loss="bce").loss == "bce"
    assert spec(dataset={"name": "spirals", "n_classes": 2}, loss="bce_with_logits")


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"optimizer": {"name": "sgd", "nesterov": True}}, "momentum > 0"),
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, "set it to 0"),
        ({"optimizer": {"name": "adam", "layer_lrs": {"fc7": 0.1}}}, "unknown layers ['fc7']"),
        ({"model": {"hidden": [0]}}, "between 1 and 4096"),
        ({"dataset": {"name": "moons", "n_samples": 100}, "batch_size": 200, "drop_last": True},
         "turn drop_last off"),
        # 999 training samples in batches of 2: the last batch holds one sample
        ({"dataset": {"name": "moons", "n_samples": 999, "validation_fraction": 0.0},
          "batch_size": 2, "model": {"hidden": [4], "batch_norm": True}}, "set drop_last"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_specs_are_refused(over: dict, words: str) -> None:
    assert words in refusal(**over)


@pytest.mark.parametrize(
    ("in_f", "model", "out_f"),
    [
        (2, ModelSpec(hidden=[16, 16]), 2),
        (64, ModelSpec(hidden=[32], batch_norm=True, dropout=0.2), 10),
        (1, ModelSpec(hidden=[]), 1),
        (2, ModelSpec(hidden=[5, 7, 3], batch_norm=True, activation="gelu"), 1),
    ],
)
def test_parameter_count_matches_torch(in_f: int, model: ModelSpec, out_f: int) -> None:
    built = build_mlp(in_f, model, out_f)
    assert parameter_count(in_f, model, out_f) == sum(p.numel() for p in built.parameters())


def test_plan_counts_steps_with_accumulation_and_drop_last() -> None:
    p = plan(spec(dataset={"name": "moons", "n_samples": 1000}, batch_size=32,
                  grad_accumulation=3))
    assert (p.n_train, p.n_val) == (800, 200)
    assert p.batches_per_epoch == 25  # 800 / 32
    assert p.iterations_per_epoch == 9  # ceil(25 / 3)
    assert p.total_iterations == 9 * 30
    p = plan(spec(dataset={"name": "digits", "n_samples": 5000}, batch_size=100,
                  drop_last=True))
    assert p.n_train + p.n_val == 1797  # digits ships 1,797 images
    assert (p.in_features, p.out_features, p.n_classes) == (64, 10, 10)
    assert p.batches_per_epoch == p.n_train // 100


@pytest.mark.parametrize(
    ("over", "limits", "words"),
    [
        ({"dataset": {"name": "moons", "n_samples": 5000}}, {"train_max_samples": 1000},
         "the limit is 1000"),
        ({"epochs": 50}, {"train_max_epochs": 10}, "epochs is 50"),
        ({"model": {"hidden": [512, 512]}}, {"train_max_parameters": 10_000},
         "narrower or fewer hidden layers"),
        ({"epochs": 100, "batch_size": 8}, {"train_max_steps": 1000},
         "100 epochs x 100 steps per epoch = 10,000 optimizer steps"),
    ],
)
def test_limits_are_checked_before_running(over: dict, limits: dict, words: str) -> None:
    with pytest.raises(SpecLimitError, match="limit") as info:
        check_limits(spec(**over), Settings(**limits))
    assert words in str(info.value)


def test_defaults_are_within_default_limits() -> None:
    check_limits(TrainSpec(), Settings())


HUGE = 10**400  # JSON integers have no size limit; Python's json reads this one


@pytest.mark.parametrize(
    "over",
    [
        {"dataset": {"name": "moons", "n_samples": HUGE}},  # overflowed plan()'s float math
        {"epochs": HUGE},
        {"log_every": HUGE},
        {"scheduler": {"name": "step", "step_size": HUGE}},
        {"scheduler": {"name": "warmup", "warmup_steps": HUGE}},
        {"model": {"hidden": [HUGE]}},
        {"batch_size": HUGE},
        {"seed": HUGE},
        {"dataset": {"name": "moons", "noise": HUGE}},
        {"optimizer": {"name": "adam", "layer_lrs": {"out": HUGE}}},
        {"optimizer": {"name": "adam", "layer_lrs": {f"fc{i}": 0.1 for i in range(10)}}},
    ],
)
def test_huge_numbers_are_validation_errors(over: dict) -> None:
    # A ValidationError is a 422 (or a form error); anything else was a 500.
    assert refusal(**over)


def test_counts_are_bounded_in_the_schema_and_limited_by_the_settings() -> None:
    big = spec(dataset={"name": "moons", "n_samples": 2**31 - 1})
    with pytest.raises(SpecLimitError, match=r"dataset\.n_samples"):
        check_limits(big, Settings())
    assert "less than or equal to 2147483647" in refusal(
        dataset={"name": "moons", "n_samples": 2**31})
