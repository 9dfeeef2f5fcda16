"""The /train form's fields to and from a TrainSpec (app/playground/train_form.py)."""

from __future__ import annotations

from app.message import Message
from app.playground import train_form
from app.training.spec import TrainSpec


def submit(**changes: str) -> train_form.TrainForm:
    """The default form as a browser posts it, with changes: every field, blank ones too,
    except unticked checkboxes, which send nothing."""
    fields = {k: v for k, v in train_form.DEFAULTS.items()
              if v or k not in train_form.CHECKBOXES}
    return train_form.parse({**fields, **changes})


def test_the_defaults_are_a_valid_spec_that_trains_moons() -> None:
    form = submit()
    assert form.errors == [] and form.spec is not None
    assert form.spec == TrainSpec(epochs=30)  # the automatic loss is cross-entropy here
    assert form.spec.optimizer.lr is None  # blank: the optimizer's own default


def test_automatic_loss_follows_the_data_set() -> None:
    form = submit(dataset="sine")
    assert form.spec is not None and form.spec.loss == "mse"
    assert submit(dataset="digits").spec.loss == "cross_entropy"  # type: ignore[union-attr]


def test_settings_of_another_optimizer_or_scheduler_are_ignored() -> None:
    # Momentum is refused for Adam by the spec; the form only sends what applies.
    form = submit(optimizer="adam", momentum="0.9", nesterov="on", scheduler="cosine",
                  step_size="0", gamma="7")
    assert form.errors == []
    assert form.spec is not None
    assert form.spec.optimizer.momentum == 0 and not form.spec.optimizer.nesterov
    assert form.spec.scheduler.name == "cosine"


def test_sgd_with_nesterov_momentum_and_every_loop_setting() -> None:
    form = submit(optimizer="sgd", lr="0.05", momentum="0.9", nesterov="on",
                  weight_decay="0.001", layer_lrs="fc0=0.1, out=0.01", scheduler="step",
                  step_size="5", gamma="0.5", hidden="32 16", activation="tanh",
                  dropout="0.1", batch_norm="on", grad_clip="1", grad_accumulation="2",
                  mixed_precision="on", batch_size="64", drop_last="on", seed="7",
                  device="cpu", log_every="3")
    assert form.errors == [], form.errors
    spec = form.spec
    assert spec is not None
    assert spec.optimizer.model_dump() == {
        "name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "betas": (0.9, 0.999),
        "weight_decay": 0.001, "layer_lrs": {"fc0": 0.1, "out": 0.01}}
    assert (spec.scheduler.name, spec.scheduler.step_size, spec.scheduler.gamma) == ("step", 5,
                                                                                     0.5)
    assert spec.model.hidden == [32, 16] and spec.model.batch_norm
    assert (spec.grad_clip, spec.grad_accumulation, spec.mixed_precision) == (1.0, 2, True)
    assert (spec.batch_size, spec.drop_last, spec.seed, spec.device, spec.log_every) == (
        64, True, 7, "cpu", 3)


def test_an_unticked_box_is_false() -> None:
    fields = dict(train_form.DEFAULTS)
    del fields["shuffle"]  # a browser sends nothing for an unticked checkbox
    form = train_form.parse(fields)
    assert form.spec is not None and form.spec.shuffle is False
    assert form.values["shuffle"] == ""


def test_a_spec_shown_in_the_form_parses_back_to_itself() -> None:
    spec = TrainSpec.model_validate({
        "dataset": {"name": "blobs", "n_samples": 600, "noise": 0.3, "n_classes": 4,
                    "validation_fraction": 0.25},
        "model": {"hidden": [8, 8, 4], "activation": "gelu", "dropout": 0.2},
        "loss": "cross_entropy",
        "optimizer": {"name": "adamw", "lr": 0.003, "betas": [0.8, 0.99], "weight_decay": 0.01,
                      "layer_lrs": {"fc2": 0.001}},
        "scheduler": {"name": "warmup", "warmup_steps": 40, "warmup_start_factor": 0.1},
        "epochs": 12, "batch_size": 50, "shuffle": False, "seed": 3})
    assert train_form.parse(train_form.form_of(spec).values).spec == spec


def test_every_problem_is_reported_at_once_on_its_field() -> None:
    form = submit(hidden="8, x", epochs="0", lr="-1", noise="lots")
    assert form.spec is None
    fields = {e.field for e in form.errors}
    assert {"hidden", "epochs", "lr", "noise"} <= fields
    hidden = form.error_for("hidden")
    assert hidden is not None and hidden.message == train_form.HIDDEN_FORMAT
    assert form.values["hidden"] == "8, x"  # kept as typed
    lr = form.error_for("lr")
    # pydantic's sentence as a catalog message, so a Japanese page translates it too
    assert lr is not None and isinstance(lr.message, Message)
    assert str(lr.message) == "Input should be greater than 0"
    assert str(lr.label) == "Learning rate"


def test_a_whole_spec_problem_is_a_general_error_naming_the_fix() -> None:
    form = submit(layer_lrs="fc7=0.1")
    assert form.spec is None
    (error,) = form.general_errors
    text = str(error.message)
    assert "unknown layers ['fc7']" in text and "Value error" not in text
    assert isinstance(error.message, Message)  # the validator's own sentence, translatable
    bad = submit(layer_lrs="fc0")
    assert bad.error_for("layer_lrs") is not None


def test_refused_keeps_the_values_and_adds_the_reason() -> None:
    form = submit(epochs="5000")
    assert form.spec is not None
    refused = form.refused(ValueError("epochs is 5000, the limit is 1000"))
    assert refused.spec is None and refused.values["epochs"] == "5000"
    assert [str(e.message) for e in refused.general_errors] == ["epochs is 5000, the limit is 1000"]


def test_a_number_too_long_to_be_one_is_a_field_error_before_conversion() -> None:
    # int() refuses over 4,300 digits (a ValueError that was a 500); 401 digits overflowed.
    form = submit(hidden="9" * 5000, n_samples="9" * 401, lr="1" * 5000,
                  layer_lrs="out=" + "1" * 5000, beta1="9" * 40)
    assert form.spec is None
    for name in ("hidden", "n_samples", "lr", "layer_lrs", "beta1"):
        error = form.error_for(name)
        assert error is not None and "too long for a number" in str(error.message), name
    assert form.values["n_samples"] == "9" * 401  # shown as typed
    assert submit(seed="9" * 32).error_for("seed") is not None  # in length, out of range


def test_odd_numbers_are_field_errors() -> None:
    for value in ("-5", "1.5", "nan", "inf", "-inf", "١٢٣", "1e999", "0x10", " "):
        form = submit(epochs=value, noise=value, hidden=value)
        assert form.spec is None or not value.strip(), value  # blank: the spec's defaults
        assert all(e.field in ("epochs", "noise", "hidden") for e in form.errors), value
