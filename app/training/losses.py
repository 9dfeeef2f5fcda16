"""Loss functions, the targets each expects, and how a model output becomes a prediction."""

from __future__ import annotations

import torch
from torch import nn

_LOSSES: dict[str, type[nn.Module]] = {
    "mse": nn.MSELoss,
    "l1": nn.L1Loss,
    "huber": nn.HuberLoss,
    "smooth_l1": nn.SmoothL1Loss,
    "cross_entropy": nn.CrossEntropyLoss,
    "bce": nn.BCELoss,
    "bce_with_logits": nn.BCEWithLogitsLoss,
}


def make_loss(name: str) -> nn.Module:
    return _LOSSES[name]()


def targets_for(loss: str, y: torch.Tensor) -> torch.Tensor:
    """Shape the data set's targets for ``loss``: BCE losses take float labels [N, 1] like the
    model's single output; cross-entropy takes int64 class indices [N]; regression [N, 1]."""
    if loss in ("bce", "bce_with_logits"):
        return y.to(torch.float32).unsqueeze(1)  # [N] -> [N, 1]
    return y


def class_probabilities(loss: str, output: torch.Tensor) -> torch.Tensor:
    """[N, C] class probabilities from a classifier's output (C = 2 for the BCE losses)."""
    if loss == "cross_entropy":
        return torch.softmax(output.float(), dim=1)
    p1 = output.float() if loss == "bce" else torch.sigmoid(output.float())  # [N, 1]
    return torch.cat([1 - p1, p1], dim=1)  # [N, 2]


def predicted_class(loss: str, output: torch.Tensor) -> torch.Tensor:
    """int64 [N] predicted labels, without computing probabilities where not needed."""
    if loss == "cross_entropy":
        return output.argmax(dim=1)
    threshold = 0.5 if loss == "bce" else 0.0  # BCE outputs probabilities, the other logits
    return (output[:, 0] > threshold).long()
