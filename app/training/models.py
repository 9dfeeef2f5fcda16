"""The MLP a run trains, with named layers so parameters read ``fc0.weight``, ``out.bias``."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from app.training.spec import ModelSpec

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
}


def build_mlp(
    in_features: int, spec: ModelSpec, out_features: int, *, probability_output: bool = False
) -> nn.Sequential:
    """fc_i -> [bn_i] -> act_i -> [drop_i] per hidden width, then ``out``.

    ``probability_output`` appends a Sigmoid (for BCELoss, which takes probabilities). Layers
    are created in order, so under the same torch.manual_seed this draws the same initial
    weights as a hand-written ``nn.Sequential(nn.Linear, nn.ReLU, ...)`` of the same shape.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    width_in = in_features
    for i, width in enumerate(spec.hidden):
        layers[f"fc{i}"] = nn.Linear(width_in, width)
        if spec.batch_norm:
            layers[f"bn{i}"] = nn.BatchNorm1d(width)
        layers[f"act{i}"] = _ACTIVATIONS[spec.activation]()
        if spec.dropout > 0:
            layers[f"drop{i}"] = nn.Dropout(spec.dropout)
        width_in = width
    layers["out"] = nn.Linear(width_in, out_features)
    if probability_output:
        layers["prob"] = nn.Sigmoid()
    return nn.Sequential(layers)


def layer_of(parameter_name: str) -> str:
    """The layer a parameter's learning rate follows: bn_i trains with fc_i."""
    module = parameter_name.split(".", 1)[0]
    return "fc" + module[2:] if module.startswith("bn") else module


def parameter_groups(
    model: nn.Module, base_lr: float, layer_lrs: dict[str, float]
) -> list[dict[str, object]]:
    """Optimizer param groups: one per layer named in ``layer_lrs`` (with its lr), and one
    group ``default`` for every other parameter. Layers that share the base lr share a group
    because each group costs a pass of the optimizer's per-group code every step (with three
    groups, Adam's step was ~7% of a small run's time)."""
    groups: OrderedDict[str, list[nn.Parameter]] = OrderedDict()
    for name, param in model.named_parameters():
        layer = layer_of(name)
        groups.setdefault(layer if layer in layer_lrs else "default", []).append(param)
    return [
        {"params": params, "lr": layer_lrs.get(group, base_lr), "name": group}
        for group, params in groups.items()
    ]
