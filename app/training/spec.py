"""What a client asks for when it starts a training run, and the plan derived from it.

The spec is plain pydantic (no torch import), so the web process can validate a run and check
its limits before it takes a worker; the worker validates the same payload again because it
must not trust what reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.config import Settings
from app.jsonmodel import JsonModel
from app.message import Message
from app.validation import MessageError

DatasetName = Literal["moons", "circles", "spirals", "xor", "blobs", "sine", "linear", "digits"]
LossName = Literal["mse", "cross_entropy", "bce", "bce_with_logits", "l1", "huber", "smooth_l1"]
OptimizerName = Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"]
SchedulerName = Literal["none", "step", "cosine", "warmup"]
Activation = Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "silu", "elu"]
Task = Literal["classification", "regression"]

TWO_D_SETS = ("moons", "circles", "spirals", "xor", "blobs")
REGRESSION_SETS = ("sine", "linear")
# sklearn's bundled 8x8 digits: 1,797 images of 64 pixels, 10 classes.
DIGITS_SAMPLES = 1797
DIGITS_FEATURES = 64
DIGITS_CLASSES = 10

CLASSIFICATION_LOSSES = ("cross_entropy", "bce", "bce_with_logits")
REGRESSION_LOSSES = ("mse", "l1", "huber", "smooth_l1")
BINARY_LOSSES = ("bce", "bce_with_logits")

# Learning rate used when the spec leaves it out: a value that trains the built-in sets in a
# few dozen epochs with each optimizer (Adadelta is designed around lr=1).
DEFAULT_LR: dict[str, float] = {
    "sgd": 0.1,
    "adam": 0.01,
    "adamw": 0.01,
    "rmsprop": 0.01,
    "adagrad": 0.1,
    "adadelta": 1.0,
}

# Upper bound of every count in a spec (samples, epochs, steps). JSON integers have no size
# limit, and a 401-digit n_samples once overflowed float arithmetic in plan() (a 500). This
# is the schema's sanity bound (a 422); the server's own, far lower limits are the train_max_*
# settings, checked by check_limits (a 413 naming the setting).
MAX_COUNT = 2**31 - 1
MAX_HIDDEN_LAYERS = 8

# Unknown fields are typos to report, not to ignore; and Python's JSON parser accepts NaN and
# Infinity, which no setting here means.
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


class DatasetSpec(JsonModel):
    model_config = _STRICT

    name: DatasetName = Field(
        "moons",
        description="2-D classification: moons, circles, spirals, xor, blobs. 1-D regression: "
        "sine, linear. digits: scikit-learn's bundled 8x8 digit images (64 inputs, 10 classes).",
    )
    n_samples: int = Field(
        1000, ge=10, le=MAX_COUNT,
        description="Samples generated (train + validation); digits has at most 1,797.",
    )
    noise: float = Field(
        0.1,
        ge=0,
        le=2,
        description="Std of the Gaussian noise added to the points (blobs: added to a cluster "
        "std of 0.5; ignored by digits).",
    )
    n_classes: int = Field(
        3, ge=2, le=10, description="Classes of blobs and spirals (the other sets are fixed)."
    )
    validation_fraction: float = Field(
        0.2, ge=0, le=0.5, description="Share of the samples held out for validation."
    )


class ModelSpec(JsonModel):
    model_config = _STRICT

    hidden: list[int] = Field(
        [16, 16],
        max_length=MAX_HIDDEN_LAYERS,
        description="Widths of the hidden layers (fc0, fc1, ...); the output layer is 'out'.",
    )
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout after each hidden activation.")
    batch_norm: bool = Field(False, description="BatchNorm1d after each hidden linear layer.")

    @model_validator(mode="after")
    def _widths_positive(self) -> ModelSpec:
        if any(w < 1 or w > 4096 for w in self.hidden):
            raise MessageError(Message("every hidden width must be between 1 and 4096"))
        return self


# The bounds _consistent() checks, stated in the schema too (schemathesis sent a layer_lrs
# value of 0 that the schema allowed and the server refused).
Beta = Annotated[float, Field(ge=0, lt=1)]
LayerName = Annotated[str, StringConstraints(pattern=r"^(fc[0-9]{1,2}|out)$")]
LayerLr = Annotated[float, Field(gt=0, le=10)]


class OptimizerSpec(JsonModel):
    model_config = _STRICT

    name: OptimizerName = "adam"
    lr: float | None = Field(
        None, gt=0, le=10, description="Learning rate; left out: a per-optimizer default."
    )
    momentum: float = Field(0.0, ge=0, lt=1, description="SGD and RMSprop only.")
    nesterov: bool = Field(False, description="SGD only; needs momentum > 0.")
    betas: tuple[Beta, Beta] = Field((0.9, 0.999), description="Adam and AdamW only.")
    weight_decay: float = Field(0.0, ge=0, le=1)
    layer_lrs: dict[LayerName, LayerLr] = Field(
        {},
        max_length=MAX_HIDDEN_LAYERS + 1,
        description="Per-layer learning rates (one optimizer param group per layer), keyed by "
        "layer name: fc0, fc1, ... for hidden layers (their batch norm follows them), out for "
        "the output layer. Layers not named use lr.",
    )

    @property
    def base_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.name]

    @model_validator(mode="after")
    def _consistent(self) -> OptimizerSpec:
        if self.nesterov and (self.name != "sgd" or self.momentum <= 0):
            raise MessageError(Message("nesterov needs optimizer 'sgd' with momentum > 0 (e.g. "
                                       "0.9)"))
        if self.momentum and self.name not in ("sgd", "rmsprop"):
            raise MessageError(Message("momentum applies to sgd and rmsprop, not {name}: set it "
                                       "to 0", name=self.name))
        if not all(0 <= b < 1 for b in self.betas):
            raise MessageError(Message("betas must each be in [0, 1)"))
        for name, lr in self.layer_lrs.items():
            if not 0 < lr <= 10:
                raise MessageError(Message("layer_lrs[{name!r}] must be in (0, 10]", name=name))
        return self


class SchedulerSpec(JsonModel):
    """Every scheduler steps once per optimizer step, so its shape does not depend on how a
    step is counted; StepLR's step_size is given in epochs because that is how people think
    of it."""

    model_config = _STRICT

    name: SchedulerName = "none"
    step_size: int = Field(10, ge=1, le=MAX_COUNT, description="step: epochs between lr decays.")
    gamma: float = Field(0.5, gt=0, le=1, description="step: factor of each decay.")
    min_lr: float = Field(0.0, ge=0, description="cosine: lr at the last step.")
    warmup_steps: int = Field(
        100, ge=1, le=MAX_COUNT, description="warmup: optimizer steps to reach lr."
    )
    warmup_start_factor: float = Field(
        0.01, gt=0, le=1, description="warmup: the first step's lr as a fraction of lr."
    )


EXAMPLE_SPEC = {
    "dataset": {"name": "moons", "n_samples": 1000, "noise": 0.15},
    "model": {"hidden": [16, 16], "activation": "relu"},
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.01},
    "scheduler": {"name": "cosine"},
    "epochs": 30,
    "batch_size": 32,
    "seed": 0,
}


class TrainSpec(JsonModel):
    """One training run. Reproducible: the same spec and seed give the same loss curve on the
    same device (data from a torch.Generator seeded with ``seed``, model init and dropout from
    ``torch.manual_seed(seed)``, shuffling from a generator seeded with ``seed + 1``)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                EXAMPLE_SPEC,
                {
                    "dataset": {"name": "digits"},
                    "model": {"hidden": [64], "dropout": 0.1, "batch_norm": True},
                    "loss": "cross_entropy",
                    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True,
                                  "layer_lrs": {"out": 0.01}},
                    "scheduler": {"name": "step", "step_size": 5, "gamma": 0.5},
                    "epochs": 15,
                    "grad_clip": 1.0,
                },
                {
                    "dataset": {"name": "sine", "n_samples": 500, "noise": 0.05},
                    "model": {"hidden": [32, 32], "activation": "tanh"},
                    "loss": "mse",
                    "optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.01},
                    "scheduler": {"name": "warmup", "warmup_steps": 50},
                    "epochs": 40,
                    "mixed_precision": True,
                },
            ]
        },
    )

    dataset: DatasetSpec = DatasetSpec()
    model: ModelSpec = ModelSpec()
    loss: LossName = "cross_entropy"
    optimizer: OptimizerSpec = OptimizerSpec()
    scheduler: SchedulerSpec = SchedulerSpec()
    epochs: int = Field(20, ge=1, le=MAX_COUNT)
    batch_size: int = Field(32, ge=1, le=65_536)
    shuffle: bool = True
    drop_last: bool = False
    grad_clip: float | None = Field(
        None, gt=0, description="Clip the total gradient norm to this value (max norm)."
    )
    grad_accumulation: int = Field(
        1, ge=1, le=64, description="Mini-batches whose gradients add up before one step."
    )
    mixed_precision: bool = Field(
        False, description="bf16 autocast on CPU; fp16 autocast with a GradScaler on CUDA."
    )
    seed: int = Field(0, ge=0, le=2**31 - 2)
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto = cuda when the server has a GPU, else cpu."
    )
    log_every: int = Field(
        1, ge=1, le=MAX_COUNT,
        description="Report every n-th optimizer step (the server also caps the rate).",
    )

    @model_validator(mode="after")
    def _compatible(self) -> TrainSpec:
        check_compatible(self)
        return self


def task_of(dataset: str) -> Task:
    return "regression" if dataset in REGRESSION_SETS else "classification"


def n_classes_of(ds: DatasetSpec) -> int:
    """Classes of a classification set (0 for regression)."""
    if ds.name in REGRESSION_SETS:
        return 0
    if ds.name == "digits":
        return DIGITS_CLASSES
    if ds.name in ("blobs", "spirals"):
        return ds.n_classes
    return 2


def check_compatible(spec: TrainSpec) -> None:
    """Refuse combinations that cannot train, naming the fix (raised as ValueError so pydantic
    turns it into a 422 with this message)."""
    ds = spec.dataset.name
    if task_of(ds) == "regression" and spec.loss in CLASSIFICATION_LOSSES:
        raise MessageError(Message(
            "loss {loss!r} is a classification loss but dataset {dataset!r} is a regression "
            "set (real-valued targets): use 'mse', 'l1', 'huber' or 'smooth_l1'",
            loss=spec.loss, dataset=ds))
    if task_of(ds) == "classification" and spec.loss in REGRESSION_LOSSES:
        raise MessageError(Message(
            "loss {loss!r} is a regression loss but dataset {dataset!r} has class labels: use "
            "'cross_entropy' (or 'bce_with_logits' for a two-class set)",
            loss=spec.loss, dataset=ds))
    classes = n_classes_of(spec.dataset)
    if spec.loss in BINARY_LOSSES and classes != 2:
        if ds in ("blobs", "spirals"):
            raise MessageError(Message(
                "loss {loss!r} needs exactly two classes but dataset {dataset!r} has "
                "{classes}: use 'cross_entropy', or set dataset.n_classes to 2",
                loss=spec.loss, dataset=ds, classes=classes))
        raise MessageError(Message(
            "loss {loss!r} needs exactly two classes but dataset {dataset!r} has {classes}: "
            "use 'cross_entropy'", loss=spec.loss, dataset=ds, classes=classes))
    layers = [f"fc{i}" for i in range(len(spec.model.hidden))] + ["out"]
    unknown = sorted(set(spec.optimizer.layer_lrs) - set(layers))
    if unknown:
        raise MessageError(Message(
            "optimizer.layer_lrs names unknown layers {unknown}: this model has {layers}",
            unknown=str(unknown), layers=str(layers)))
    p = plan(spec)
    if p.batches_per_epoch == 0:
        raise MessageError(Message(
            "batch_size {batch_size} is larger than the {n_train} training samples and "
            "drop_last is on, so no batch is left: lower batch_size or turn drop_last off",
            batch_size=spec.batch_size, n_train=p.n_train))
    if spec.model.batch_norm and not spec.drop_last and p.n_train % spec.batch_size == 1:
        raise MessageError(Message(
            "batch norm needs at least 2 samples per batch, but the last batch of each epoch "
            "has 1 ({n_train} training samples, batch_size {batch_size}): set drop_last to "
            "true or change batch_size", n_train=p.n_train, batch_size=spec.batch_size))


@dataclass(frozen=True)
class RunPlan:
    """Sizes derived from a spec without building anything (pure arithmetic)."""

    task: Task
    in_features: int
    out_features: int
    n_classes: int
    n_train: int
    n_val: int
    batches_per_epoch: int
    iterations_per_epoch: int  # optimizer steps per epoch (after gradient accumulation)
    total_iterations: int
    parameter_count: int


def plan_n_samples(ds: DatasetSpec) -> int:
    """Samples a set really has: digits cannot give more than the 1,797 it ships."""
    return min(ds.n_samples, DIGITS_SAMPLES) if ds.name == "digits" else ds.n_samples


def plan(spec: TrainSpec) -> RunPlan:
    ds = spec.dataset
    n = plan_n_samples(ds)
    n_val = int(n * ds.validation_fraction)
    n_train = n - n_val
    if ds.name == "digits":
        in_features = DIGITS_FEATURES
    elif ds.name in REGRESSION_SETS:
        in_features = 1
    else:
        in_features = 2
    classes = n_classes_of(ds)
    # One output unit for regression and the binary losses (a logit or a probability).
    out_features = 1 if classes == 0 or spec.loss in BINARY_LOSSES else classes
    size = spec.batch_size
    batches = n_train // size if spec.drop_last else math.ceil(n_train / size)
    iterations = math.ceil(batches / spec.grad_accumulation)
    return RunPlan(
        task=task_of(ds.name),
        in_features=in_features,
        out_features=out_features,
        n_classes=classes,
        n_train=n_train,
        n_val=n_val,
        batches_per_epoch=batches,
        iterations_per_epoch=iterations,
        total_iterations=iterations * spec.epochs,
        parameter_count=parameter_count(in_features, spec.model, out_features),
    )


def parameter_count(in_features: int, model: ModelSpec, out_features: int) -> int:
    """Trainable parameters of the MLP that models.build_mlp makes (tested against torch)."""
    total = 0
    width_in = in_features
    for width in model.hidden:
        total += width_in * width + width
        if model.batch_norm:
            total += 2 * width  # BatchNorm1d weight and bias; running stats are buffers
        width_in = width
    return total + width_in * out_features + out_features


class SpecLimitError(Exception):
    """A spec within the schema but over one of this server's limits (answered with 413)."""

    def __init__(self, problems: list[Message]) -> None:
        said = problems[0]
        for problem in problems[1:]:
            said = Message("{first}; {then}", first=said, then=problem)
        super().__init__(str(said))
        self.said = said


def check_limits(spec: TrainSpec, settings: Settings) -> RunPlan:
    """The plan of ``spec``, or SpecLimitError naming the limit and what to change."""
    p = plan(spec)
    problems: list[Message] = []
    if spec.dataset.n_samples > settings.train_max_samples:
        problems.append(Message("dataset.n_samples is {n}, the limit is {limit}",
                                n=spec.dataset.n_samples, limit=settings.train_max_samples))
    if spec.epochs > settings.train_max_epochs:
        problems.append(Message("epochs is {n}, the limit is {limit}", n=spec.epochs,
                                limit=settings.train_max_epochs))
    if p.parameter_count > settings.train_max_parameters:
        problems.append(Message("the model has {n:,} parameters, the limit is {limit:,}: use "
                                "narrower or fewer hidden layers", n=p.parameter_count,
                                limit=settings.train_max_parameters))
    if p.total_iterations > settings.train_max_steps:
        problems.append(Message(
            "{epochs} epochs x {per_epoch} steps per epoch = {n:,} optimizer steps, the limit "
            "is {limit:,}: use fewer epochs or a larger batch_size", epochs=spec.epochs,
            per_epoch=p.iterations_per_epoch, n=p.total_iterations,
            limit=settings.train_max_steps))
    if problems:
        raise SpecLimitError(problems)
    return p
