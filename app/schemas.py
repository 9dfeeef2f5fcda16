"""The JSON contract of /eval (DESIGN.md section 3), as pydantic models.

The worker writes the response JSON itself (no tensors cross the process boundary and the
web process does not re-encode it); these models document the contract in OpenAPI and
validate requests.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.jsonmodel import JsonModel

EXAMPLE_PROGRAM = ("A = torch.tensor([[1, 2, 3], [4, 5, 6]])\n"
                   "B = torch.tensor([[1, 4], [2, 5], [3, 6]])\n"
                   "torch.mm(A, B)")


class EvalRequest(JsonModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": EXAMPLE_PROGRAM, "seed": 0, "device": "auto"}]},
    )

    code: str = Field(
        description="A small Python-syntax PyTorch program. The value of the last expression "
        "statement, if any, is the result.",
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="torch.manual_seed for this program.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        description="Default device for tensors the program creates. auto: PyTorch's own "
        "default (CPU); the program moves work to the GPU itself, e.g. "
        "x.to('cuda' if torch.cuda.is_available() else 'cpu'). cuda: tensors are created on "
        "the GPU (on a server without one: the CPU, with a notice, or an error when the "
        "server's cuda_fallback setting says so).",
    )
    repeat: int = Field(
        1, ge=1, le=50,
        description="Run the program this many extra times to time it (compare mode): the "
        "response gains timing {repeats, median_ms, min_ms, max_ms, spread_ms}, CUDA "
        "synchronised. All runs share the one deadline.",
    )


class Storage(BaseModel):
    id: str = Field(description="Per-request storage label (s1, s2 ...), never an address.")
    offset: int
    stride: list[int]
    contiguous: bool
    version: int = Field(description="The tensor's version counter (bumped by in-place ops).")
    shares_with: list[str] = Field(description="Other variables viewing the same storage.")
    nbytes: int


class View(BaseModel):
    """One value, described as plain data. ``kind`` tells which other fields are present."""

    model_config = ConfigDict(extra="allow")

    kind: Literal[
        "tensor", "scalar", "shape", "dtype", "device", "list", "tuple", "dict", "module",
        "ndarray", "none", "text",
    ]


class Step(BaseModel):
    line: int
    source: str
    value: View | None = None
    stdout: str = ""


class GraphNode(BaseModel):
    id: str
    label: str
    kind: Literal["leaf", "op", "output"]
    var: str | None = None
    grad: View | None = None
    backward: dict[str, Any] | None = Field(
        None, description="After a recorded backward pass: {received (the gradient that "
        "flowed in, as SmallTensor), norm, rule, call, steps: [[call index, order], ...]}.")


class GraphEdge(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


class Graph(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class SmallTensor(BaseModel):
    """A tensor in the traces: its first values (row-major), bounded by max_trace_values."""

    shape: list[int]
    dtype: str
    values: list[Any]
    more: bool = Field(description="True when the tensor has more values than shown.")


class FrameVariable(BaseModel):
    name: str
    kind: Literal["tensor", "value"]
    type: str
    change: Literal["new", "inplace", "rebound", "changed"] | None = Field(
        description="Since the previous frame: new name; in-place change (same tensor, "
        "version went up); rebound to another tensor; other contents; or null (unchanged).")
    text: str | None = Field(None, description="A non-tensor value's bounded repr.")
    shape: list[int] | None = None
    dtype: str | None = None
    values: list[Any] | None = None
    more: bool | None = None
    version: int | None = Field(None, description="The tensor's version counter.")
    requires_grad: bool | None = None
    grad_fn: str | None = None
    storage: str | None = Field(None, description="Storage label (S1, S2 ...) within this "
                                "frame: equal labels share memory.")


class SharedStorage(BaseModel):
    storage: str
    names: list[str]


class Frame(BaseModel):
    index: int
    line: int
    source: str
    iteration: int | None = Field(None, description="The loop pass (1, 2 ...) when this "
                                  "frame ends a pass of a top-level loop.")
    variables: list[FrameVariable]
    removed: list[str] = Field(description="Names deleted since the previous frame.")
    shared: list[SharedStorage] = Field(description="Variables that share one storage.")


class StepTrace(BaseModel):
    frames: list[Frame]
    truncated: bool = Field(description="More statements ran than max_trace_frames.")
    skipped_iterations: int = Field(description="Loop passes beyond max_trace_iterations, "
                                    "not shown as frames.")


class SentGradient(BaseModel):
    to: str | None = Field(description="The id of the node it went to (null: no node, "
                           "an input that needs no gradient or was beyond the bound).")
    grad: SmallTensor | None


class GradNode(BaseModel):
    id: str
    order: int = Field(description="1 for the first node autograd ran, then 2, 3 ...")
    name: str = Field(description="The node's class: MulBackward0, AccumulateGrad ...")
    rule: str | None = Field(description="Its local rule (grad_a = grad · b), null when not "
                             "in our table.")
    received: list[SmallTensor | None] = Field(description="The gradient that flowed in, "
                                               "one per forward output.")
    sent: list[SentGradient] = Field(description="The gradient sent on, one per input.")
    contributions: int = Field(description="How many nodes sent this node a gradient in "
                               "this call (2 or more: they were summed).")
    grad_before: SmallTensor | None = Field(None, description="AccumulateGrad: the leaf's "
                                            ".grad before this call.")
    grad_after: SmallTensor | None = Field(None, description="AccumulateGrad: after it.")
    leaf: str | None = Field(None, description="AccumulateGrad: the leaf's variable name.")


class GradCall(BaseModel):
    index: int
    call: Literal["backward()", "torch.autograd.grad"]
    line: int | None
    grad_outputs: list[SmallTensor | None] = Field(description="The gradient the pass "
                                                   "started from (1.0 for a scalar).")
    nodes: list[GradNode]
    truncated: bool = Field(description="The graph had more nodes than "
                            "max_grad_trace_nodes; the rest are not recorded.")


class GradTrace(BaseModel):
    calls: list[GradCall]
    skipped_calls: int = Field(description="Calls beyond max_grad_trace_calls, not recorded.")


class ProvenanceInput(BaseModel):
    name: str | None = Field(description="The program's variable that held this input when "
                             "the operation ran (null: an unnamed expression).")
    shape: list[int]
    values: list[Any] = Field(description="Its values, row-major (at most "
                              "max_provenance_cells in all the inputs together).")


class Provenance(BaseModel):
    """Where each number of one tensor came from (the result, or a variable)."""

    target: str = Field(description='"result", or the name of the variable it describes.')
    op: str = Field(description="The operation that made it: torch.stack, Tensor.view, "
                    "indexing, operator mul, operator matmul ...")
    line: int | None
    kind: Literal["move", "elementwise", "matmul"] = Field(
        description="move: each output cell is one input value (sources[c] = [input, flat "
        "index]); elementwise: each output cell combines one value of each tensor input, "
        "after broadcasting (sources[c] = [flat index in input 0, in input 1 ...]); matmul: "
        "output (i, j) is row i of input 0 times column j of input 1 (sources is null).")
    shape: list[int] = Field(description="The output's shape (at most max_provenance_cells "
                             "cells).")
    values: list[Any] = Field(description="The output's values, row-major.")
    inputs: list[ProvenanceInput]
    sources: list[list[int]] | None = Field(description="One entry per output cell, "
                                            "row-major; see kind.")


class MessageId(BaseModel):
    """A sentence of the server's as a catalog message: ``id`` is its English msgid with
    ``{name}`` placeholders (``str.format`` syntax), ``params`` the values that fill them.
    Translate ``id`` and format it with ``params`` to show the sentence in another language;
    formatting ``id`` itself gives the English text of the field beside it."""

    id: str
    params: dict[str, str | int | float | MessageId] = Field(
        {}, description="The values of the placeholders; a value may itself be a message "
        "(a sentence inside the sentence), translated the same way.")


class ErrorInfo(BaseModel):
    type: str = Field(description="The exception class, or SyntaxError / ForbiddenError / "
                      "LimitError / TimeoutError for programs the sandbox refused or stopped.")
    message: str
    line: int | None = None
    hint: str | None = Field(None, description="A plain-language explanation and a fix.")
    message_i18n: MessageId | None = Field(
        None, description="Present when the message is the sandbox's own sentence (a refusal, "
        "a limit): its msgid and parameters, to show it in the reader's language.")
    hint_i18n: MessageId | None = Field(
        None, description="Present with every hint of the sandbox: its msgid and parameters.")


class Figure(BaseModel):
    """A matplotlib figure the program drew, rendered after it finished."""

    src: str = Field(description="The sanitised SVG as a data URL "
                     "(data:image/svg+xml;base64,...), ready for an <img> src.")
    alt: str = Field(description="Alt text from the figure's titles and axis labels.")
    width: int = Field(description="The figure's width in CSS pixels (figsize x 96).")
    height: int = Field(description="The figure's height in CSS pixels.")


class EvalResponse(BaseModel):
    """``ok: true`` carries result/variables/graph; ``ok: false`` carries error. Both carry
    the steps and stdout of what ran."""

    ok: bool
    result: View | None = None
    variables: dict[str, View] = {}
    steps: list[Step] = []
    stdout: str = ""
    graph: Graph | None = None
    trace: StepTrace | None = Field(None, description="The step-through trace: a frame of "
                                    "variables after each statement and loop pass.")
    grad_trace: GradTrace | None = Field(None, description="What each autograd node "
                                         "received and sent in each backward pass.")
    provenance: list[Provenance] = Field(
        [], description="Where each number came from, for the result and the variables made "
        "by stack, cat, view/reshape, transpose/permute, expand, indexing, broadcasting "
        "elementwise operators or mm/matmul (at most max_provenance_records; ok:true only).")
    device: str | None = None
    notices: list[str] = []
    notices_i18n: list[MessageId | None] | None = Field(
        None, description="One entry per notice (null for a notice with no msgid, e.g. a "
        "warning torch emitted), present when some notice is the sandbox's own sentence.")
    shared_values: list[Any] | None = Field(
        None, description="Tensor values shown by more than one view, written once: such a "
        "view has values_ref (an index into this list) instead of values.")
    elapsed_ms: float | None = None
    timing: dict[str, float] | None = Field(None, description="Present when repeat > 1.")
    figures: list[Figure] = Field([], description="Figures drawn with matplotlib.pyplot, in "
                                  "the order they were made (ok:true only).")
    error: ErrorInfo | None = None

