"""The training form of ``/train``: its fields as flat strings, to and from a TrainSpec.

A browser form sends flat ``name=value`` pairs (and nothing for an unchecked box); the spec
is nested pydantic. ``parse`` builds the spec's JSON from the fields, leaves out settings
the chosen optimizer or scheduler does not use (so switching the optimizer never trips
over a field that belongs to another), and turns pydantic's errors into errors of the
form's fields. Option labels are English msgids marked with ``N_``; an error is a Message
(app/message.py), pydantic's too (app/validation.py), with the label of its field, so the
page shows both in its language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import ValidationError

from app.jsonmodel import FROM_TEXT
from app.message import N_, Message, Text
from app.training.spec import (
    DEFAULT_LR,
    REGRESSION_SETS,
    Activation,
    OptimizerName,
    TrainSpec,
)
from app.validation import explain


def _num(value: float) -> str:
    """A number as a person would type it: 0.1, 1e-05, 30."""
    return f"{value:g}"


# A select's options: (value, label msgid).
DATASETS: tuple[tuple[str, str], ...] = (
    ("moons", N_("Two moons (2-D, 2 classes)")),
    ("circles", N_("Circles (2-D, 2 classes)")),
    ("spirals", N_("Spirals (2-D, classes you choose)")),
    ("xor", N_("XOR (2-D, 2 classes)")),
    ("blobs", N_("Gaussian blobs (2-D, classes you choose)")),
    ("sine", N_("Sine wave (1-D regression)")),
    ("linear", N_("Line with noise (1-D regression)")),
    ("digits", N_("Digits (8x8 images, 10 classes)")),
)
LOSSES: tuple[tuple[str, str], ...] = (
    ("auto", N_("Automatic (from the data set)")),
    ("cross_entropy", N_("Cross-entropy")),
    ("bce_with_logits", N_("Binary cross-entropy with logits (2 classes)")),
    ("bce", N_("Binary cross-entropy on a sigmoid output (2 classes)")),
    ("mse", N_("Mean squared error")),
    ("l1", N_("L1 (mean absolute error)")),
    ("huber", N_("Huber")),
    ("smooth_l1", N_("Smooth L1")),
)
OPTIMIZERS: tuple[tuple[str, str], ...] = (
    ("sgd", N_("SGD (with momentum and Nesterov if you set them)")),
    ("adam", "Adam"),
    ("adamw", "AdamW"),
    ("rmsprop", "RMSprop"),
    ("adagrad", "Adagrad"),
    ("adadelta", "Adadelta"),
)
SCHEDULERS: tuple[tuple[str, str], ...] = (
    ("none", N_("None (constant learning rate)")),
    ("step", N_("StepLR (decay every few epochs)")),
    ("cosine", N_("Cosine annealing")),
    ("warmup", N_("Linear warm-up")),
)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
assert {v for v, _ in OPTIMIZERS} == set(get_args(OptimizerName))

# Everything the template needs to draw the selects and the learning-rate hint.
OPTIONS: dict[str, object] = {
    "datasets": DATASETS, "losses": LOSSES, "optimizers": OPTIMIZERS,
    "schedulers": SCHEDULERS, "activations": ACTIVATIONS, "devices": DEVICES,
    "default_lrs": ", ".join(f"{name} {lr:g}" for name, lr in DEFAULT_LR.items()),
}

CHECKBOXES = ("batch_norm", "nesterov", "shuffle", "drop_last", "mixed_precision")
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")
BETAS_OPTIMIZERS = ("adam", "adamw")
CLASS_COUNT_SETS = ("blobs", "spirals")
# The form has 34 fields; a body with many more is not this form.
MAX_FIELDS = 64
# Fields holding one number. Each is refused as too long before anything converts it: the
# longest real value is a float such as 0.000123 or 1e-05, while a 5,000-digit width once
# reached int() (which refuses over 4,300 digits) and was a 500.
NUMBER_FIELDS = ("n_samples", "noise", "n_classes", "validation_fraction", "dropout", "lr",
                 "momentum", "beta1", "beta2", "weight_decay", "step_size", "gamma", "min_lr",
                 "warmup_steps", "warmup_start_factor", "epochs", "batch_size", "grad_clip",
                 "grad_accumulation", "seed", "log_every")
MAX_NUMBER_CHARS = 32

# Where pydantic reports a problem (its ``loc``) -> the form field that holds the value.
FIELD_OF_LOC: dict[tuple[str | int, ...], str] = {
    ("dataset", "name"): "dataset", ("dataset", "n_samples"): "n_samples",
    ("dataset", "noise"): "noise", ("dataset", "n_classes"): "n_classes",
    ("dataset", "validation_fraction"): "validation_fraction",
    ("model", "hidden"): "hidden", ("model", "activation"): "activation",
    ("model", "dropout"): "dropout", ("model", "batch_norm"): "batch_norm",
    ("loss",): "loss", ("optimizer", "name"): "optimizer", ("optimizer", "lr"): "lr",
    ("optimizer", "momentum"): "momentum", ("optimizer", "nesterov"): "nesterov",
    ("optimizer", "betas", 0): "beta1", ("optimizer", "betas", 1): "beta2",
    ("optimizer", "weight_decay"): "weight_decay", ("optimizer", "layer_lrs"): "layer_lrs",
    ("scheduler", "name"): "scheduler", ("scheduler", "step_size"): "step_size",
    ("scheduler", "gamma"): "gamma", ("scheduler", "min_lr"): "min_lr",
    ("scheduler", "warmup_steps"): "warmup_steps",
    ("scheduler", "warmup_start_factor"): "warmup_start_factor",
    ("epochs",): "epochs", ("batch_size",): "batch_size", ("shuffle",): "shuffle",
    ("drop_last",): "drop_last", ("grad_clip",): "grad_clip",
    ("grad_accumulation",): "grad_accumulation", ("mixed_precision",): "mixed_precision",
    ("seed",): "seed", ("device",): "device", ("log_every",): "log_every",
}

HIDDEN_FORMAT = Message("Write the hidden layer widths as whole numbers separated by commas, "
                        "e.g. 16, 16 (leave empty for no hidden layer).")
LAYER_LRS_FORMAT = Message("Write per-layer learning rates as name=value pairs separated by "
                           "commas, e.g. fc0=0.05, out=0.01.")

# The label the student sees beside each field (msgids; the template translates them). The
# form draws its labels from here, and errors name fields by them, never by their internal
# names ("Batch size", not "batch_size").
LABELS: dict[str, str] = {
    "dataset": N_("Data set"), "n_samples": N_("Samples"), "noise": N_("Noise"),
    "n_classes": N_("Classes"), "validation_fraction": N_("Validation share"),
    "hidden": N_("Hidden layer widths"), "activation": N_("Activation"),
    "dropout": N_("Dropout"), "batch_norm": N_("Batch norm after each hidden layer"),
    "loss": N_("Loss"), "optimizer": N_("Optimizer"), "lr": N_("Learning rate"),
    "momentum": N_("Momentum"), "nesterov": N_("Nesterov momentum (SGD)"),
    "beta1": N_("Beta 1"), "beta2": N_("Beta 2"), "weight_decay": N_("Weight decay"),
    "layer_lrs": N_("Per-layer learning rates"), "scheduler": N_("Scheduler"),
    "step_size": N_("Step size (epochs)"), "gamma": N_("Decay factor (gamma)"),
    "min_lr": N_("Final learning rate"), "warmup_steps": N_("Warm-up steps"),
    "warmup_start_factor": N_("Start factor"), "epochs": N_("Epochs"),
    "batch_size": N_("Batch size"), "grad_accumulation": N_("Gradient accumulation"),
    "grad_clip": N_("Clip gradient norm at"), "seed": N_("Seed"), "device": N_("Device"),
    "log_every": N_("Report every n-th step"), "shuffle": N_("Shuffle every epoch"),
    "drop_last": N_("Drop the last, smaller batch"), "mixed_precision": N_("Mixed precision"),
}


def field_label(name: str) -> str:
    """The visible label (a msgid) of the form field ``name``: what an error calls it.
    A name without a label (none today) is shown as it is."""
    return LABELS.get(name, name)


@dataclass(frozen=True)
class FieldError:
    field: str | None  # None: about the run as a whole
    message: Text

    @property
    def label(self) -> str | None:
        """The field's visible label (a msgid), for the error summary."""
        return field_label(self.field) if self.field else None


@dataclass
class TrainForm:
    values: dict[str, str]  # what the form shows, as typed
    spec: TrainSpec | None = None
    errors: list[FieldError] = field(default_factory=list)

    def error_for(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.field == name), None)

    @property
    def general_errors(self) -> list[FieldError]:
        return [e for e in self.errors if e.field is None]

    def refused(self, reason: Exception) -> TrainForm:
        """The same form, with why the server would not start its run."""
        said = getattr(reason, "said", None)
        message = said if isinstance(said, Message) else str(reason)
        return TrainForm(self.values, None, [*self.errors, FieldError(None, message)])


def values_of(spec: TrainSpec, *, loss: str | None = None) -> dict[str, str]:
    """The form's fields showing ``spec``."""
    o, s, d, m = spec.optimizer, spec.scheduler, spec.dataset, spec.model
    flags = {"batch_norm": m.batch_norm, "nesterov": o.nesterov, "shuffle": spec.shuffle,
             "drop_last": spec.drop_last, "mixed_precision": spec.mixed_precision}
    return {
        "dataset": d.name, "n_samples": str(d.n_samples), "noise": _num(d.noise),
        "n_classes": str(d.n_classes), "validation_fraction": _num(d.validation_fraction),
        "hidden": ", ".join(str(w) for w in m.hidden), "activation": m.activation,
        "dropout": _num(m.dropout), "loss": loss or spec.loss, "optimizer": o.name,
        "lr": "" if o.lr is None else _num(o.lr), "momentum": _num(o.momentum),
        "beta1": _num(o.betas[0]), "beta2": _num(o.betas[1]),
        "weight_decay": _num(o.weight_decay),
        "layer_lrs": ", ".join(f"{k}={_num(v)}" for k, v in o.layer_lrs.items()),
        "scheduler": s.name, "step_size": str(s.step_size), "gamma": _num(s.gamma),
        "min_lr": _num(s.min_lr), "warmup_steps": str(s.warmup_steps),
        "warmup_start_factor": _num(s.warmup_start_factor), "epochs": str(spec.epochs),
        "batch_size": str(spec.batch_size),
        "grad_clip": "" if spec.grad_clip is None else _num(spec.grad_clip),
        "grad_accumulation": str(spec.grad_accumulation), "seed": str(spec.seed),
        "device": spec.device, "log_every": str(spec.log_every),
        **{name: "on" if on else "" for name, on in flags.items()},
    }


# What one click on "Train" runs: a small network on the moons, which it learns in a few
# seconds; the loss picks itself from the data set.
DEFAULTS: dict[str, str] = values_of(TrainSpec(epochs=30), loss="auto")


def default_form() -> TrainForm:
    return TrainForm(dict(DEFAULTS))


def form_of(spec: TrainSpec) -> TrainForm:
    """The form filled in with an earlier run's spec ("train again with changes")."""
    return TrainForm(values_of(spec))


def parse(fields: Mapping[str, str]) -> TrainForm:
    """The spec of a submitted form, or the form's errors (values kept as typed)."""
    values = {name: str(fields.get(name, "")).strip() for name in DEFAULTS}
    for name in CHECKBOXES:
        values[name] = "on" if fields.get(name) else ""
    too_long = [name for name in NUMBER_FIELDS if len(values[name]) > MAX_NUMBER_CHARS]
    errors = [_too_long(name, values[name]) for name in too_long]
    # Sent blank (the spec's default) so the value is never converted; the error stops the run.
    payload = _payload({**values, **dict.fromkeys(too_long, "")}, errors)
    try:
        spec = TrainSpec.model_validate(payload, context=FROM_TEXT)  # form fields are text
    except ValidationError as invalid:
        # Reported with the format errors found above, so one submit shows every problem.
        errors += [_field_error(e) for e in invalid.errors()]
        spec = None
    return TrainForm(values, None if errors else spec, errors)


def _payload(v: dict[str, str], errors: list[FieldError]) -> dict[str, Any]:
    """The spec's JSON from the fields; blank fields take the spec's defaults."""
    def given(*names: str) -> dict[str, str]:
        return {n: v[n] for n in names if v[n] != ""}

    dataset = {"name": v["dataset"], **given("n_samples", "noise", "validation_fraction")}
    if v["dataset"] in CLASS_COUNT_SETS:
        dataset |= given("n_classes")
    model: dict[str, Any] = {**given("activation", "dropout"), "batch_norm": bool(v["batch_norm"])}
    model["hidden"] = _widths(v["hidden"], errors)
    optimizer: dict[str, Any] = {"name": v["optimizer"], **given("lr", "weight_decay")}
    if v["optimizer"] in MOMENTUM_OPTIMIZERS:
        optimizer |= given("momentum")
    if v["optimizer"] == "sgd":
        optimizer["nesterov"] = bool(v["nesterov"])
    if v["optimizer"] in BETAS_OPTIMIZERS:
        optimizer["betas"] = [v["beta1"] or "0.9", v["beta2"] or "0.999"]
    optimizer["layer_lrs"] = _layer_lrs(v["layer_lrs"], errors)
    scheduler = {"name": v["scheduler"], **given(*{
        "step": ("step_size", "gamma"), "cosine": ("min_lr",),
        "warmup": ("warmup_steps", "warmup_start_factor"),
    }.get(v["scheduler"], ()))}
    loss = v["loss"]
    if loss in ("", "auto"):
        loss = "mse" if v["dataset"] in REGRESSION_SETS else "cross_entropy"
    return {
        "dataset": dataset, "model": model, "loss": loss, "optimizer": optimizer,
        "scheduler": scheduler,
        **given("epochs", "batch_size", "grad_clip", "grad_accumulation", "seed", "device",
                "log_every"),
        "shuffle": bool(v["shuffle"]), "drop_last": bool(v["drop_last"]),
        "mixed_precision": bool(v["mixed_precision"]),
    }


def _too_long(name: str, value: str) -> FieldError:
    return FieldError(name, Message("{n:,} characters is too long for a number: type at most "
                                    "{limit} characters, e.g. 100 or 0.01.", n=len(value),
                                    limit=MAX_NUMBER_CHARS))


def _widths(text: str, errors: list[FieldError]) -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", text) if p]
    if any(len(p) > MAX_NUMBER_CHARS for p in parts):
        errors.append(_too_long("hidden", max(parts, key=len)))
        return []
    if not all(p.isascii() and p.isdigit() for p in parts):
        errors.append(FieldError("hidden", HIDDEN_FORMAT))
        return []
    return [int(p) for p in parts]


def _layer_lrs(text: str, errors: list[FieldError]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in (p.strip() for p in re.split(r"[,;\n]+", text)):
        if not part:
            continue
        name, sep, value = (x.strip() for x in part.partition("="))
        if not sep or not name or not value:
            errors.append(FieldError("layer_lrs", LAYER_LRS_FORMAT))
            return {}
        if len(value) > MAX_NUMBER_CHARS:
            errors.append(_too_long("layer_lrs", value))
            return {}
        pairs[name] = value
    return pairs


def _field_error(error: Any) -> FieldError:
    loc = tuple(error.get("loc", ()))
    name = FIELD_OF_LOC.get(loc) or FIELD_OF_LOC.get(loc[:2]) or FIELD_OF_LOC.get(loc[:1])
    return FieldError(name, explain(error))
