"""Gradient traces: what each node of the autograd graph received and sent during a backward
pass, in the order autograd ran them, with the local rule each node applies.

Captured inside the sandbox by trusted code: around a program's ``backward()`` or
``torch.autograd.grad`` (the guards in app/engine/guards.py call ``start``), hooks of ours are
registered on the graph's nodes and removed when the call returns. Security: the program never
gets a handle to them (hooks and underscore attributes of a grad_fn are refused), a stale hook
records nothing (each checks that its own call is the active one), and everything recorded is
bounded (calls, nodes per call, values per gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from app.inspect.compact import compact_tensor
from app.inspect.memo import ViewMemo
from app.message import N_

# The local rule of each common node, as a student would write it: ``grad`` is what flowed in
# (the gradient of the final output with respect to this node's result), a and b the
# forward inputs. Nodes not listed show no rule rather than a guessed one.
LOCAL_RULES: dict[str, str] = {
    "AddBackward0": N_("grad_a = grad, grad_b = grad"),
    "AddBackward1": N_("grad_a = grad"),
    "SubBackward0": N_("grad_a = grad, grad_b = −grad"),
    "SubBackward1": N_("grad_a = grad"),
    "RsubBackward1": N_("grad_a = −grad"),
    "MulBackward0": N_("grad_a = grad · b, grad_b = grad · a"),
    "MulBackward1": N_("grad_a = grad · b (b a number)"),
    "DivBackward0": N_("grad_a = grad / b, grad_b = −grad · a / b²"),
    "DivBackward1": N_("grad_a = grad / b (b a number)"),
    "NegBackward0": N_("grad_x = −grad"),
    "MmBackward0": N_("grad_A = grad @ Bᵀ, grad_B = Aᵀ @ grad"),
    "MvBackward0": N_("grad_A = grad ⊗ v (outer product), grad_v = Aᵀ @ grad"),
    "BmmBackward0": N_("grad_A = grad @ Bᵀ, grad_B = Aᵀ @ grad (per batch)"),
    "DotBackward0": N_("grad_a = grad · b, grad_b = grad · a"),
    "AddmmBackward0": N_("grad_bias = grad summed over rows, grad_A = grad @ Bᵀ, "
                         "grad_B = Aᵀ @ grad"),
    "SumBackward0": N_("grad_x = grad copied to every element of x"),
    "SumBackward1": N_("grad_x = grad copied along the summed dimensions"),
    "MeanBackward0": N_("grad_x = grad / n for every element of x (n = x.numel())"),
    "MeanBackward1": N_("grad_x = grad / n along the averaged dimensions"),
    "PowBackward0": N_("grad_x = grad · p · x^(p−1)"),
    "PowBackward1": N_("grad_x = grad · p · x^(p−1), grad_p = grad · x^p · ln(x)"),
    "PowBackward2": N_("grad_p = grad · base^p · ln(base)"),
    "ReluBackward0": N_("grad_x = grad where x > 0, else 0"),
    "SigmoidBackward0": N_("grad_x = grad · σ(x) · (1 − σ(x))"),
    "TanhBackward0": N_("grad_x = grad · (1 − tanh²(x))"),
    "ExpBackward0": N_("grad_x = grad · exp(x)"),
    "LogBackward0": N_("grad_x = grad / x"),
    "SqrtBackward0": N_("grad_x = grad / (2 · √x)"),
    "SinBackward0": N_("grad_x = grad · cos(x)"),
    "CosBackward0": N_("grad_x = −grad · sin(x)"),
    "AbsBackward0": N_("grad_x = grad · sign(x)"),
    "ClampBackward1": N_("grad_x = grad inside the bounds, else 0"),
    "MaximumBackward0": N_("grad goes to the larger input"),
    "MinimumBackward0": N_("grad goes to the smaller input"),
    "TBackward0": N_("grad_x = gradᵀ"),
    "TransposeBackward0": N_("grad_x = grad transposed back"),
    "PermuteBackward0": N_("grad_x = grad permuted back"),
    "ViewBackward0": N_("grad_x = grad reshaped to x's shape"),
    "ReshapeAliasBackward0": N_("grad_x = grad reshaped to x's shape"),
    "UnsqueezeBackward0": N_("grad_x = grad with the added dimension removed"),
    "SqueezeBackward0": N_("grad_x = grad with the removed dimensions put back"),
    "SqueezeBackward1": N_("grad_x = grad with the removed dimension put back"),
    "ExpandBackward0": N_("grad_x = grad summed over the expanded dimensions"),
    "SelectBackward0": N_("grad_x = zeros, with grad at the selected position"),
    "SliceBackward0": N_("grad_x = zeros, with grad in the selected slice"),
    "IndexBackward0": N_("grad_x = zeros, with grad added at the indexed positions"),
    "CatBackward0": N_("grad of each input = its slice of grad"),
    "StackBackward0": N_("grad of each input = its slice of grad"),
    "CloneBackward0": N_("grad_x = grad"),
    "ToCopyBackward0": N_("grad_x = grad converted back to x's dtype and device"),
    "SoftmaxBackward0": N_("grad_x = s · (grad − Σ grad · s), s = softmax(x)"),
    "LogSoftmaxBackward0": N_("grad_x = grad − softmax(x) · Σ grad"),
    "MseLossBackward0": N_("grad_x = grad · 2 · (x − y) / n"),
    "NllLossBackward0": N_("grad_x = −grad / n at each target class, else 0"),
    "BinaryCrossEntropyBackward0": N_("grad_x = grad · (x − y) / (x · (1 − x)) / n"),
    "AccumulateGrad": N_("x.grad = x.grad + grad (adds to what .grad already holds)"),
}

_ACCUMULATE = "AccumulateGrad"


def node_name(node: Any) -> str:
    # C++ nodes are named with their namespace (torch::autograd::AccumulateGrad).
    return str(node.name()).rsplit("::", 1)[-1]


@dataclass
class _Call:
    """One recorded backward pass."""

    index: int
    label: str
    line: int | None
    ids: dict[int, str] = field(default_factory=dict)  # id(node) -> "n1", for this call
    nodes: list[dict[str, Any]] = field(default_factory=list)
    leaves: dict[str, torch.Tensor] = field(default_factory=dict)  # node id -> leaf tensor
    # The hooked nodes themselves, held until the run ends so that their ids stay theirs:
    # the drawn graph finds each node's gradient by id (``flowed``). Bounded by max_nodes.
    hooked: list[Any] = field(default_factory=list)
    norms: dict[str, float] = field(default_factory=dict)  # node id -> norm of what it received
    truncated: bool = False


class GradTraceRecorder:
    """Records the backward passes of one program run (see the module docstring)."""

    def __init__(self, max_calls: int, max_nodes: int, max_values: int,
                 memo: ViewMemo | None = None) -> None:
        self.max_calls = max_calls
        self.max_nodes = max_nodes
        self.max_values = max_values
        self.memo = memo  # pictures by content, for the program's reruns
        self.calls: list[_Call] = []
        self.skipped_calls = 0
        self._active: _Call | None = None
        self._handles: list[Any] = []

    # ----------------------------------------------------------------- during the run
    def start(self, label: str, roots: Iterable[Any], line: int | None) -> Callable[[], None]:
        """Hook the graph behind ``roots`` for one call; the returned function unhooks it."""
        self.finish()  # a previous call that raised left its hooks: they go now
        if len(self.calls) >= self.max_calls:
            self.skipped_calls += 1
            return self.finish
        call = _Call(len(self.calls) + 1, label, line)
        pending = [t.grad_fn for t in roots if isinstance(t, torch.Tensor)]
        while pending:
            node = pending.pop(0)
            if node is None or id(node) in call.ids:
                continue
            if len(call.ids) >= self.max_nodes:
                call.truncated = True
                break
            node_id = call.ids[id(node)] = f"n{len(call.ids) + 1}"
            call.hooked.append(node)
            self._handles.append(node.register_hook(self._after_node(call, node, node_id)))
            if node_name(node) == _ACCUMULATE:
                self._handles.append(node.register_prehook(self._before_leaf(call, node_id)))
                variable = getattr(node, "variable", None)
                if isinstance(variable, torch.Tensor):
                    call.leaves[node_id] = variable
            pending.extend(next_node for next_node, _ in node.next_functions)
        self.calls.append(call)
        self._active = call
        return self.finish

    def finish(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._active = None

    def _view(self, tensor: Any) -> dict[str, Any] | None:
        if not isinstance(tensor, torch.Tensor):
            return None
        try:
            return compact_tensor(tensor, self.max_values, self.memo)
        except Exception:
            # Our hooks run inside the program's backward(): a gradient we cannot describe
            # must not become the program's error.
            return None

    def _before_leaf(self, call: _Call, node_id: str) -> Callable[..., None]:
        def hook(grad_outputs: tuple[Any, ...]) -> None:
            if self._active is not call:
                return
            leaf = call.leaves.get(node_id)
            grad = leaf.grad if leaf is not None else None
            call.nodes.append({"id": node_id, "grad_before": self._view(grad), "pending": True})
        return hook

    def _after_node(self, call: _Call, node: Any, node_id: str) -> Callable[..., None]:
        name = node_name(node)
        following = [n for n, _ in node.next_functions]

        def hook(grad_inputs: tuple[Any, ...], grad_outputs: tuple[Any, ...]) -> None:
            if self._active is not call:
                return
            entry: dict[str, Any] = {"id": node_id}
            if call.nodes and call.nodes[-1].get("pending") and call.nodes[-1]["id"] == node_id:
                entry = call.nodes.pop()
                entry.pop("pending")
            # Named when the node runs: every node of the call has its id by then.
            targets = [call.ids.get(id(n)) if n is not None else None for n in following]
            norm = _norm(grad_outputs[0] if grad_outputs else None)
            if norm is not None:
                call.norms[node_id] = norm
            entry.update({
                "order": len(call.nodes) + 1, "name": name, "rule": LOCAL_RULES.get(name),
                "received": [self._view(g) for g in grad_outputs],
                "sent": [{"to": target, "grad": self._view(g)}
                         for target, g in zip(targets, grad_inputs, strict=False)
                         if target is not None or g is not None],
            })
            if name == _ACCUMULATE:
                leaf = call.leaves.get(node_id)
                entry.setdefault("grad_before", None)
                entry["grad_after"] = self._view(leaf.grad if leaf is not None else None)
            call.nodes.append(entry)
        return hook

    # ------------------------------------------------------------------ after the run
    def flowed(self, node: Any) -> dict[str, Any] | None:
        """What flowed into one autograd node during the recorded calls, for the drawn graph:
        the gradient it received in the latest call that ran it (compact, with its norm),
        its local rule, and every (call, order) at which it ran (the step-backward control
        marks the drawn node at those steps). None when no recorded call reached it."""
        steps: list[list[int]] = []
        latest: dict[str, Any] | None = None
        for call in self.calls:
            node_id = call.ids.get(id(node))
            if node_id is None or not any(n is node for n in call.hooked):
                continue
            entry = next((n for n in call.nodes if n["id"] == node_id and "order" in n), None)
            if entry is None:
                continue
            steps.append([call.index, entry["order"]])
            received = entry["received"][0] if entry["received"] else None
            latest = {"received": received, "norm": call.norms.get(node_id),
                      "rule": entry["rule"], "call": call.index}
        if latest is None:
            return None
        return {**latest, "steps": steps}

    def result(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The /eval ``grad_trace`` document; leaves are named by the program's variables."""
        self.finish()
        names = {id(value): name for name, value in variables.items()
                 if isinstance(value, torch.Tensor)}
        calls = []
        for call in self.calls:
            nodes = [n for n in call.nodes if not n.get("pending")]
            contributions: dict[str, list[dict[str, Any]]] = {}
            for node in nodes:
                for sent in node["sent"]:
                    if sent["to"] is not None and sent["grad"] is not None:
                        contributions.setdefault(sent["to"], []).append(
                            {"from": node["id"], "grad": sent["grad"]})
            for node in nodes:
                node["contributions"] = len(contributions.get(node["id"], []))
                if node["name"] == _ACCUMULATE:
                    leaf = call.leaves.get(node["id"])
                    node["leaf"] = names.get(id(leaf)) if leaf is not None else None
            seed = nodes[0]["received"] if nodes else []
            calls.append({"index": call.index, "call": call.label, "line": call.line,
                          "grad_outputs": seed, "nodes": nodes, "truncated": call.truncated})
        return {"calls": calls, "skipped_calls": self.skipped_calls}


# Gradients up to this many elements have their norm summed in float64 (an 8 MB copy at
# most); larger ones in their own dtype, without a copy.
_WIDENED_NORM_ELEMENTS = 1 << 20


def _norm(grad: Any) -> float | None:
    """The gradient's 2-norm. Each hooked node once paid for .abs().double() of any size
    (three times the gradient's memory, 160 ms for 16 million elements): 40 multiplications
    of one such tensor made a 2-second backward take 9 s, past the deadline, and held memory
    that no budget counts. Past _WIDENED_NORM_ELEMENTS the norm is reduced in the
    gradient's own dtype (float32 sums: about 1e-4 relative error at 4 million elements)."""
    if not isinstance(grad, torch.Tensor) or grad.numel() == 0:
        return None
    try:
        detached = grad.detach()
        if detached.numel() <= _WIDENED_NORM_ELEMENTS:
            # Reduced in float64 without a float64 copy; a complex gradient's magnitudes first
            # (vector_norm takes no real dtype for complex input).
            widened = detached.abs() if detached.is_complex() else detached
            value = float(torch.linalg.vector_norm(widened, dtype=torch.float64))
        else:
            value = float(torch.linalg.vector_norm(detached))
    except Exception:
        return None  # inside the program's backward(): never its error
    return value if math.isfinite(value) else None
