"""The vetted torch surface, as data. Review this file as a whole.

Everything a program can reach is listed here: the members of each namespace it may name
(``torch``, ``nn``, ``F``, ``optim``, ``np`` ...), and per object type the attributes it may
read and the methods it may call. A name that is not listed does not exist for the program,
so a new torch release cannot widen the sandbox by adding public names (``torch.os`` is a
plain attribute of torch, as is ``np.ma.core.builtins``).

Each callable carries a *cost* that tells the budget how to predict its allocation before the
real call runs:

- ``META``: run the same call on meta tensors (exact output shapes, no data) — the default;
- ``VIEW``: the result aliases an input (view, transpose, expand ...): no new memory;
- ``INPLACE``: modifies an input in place: no new memory;
- ``SCALAR``: returns Python data or metadata (size, item, dim ...): no tensor memory;
- ``BOUNDED``: output bounded by the inputs' size, data-dependent shape (nonzero, unique);
- ``MODULE``: constructing a layer: dry-run it on the meta device to count parameters;
- ``FREE``: no tensor work at all (grad-mode objects, scheduler bookkeeping);
- ``SAME``: one tensor in, an output no larger than it (relu, exp, sum, softmax ...): bounded
  by the input without a dry run, which for some ops goes through slow Python references.

``MATMUL`` marks matmul-like calls whose FLOPs are checked against ``max_call_flops``.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils import data as tud

from app.engine import guards, numpy_rules
from app.engine.admission import DISTRIBUTION_TYPES
from app.engine.guards import Guard
from app.message import Message


class Cost(enum.Enum):
    META = "meta"
    VIEW = "view"
    INPLACE = "inplace"
    SCALAR = "scalar"
    BOUNDED = "bounded"
    MODULE = "module"
    FREE = "free"
    NUMPY = "numpy"
    SAME = "same"


@dataclass(frozen=True)
class Rule:
    cost: Cost = Cost.META
    matmul: bool = False
    # Keyword names this callable accepts from a program; None means any name except
    # DENIED_KWARGS. Used where a keyword opens a door (processes, callbacks, files).
    kwargs: frozenset[str] | None = None
    # Keyword values forced by the sandbox (None: the keyword is dropped); a program that set
    # another value gets a notice.
    forced: dict[str, Any] = field(default_factory=dict)
    # An uninitialised-memory factory: its result is filled before the program sees it, so
    # memory left by an earlier program can never be read.
    uninitialised: bool = False
    # Checks (and normalises) the arguments before the call, and may count its result after:
    # what the native kernel behind it assumes, made true (see guards.py).
    guard: Guard | None = None
    # Why this member is safe to offer (reviewed): tests/engine/test_policy_tables.py fails
    # on a member without one.
    note: str = ""


# Keywords refused on every call, with the reason the program is told.
_KERNEL_CHOICE = Message("selects a native kernel that trusts memory layout; the default "
                         "implementation gives the same numbers")
DENIED_KWARGS: dict[str, Message] = {
    "out": Message("can resize a tensor's storage under a live view (a native crash)"),
    "worker_init_fn": Message("hands a callable to worker processes"),
    "multiprocessing_context": Message("starts processes"),
    "pin_memory_device": Message("allocates page-locked memory"),
    "f": Message("names a file"), "filename": Message("names a file"),
    "map_location": Message("belongs to loading files"),
    "pickle_module": Message("unpickles data"),
    # Security: the fused/foreach optimizer kernels walk numel elements from each data
    # pointer; with a stride-0 parameter they read and wrote past their buffers.
    "fused": _KERNEL_CHOICE, "foreach": _KERNEL_CHOICE,
    "capturable": Message("belongs to CUDA graph capture"),
    "differentiable": Message("keeps autograd state through the optimizer's step"),
    "assign": Message("makes the given tensors a module's parameters as they are (any layout)"),
}

M, V, IN, S, B, MOD, FREE = (Cost.META, Cost.VIEW, Cost.INPLACE, Cost.SCALAR, Cost.BOUNDED,
                             Cost.MODULE, Cost.FREE)


def _names(text: str) -> list[str]:
    return text.split()


def _rules(cost: Cost, names: str, note: str, **extra: Any) -> dict[str, Rule]:
    return {name: Rule(cost, note=note, **extra) for name in names.split()}


def _guarded(table: dict[str, Rule], guard: Guard, names: str) -> None:
    for name in names.split():
        rule = table[name]
        table[name] = Rule(rule.cost, rule.matmul, rule.kwargs, rule.forced, rule.uninitialised,
                           guard, rule.note)


# ---------------------------------------------------------------------------------------------
# Review notes: why each group is safe to offer. Every member of every table carries one.
TORCH_MATH = ("pure tensor math and factories: dense outputs, sized by the meta dry run "
              "before the call; no callbacks, files or global state")
MATMUL = "matmul-like: sized by the meta dry run and FLOPs checked against max_call_flops"
TORCH_VIEWS = ("views of an input: no new data; the views stay inside the input's storage, "
               "and splits are counted (max_objects_per_call)")
BOUNDED = "data-dependent shape: bounded by 8x the inputs' bytes before the call"
SCALAR_TORCH = ("returns Python numbers or metadata, or reseeds the program's own "
                "generator (reset before every program)")
FREE_TORCH = "grad-mode objects and metadata: no tensor memory, state restored per program"
UNINITIALISED = ("uninitialised memory: sized on meta, then filled (NaN or 0) before the "
                 "program sees it, so no earlier program's data can show")
FUNCTIONAL = "pure functions of their tensor arguments, sized by the meta dry run"
FUNCTIONAL_MATMUL = "weighted layers as functions: meta dry run and FLOPs check"
INIT = "writes random or constant values in place into the given tensor (checked not to overlap)"
CUDA = ("device facts and seeding; the memory fraction is the server's and not reachable; "
        "the results are numbers")
TENSOR_MATH = TORCH_MATH
TENSOR_VIEWS = TORCH_VIEWS
TENSOR_INPLACE = ("writes into the tensor's own storage through torch's strided iterators; "
                  "refused when the tensor's elements overlap")
SCALAR_TENSOR = "returns Python numbers or metadata about the tensor"
MODULE_READ = "reads a module's own tensors and submodules (admitted on the way out)"
MODULE_INPLACE = ("converts or loads a module's own parameters in place (load_state_dict "
                  "copies; assign=True is refused)")
LAYER = ("builds a layer: constructed on the meta device first (positional device bound "
         "by name) and its parameters counted as live memory")
SIZE = "tuple methods of torch.Size: numbers"
GENERATOR = "reseeds or reads a torch.Generator the program made"
NUMPY = ("numpy numbers only: sizes predicted from shapes (numpy has no meta device); text, "
         "object and record arrays refused")
NUMPY_RANDOM = NUMPY + "; the global seed is reset before every program"
NDARRAY = NUMPY

# ---------------------------------------------------------------------------------------------
# torch.* functions
TORCH_FUNCTIONS: dict[str, Rule] = {
    **_rules(M, """tensor as_tensor zeros ones full rand randn randint randperm arange linspace
        logspace eye zeros_like ones_like full_like rand_like randn_like randint_like
        stack cat concat hstack vstack dstack column_stack add sub subtract mul multiply div
        divide true_divide floor_divide remainder fmod pow abs neg negative exp exp2 expm1 log
        log2 log10 log1p sqrt rsqrt square sin cos tan asin acos atan atan2 sinh cosh tanh
        sigmoid relu clamp clip sign floor ceil round trunc frac reciprocal lerp maximum
        minimum max min sum mean std var prod cumsum cumprod argmax argmin amax amin
        logsumexp softmax log_softmax norm dist where eq ne lt le gt ge isclose isnan isinf
        isfinite logical_and logical_or logical_not logical_xor bitwise_and bitwise_or
        bitwise_xor bitwise_not diag diag_embed diagonal tril triu trace flip roll sort
        argsort topk kthvalue median mode cross outer ger
        tile kron cartesian_prod meshgrid broadcast_tensors flatten reshape squeeze
        unsqueeze clone masked_fill index_select gather scatter take
        one_hot cosine_similarity all any count_nonzero sort msort vander polar complex
        real imag angle conj cummax cummin diff histc searchsorted bucketize""", TORCH_MATH),
    **_rules(M, "aminmax std_mean var_mean", TORCH_MATH),  # named/plain tuples of tensors
    **_rules(M, "multinomial", TORCH_MATH),  # num_samples per row: sized by the dry run
    **_rules(M, "mm matmul bmm mv dot inner addmm addmv baddbmm einsum tensordot chain_matmul "
                "cdist", MATMUL, matmul=True),
    **_rules(V, "t transpose permute narrow select movedim swapaxes swapdims split chunk "
                "unbind tensor_split view_as_real view_as_complex detach", TORCH_VIEWS),
    **_rules(B, "nonzero unique unique_consecutive masked_select argwhere", BOUNDED),
    **_rules(S, """is_tensor is_floating_point is_complex numel manual_seed seed initial_seed
        is_grad_enabled get_default_dtype allclose equal result_type promote_types can_cast
        finfo iinfo broadcast_shapes is_nonzero""", SCALAR_TORCH),
    **_rules(FREE, "no_grad enable_grad inference_mode set_grad_enabled autocast device "
                   "Generator Size", FREE_TORCH),
    "empty": Rule(M, uninitialised=True, note=UNINITIALISED),
    "empty_like": Rule(M, uninitialised=True, note=UNINITIALISED),
    "empty_strided": Rule(M, uninitialised=True, note=UNINITIALISED),
    "Tensor": Rule(M, uninitialised=True, note=UNINITIALISED),
    "from_numpy": Rule(B, note="shares a numeric numpy array's memory (counted once)"),
    "set_default_dtype": Rule(S, note="reset to float32 before and after every program"),
    "set_default_device": Rule(FREE, note="run by the interpreter as its own device context "
                               "(cpu or cuda, checked), exited when the program ends "
                               "(Interpreter.set_default_device)"),
    "get_default_device": Rule(S, note="the current default device, a torch.device"),
    "histogram": Rule(FREE, guard=guards.guard_histogram,
                      note="no meta kernel: counts and edges sized by bins before the call"),
    "normal": Rule(FREE, guard=guards.guard_normal,
                   note="random numbers: the output (broadcast of mean and std, or size) is "
                   "sized by its guard before the call"),
}
for _name in ("split", "chunk", "unbind", "tensor_split"):
    _guarded(TORCH_FUNCTIONS, guards.split_guard(_name), _name)

# Legacy typed constructors of the guide's dtype table: torch.FloatTensor(2, 3) etc.
LEGACY_TENSOR_TYPES = _names("""
    ByteTensor CharTensor ShortTensor IntTensor LongTensor FloatTensor DoubleTensor
    HalfTensor BoolTensor BFloat16Tensor""")
for _name in LEGACY_TENSOR_TYPES:
    TORCH_FUNCTIONS[_name] = Rule(M, uninitialised=True, note=UNINITIALISED)

TORCH_DTYPES = _names("""
    float32 float float64 double float16 half bfloat16 int8 int16 short int32 int int64 long
    uint8 bool complex64 complex128 cfloat""")
TORCH_VALUES = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan,
                "float32": torch.float32}

TORCH_RANDOM: dict[str, Rule] = _rules(S, "manual_seed seed initial_seed", SCALAR_TORCH)

# ---------------------------------------------------------------------------------------------
# torch.nn
NN_LAYERS = _names("""
    Linear Bilinear Identity Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d MaxPool1d
    MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool2d
    BatchNorm1d BatchNorm2d LayerNorm GroupNorm InstanceNorm1d InstanceNorm2d Dropout
    Dropout1d Dropout2d Embedding EmbeddingBag RNN LSTM GRU RNNCell LSTMCell GRUCell ReLU
    ReLU6 LeakyReLU PReLU ELU SELU GELU SiLU Mish Sigmoid Tanh Softmax LogSoftmax Softplus
    Softsign Hardtanh Hardswish Hardsigmoid Threshold Flatten Unflatten Sequential
    ModuleList ModuleDict ParameterList ParameterDict Upsample PixelShuffle ZeroPad2d
    ConstantPad1d ConstantPad2d ReflectionPad2d ReplicationPad2d TransformerEncoderLayer
    MultiheadAttention CosineSimilarity PairwiseDistance""")
# Lazy layers: parameters made at the first call, sized before it (lazy.py).
NN_LAZY_LAYERS = _names("""LazyLinear LazyConv1d LazyConv2d LazyConv3d LazyBatchNorm1d
    LazyBatchNorm2d""")
NN_LOSSES = _names("""MSELoss L1Loss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss
    HuberLoss SmoothL1Loss KLDivLoss TripletMarginLoss MarginRankingLoss HingeEmbeddingLoss
    CosineEmbeddingLoss SoftMarginLoss MultiLabelSoftMarginLoss PoissonNLLLoss
    GaussianNLLLoss CTCLoss MultiMarginLoss""")
NN_MEMBERS: dict[str, Rule] = {
    **{name: Rule(MOD, note=LAYER) for name in NN_LAYERS + NN_LOSSES},
    **{name: Rule(MOD, note=LAYER + "; a lazy one's first call is sized on meta first")
       for name in NN_LAZY_LAYERS},
    "Module": Rule(FREE, note="the base class of the program's own modules (its methods are "
                   "interpreted)"),
    "Parameter": Rule(V, guard=guards.guard_parameter,
                      note="wraps a dense tensor (an expanded one fed the optimizer kernels "
                      "a one-element buffer)"),
}

_guarded(NN_MEMBERS, guards.guard_container_module, "ModuleList ParameterList")
_guarded(NN_MEMBERS, guards.both(guards.guard_container_module, guards.guard_layer_names),
         "Sequential ModuleDict ParameterDict")

NN_FUNCTIONAL: dict[str, Rule] = _rules(M, """relu relu6 leaky_relu elu selu gelu silu mish
    sigmoid tanh softmax log_softmax softplus softsign hardtanh hardswish hardsigmoid
    threshold dropout dropout1d dropout2d normalize layer_norm batch_norm group_norm
    instance_norm one_hot pad interpolate upsample embedding max_pool1d max_pool2d
    avg_pool1d avg_pool2d adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool2d
    cosine_similarity pairwise_distance pixel_shuffle unfold fold
    mse_loss l1_loss cross_entropy nll_loss binary_cross_entropy
    binary_cross_entropy_with_logits huber_loss smooth_l1_loss kl_div triplet_margin_loss
    margin_ranking_loss hinge_embedding_loss soft_margin_loss multilabel_soft_margin_loss
    poisson_nll_loss gaussian_nll_loss cosine_embedding_loss glu logsigmoid softmin
    gumbel_softmax""", FUNCTIONAL)
NN_FUNCTIONAL.update(_rules(M, "linear bilinear conv1d conv2d conv3d conv_transpose1d "
                               "conv_transpose2d scaled_dot_product_attention",
                            FUNCTIONAL_MATMUL, matmul=True))

_guarded(NN_FUNCTIONAL, guards.guard_one_hot, "one_hot")

NN_INIT: dict[str, Rule] = _rules(IN, """uniform_ normal_ constant_ ones_ zeros_ eye_
    xavier_uniform_ xavier_normal_ kaiming_uniform_ kaiming_normal_ trunc_normal_
    orthogonal_""", INIT)
NN_INIT["calculate_gain"] = Rule(S, note="a number from a table")

NN_UTILS: dict[str, Rule] = {
    "clip_grad_norm_": Rule(IN, guard=guards.guard_clip_grads,
                            note="scales gradients in place; they must be dense and shaped "
                            "like their parameters (foreach kernels on a GPU trust that)"),
    "clip_grad_value_": Rule(IN, guard=guards.guard_clip_grads,
                             note="clamps gradients in place; checked as clip_grad_norm_"),
    "parameters_to_vector": Rule(M, note="concatenates the parameters: a new dense vector"),
    "vector_to_parameters": Rule(IN, guard=guards.guard_vector_to_parameters,
                                 note="the parameters become views of the vector, so it must "
                                 "be dense"),
}
# Lesson 12's idiomatic padding collate: it only reads the listed tensors and writes one new
# dense tensor, sized like the meta dry run's.
NN_UTILS_RNN: dict[str, Rule] = {
    "pad_sequence": Rule(M, note="pads a list of tensors into one new dense tensor"),
}

# ---------------------------------------------------------------------------------------------
# torch.optim
OPTIMIZERS = _names("""
    SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam ASGD Rprop LBFGS""")
SCHEDULERS = _names("""StepLR MultiStepLR ExponentialLR CosineAnnealingLR
    CosineAnnealingWarmRestarts LinearLR ConstantLR OneCycleLR CyclicLR ReduceLROnPlateau
    LambdaLR MultiplicativeLR PolynomialLR SequentialLR ChainedScheduler""")

# ---------------------------------------------------------------------------------------------
# torch.utils.data. num_workers would start processes and pin_memory a thread, so both are
# forced off; the guide's examples set them and still run, with a notice.
DATALOADER_KWARGS = frozenset({"dataset", "batch_size", "shuffle", "sampler", "batch_sampler",
                               "num_workers", "collate_fn", "pin_memory", "drop_last",
                               "timeout", "generator", "prefetch_factor",
                               "persistent_workers"})
DATA_MEMBERS: dict[str, Rule] = {
    "DataLoader": Rule(FREE, kwargs=DATALOADER_KWARGS,
                       forced={"num_workers": 0, "pin_memory": False,
                               "persistent_workers": False, "prefetch_factor": None,
                               "timeout": 0}, guard=guards.guard_dataloader,
                       note="no worker processes or pinned memory (forced); data set length "
                       "and batch size bounded; default batches collated under the budget"),
    "Dataset": Rule(FREE, note="the base class of the program's own data sets"),
    "TensorDataset": Rule(FREE, note="holds the program's tensors; indexing makes views"),
    "Subset": Rule(FREE, guard=guards.guard_subset,
                   note="item numbers into a data set (checked to be numbers); no data of "
                   "its own"),
    "random_split": Rule(FREE, guard=guards.guard_sampled_dataset,
                         note="permutes len(dataset) indices: the length is bounded"),
    "ConcatDataset": Rule(FREE, note="chains data sets; no data of its own"),
    "RandomSampler": Rule(FREE, guard=guards.guard_sampled_dataset,
                          note="permutes len(dataset) indices: the length is bounded"),
    "SequentialSampler": Rule(FREE, note="yields indices one by one (each a step)"),
    "BatchSampler": Rule(FREE, guard=guards.guard_batch_sampler,
                         note="groups indices; the batch size is bounded"),
    "default_collate": Rule(M, note="stacks a batch: sized by the meta dry run"),
}

# ---------------------------------------------------------------------------------------------
# torch.cuda / torch.amp / torch.version / torch.autograd / torch.backends
CUDA_MEMBERS: dict[str, Rule] = _rules(S, """is_available device_count current_device
    get_device_name get_device_properties memory_allocated max_memory_allocated
    memory_reserved max_memory_reserved is_bf16_supported synchronize empty_cache
    reset_peak_memory_stats manual_seed manual_seed_all""", CUDA)
AMP_MEMBERS: dict[str, Rule] = {
    "autocast": Rule(FREE, note="a grad/precision mode context; restored on exit"),
    "GradScaler": Rule(FREE, note="loss scaling bookkeeping; its step and unscale_ check the "
                       "optimizer like step() does"),
}
AUTOGRAD_MEMBERS: dict[str, Rule] = {
    "grad": Rule(M, guard=guards.guard_autograd_grad,
                 note="one gradient per input: predicted from the inputs, counted after"),
    "backward": Rule(M, guard=guards.guard_backward,
                     note="new .grad tensors for the graph's leaves: predicted, counted after"),
}

# ---------------------------------------------------------------------------------------------
# torch.distributions: the classes admission.DISTRIBUTION_TYPES lets a program hold.
DISTRIBUTION_MEMBERS: dict[str, Rule] = {
    cls.__name__: Rule(FREE, guard=guards.guard_distribution_new,
                       note="holds the program's parameters; broadcasts, factorisations "
                       "(n**3 FLOPs) and validate_args (a bool) checked before it is built")
    for cls in DISTRIBUTION_TYPES}
DISTRIBUTION_ATTRIBUTES = frozenset(_names("""mean stddev variance mode batch_shape
    event_shape loc scale low high probs logits rate concentration1 concentration0
    total_count covariance_matrix scale_tril precision_matrix has_rsample"""))
DISTRIBUTION_METHODS: dict[str, Rule] = {
    **_rules(FREE, "sample rsample", "draws sample shape x batch x event numbers: sized "
             "before the draw (Multinomial's total_count draws too)",
             guard=guards.guard_distribution_sample),
    **{name: Rule(FREE, guard=guards.distribution_values_guard(name),
                  note="the value broadcast against the batch: sized before the call")
       for name in ("log_prob", "cdf", "icdf")},
    "entropy": Rule(FREE, guard=guards.guard_distribution_entropy,
                    note="one number per batch element; Multinomial's sum over its support "
                    "(total_count + 1 values) sized first"),
}

# ---------------------------------------------------------------------------------------------
# Tensor attributes and methods
TENSOR_DATA_ATTRIBUTES = frozenset(_names("""
    shape dtype device requires_grad grad grad_fn is_leaf data T mT H ndim is_cuda is_meta
    layout itemsize nbytes real imag names"""))
TENSOR_SETTABLE = frozenset({"requires_grad", "grad"})
TENSOR_SETTABLE_DATA = "data"  # x.data = y: same shape, dtype and device only (kernels.py)
# torch.return_types named tuples (torch.max(x, 0), sort, topk, kthvalue, median, mode,
# aminmax ...): their fields are the call's tensors, read like the tuple's items.
RETURN_TYPES: tuple[type, ...] = tuple(torch.return_types.all_return_types)
RETURN_TYPE_ATTRIBUTES = frozenset(_names("""values indices min max mantissa exponent hist
    bin_edges"""))
TENSOR_METHODS: dict[str, Rule] = {
    **_rules(M, """add sub mul div true_divide floor_divide remainder fmod pow abs neg exp
        exp2 expm1 log log2 log10 log1p sqrt rsqrt square sin cos tan asin acos atan atan2
        sinh cosh tanh sigmoid relu clamp clip sign floor ceil round trunc frac reciprocal
        lerp maximum minimum max min sum mean std var prod cumsum cumprod argmax argmin amax
        amin logsumexp softmax log_softmax norm dist where eq ne lt le gt ge isclose isnan
        isinf isfinite logical_and logical_or logical_not bitwise_and bitwise_or bitwise_not
        diag diag_embed diagonal tril triu trace flip roll sort argsort topk kthvalue median
        mode cross outer repeat tile kron clone contiguous reshape reshape_as flatten
        masked_fill index_select gather scatter take float double half bfloat16 int long
        short char byte bool to type type_as cpu cuda new_zeros new_ones new_full
        new_tensor all any count_nonzero cummax cummin diff histc bernoulli multinomial
        softmax mean std_mean var_mean conj angle""", TENSOR_MATH),
    **_rules(M, "mm matmul bmm mv dot inner addmm addmv baddbmm", MATMUL, matmul=True),
    **_rules(V, """view view_as t transpose permute expand expand_as squeeze unsqueeze
        narrow select unfold movedim swapaxes swapdims split chunk unbind tensor_split
        detach requires_grad_ retain_grad""", TENSOR_VIEWS),
    **_rules(IN, """add_ sub_ mul_ div_ pow_ abs_ neg_ exp_ log_ sqrt_ clamp_ clip_ zero_
        fill_ copy_ normal_ uniform_ random_ bernoulli_ exponential_ masked_fill_ scatter_
        index_fill_ index_add_ index_copy_ relu_ sigmoid_ tanh_ floor_ ceil_ round_
        sign_ t_ transpose_ squeeze_ unsqueeze_ fill_diagonal_ detach_ lerp_ addcmul_
        addcdiv_ requires_grad_ tril_ triu_ clamp_min_ clamp_max_ cauchy_ geometric_
        log_normal_ reciprocal_ neg_ square_""", TENSOR_INPLACE),
    **_rules(B, "nonzero unique masked_select argwhere numpy tolist", BOUNDED),
    **_rules(S, """size dim ndimension numel nelement item element_size stride storage_offset
        is_contiguous is_floating_point is_complex is_signed get_device equal allclose
        backward is_set_to is_pinned is_shared""", SCALAR_TENSOR),
    "new_empty": Rule(M, uninitialised=True, note=UNINITIALISED),
}
for _name in ("split", "chunk", "unbind", "tensor_split"):
    _guarded(TENSOR_METHODS, guards.split_guard(_name), _name)
_guarded(TENSOR_METHODS, guards.guard_tolist, "tolist")
_guarded(TENSOR_METHODS, guards.guard_backward, "backward")
_guarded(TENSOR_METHODS, guards.guard_tensor_type, "type")

# One tensor in, an output no larger than it: predicted from the input's size (see Cost.SAME).
# A call that passes a second tensor (broadcasting) is still dry-run on meta.
SAME_SIZE_OPS = frozenset(_names("""abs neg exp exp2 expm1 log log2 log10 log1p sqrt rsqrt
    square sin cos tan asin acos atan sinh cosh tanh sigmoid relu sign floor ceil round trunc
    frac reciprocal sum mean std var prod cumsum cumprod argmax argmin amax amin logsumexp
    softmax log_softmax norm isnan isinf isfinite logical_not bitwise_not clone contiguous all
    any count_nonzero gelu silu elu selu leaky_relu relu6 mish softplus logsigmoid"""))
for _table in (TORCH_FUNCTIONS, TENSOR_METHODS, NN_FUNCTIONAL):
    for _name in SAME_SIZE_OPS & _table.keys():
        if _table[_name].cost is Cost.META and not _table[_name].matmul:
            _table[_name] = Rule(Cost.SAME, note=_table[_name].note + "; one tensor in, "
                                 "an output no larger than it: bounded by the input")

# Refused with a specific reason; the rest is simply "not available".
REFUSED_WITH_REASON: dict[str, Message] = {
    "apply_": Message("calls a Python function from C on every element"),
    "map_": Message("calls a Python function from C on every element"),
    "map2_": Message("calls a Python function from C on every element"),
    "register_hook": Message("registers a callback that torch runs later, outside the program"),
    "register_forward_hook": Message("registers a callback that torch runs later"),
    "register_forward_pre_hook": Message("registers a callback that torch runs later"),
    "register_full_backward_hook": Message("registers a callback that torch runs later"),
    "register_backward_hook": Message("registers a callback that torch runs later"),
    "untyped_storage": Message("exposes raw memory"),
    "rcParams": Message("changes matplotlib's settings for every later program in the worker"),
    "rc": Message("changes matplotlib's settings for every later program in the worker"),
    "use": Message("switches matplotlib's backend; figures are drawn as SVG for you"),
    "switch_backend": Message("switches matplotlib's backend; figures are drawn as SVG for you"),
    "get_backend": Message("is not needed: figures are drawn as SVG and shown with the results"),
    "storage": Message("exposes raw memory"),
    "set_": Message("can point a tensor at arbitrary storage"),
    "resize_": Message("resizing storage under a live view can crash the process"),
    "resize_as_": Message("resizing storage under a live view can crash the process"),
    "share_memory_": Message("shares memory with other processes"),
    "data_ptr": Message("exposes a raw memory address"),
    "pin_memory": Message("allocates page-locked host memory"),
    "load": Message("reads files from the server"),
    "save": Message("writes files on the server"),
    "from_file": Message("reads files from the server"),
    "hub": Message("downloads and runs code"),
    "ops": Message("reaches native operator registrations"),
    "classes": Message("reaches native classes"),
    "jit": Message("compiles and runs code"),
    "compile": Message("compiles code"),
    "cpp_extension": Message("compiles native code"),
    "library": Message("overrides operators for every later program"),
    "set_per_process_memory_fraction": Message("is a server setting, not a program's"),
    "set_printoptions": Message("changes state shared with later programs"),
    "set_num_threads": Message("changes state shared with later programs"),
    "os": Message("is the operating system interface"),
    "sys": Message("is the interpreter's internals"),
    "encode": Message("makes bytes, which do not exist in the playground; keep text as str"),
    "maketrans": Message("builds a translation table whose entries can grow every character; "
                         "use replace() for each change"),
    "translate": Message("maps each character through a table that can grow it; use replace() "
                         "for each change"),
    # Security: no meta kernel, so the budget could not predict them: torch.cov(torch.ones(
    # 10**4, 1)) made a 10,000 x 10,000 matrix from a 40 kB input.
    "cov": Message("has no size prediction (its output grows with the square of its input)"),
    "corrcoef": Message("has no size prediction (its output grows with the square of its "
                        "input)"),
}

# ---------------------------------------------------------------------------------------------
# nn.Module instances (built-in layers and user subclasses alike)
MODULE_METHODS: dict[str, Rule] = {
    **_rules(S, "parameters named_parameters children named_children modules named_modules "
                "buffers named_buffers train eval zero_grad requires_grad_ state_dict "
                "get_parameter get_submodule", MODULE_READ),
    **_rules(IN, "load_state_dict float double half to cpu cuda bfloat16", MODULE_INPLACE),
    "forward": Rule(M, note="a built-in layer's forward: dry-run with meta parameters"),
    **_rules(FREE, "append extend insert add_module", "adds layers to a container module; "
             "the layers were built (and counted) by the program"),
    **_rules(S, "keys values items", "ModuleDict views of the program's own layers"),
    "flatten_parameters": Rule(FREE, note="RNN weight layout bookkeeping (a no-op on CPU)"),
}
_guarded(MODULE_METHODS, guards.guard_load_state_dict, "load_state_dict")
_guarded(MODULE_METHODS, guards.guard_layer_names, "add_module")
_guarded(MODULE_METHODS, guards.guard_container_module, "extend")
for _name in ("float", "double", "half", "bfloat16", "to"):
    _guarded(MODULE_METHODS, guards.module_cast_guard(_name), _name)
MODULE_DATA_ATTRIBUTES = frozenset(_names("""
    training weight bias in_features out_features in_channels out_channels kernel_size
    stride padding dilation groups num_features eps momentum affine track_running_stats
    running_mean running_var num_batches_tracked normalized_shape elementwise_affine p
    inplace num_embeddings embedding_dim padding_idx hidden_size input_size num_layers
    batch_first bidirectional dim negative_slope reduction margin beta delta weight_ih_l0
    weight_hh_l0 bias_ih_l0 bias_hh_l0 start_dim end_dim scale_factor mode"""))

OPTIMIZER_ATTRIBUTES = frozenset({"param_groups", "state", "defaults"})
OPTIMIZER_METHODS: dict[str, Rule] = {
    "zero_grad": Rule(IN, note="sets the parameters' .grad to None (or zero)"),
    "step": Rule(IN, guard=guards.guard_optimizer_step,
                 note="updates parameters in place; everything its kernels trust (dense, "
                 "equally shaped parameters, gradients and state; no fused/foreach) is "
                 "checked right before"),
    "add_param_group": Rule(FREE, note="a new group; checked at the next step()"),
    "load_state_dict": Rule(IN, guard=guards.guard_optimizer_load,
                            note="saved state checked before the load (plain data, dense "
                            "tensors shaped like their parameters, no kernel options) and the "
                            "optimizer checked again after (kernels.py)"),
    "state_dict": Rule(S, note="numbers and the optimizer's tensors (admitted on the way "
                       "out)"),
}
SCHEDULER_ATTRIBUTES = frozenset({"last_epoch", "base_lrs", "optimizer"})
SCHEDULER_METHODS: dict[str, Rule] = {
    "step": Rule(FREE, note="changes the learning rate numbers; lr_lambda runs interpreted"),
    "get_last_lr": Rule(S, note="the current learning rates, as numbers"),
    "state_dict": Rule(S, note="numbers; program functions are stored as None, as torch does "
                       "for functions (admitted on the way out)"),
}
SCALER_METHODS: dict[str, Rule] = {
    "scale": Rule(M, note="multiplies the loss: sized by the meta dry run"),
    "step": Rule(IN, guard=guards.guard_scaler_optimizer,
                 note="runs the optimizer's step: the optimizer is checked first"),
    "update": Rule(FREE, note="updates the loss scale number"),
    "unscale_": Rule(IN, guard=guards.guard_scaler_optimizer,
                     note="a foreach kernel over the gradients: the optimizer is checked first"),
    "get_scale": Rule(S, note="the current loss scale, a number"),
    "is_enabled": Rule(S, note="whether scaling is on, a bool"),
}
LOADER_ATTRIBUTES = frozenset({"dataset", "batch_size", "drop_last", "sampler",
                               "batch_sampler", "num_workers", "pin_memory"})
DATASET_ATTRIBUTES = frozenset({"tensors", "indices", "dataset", "datasets"})
SIZE_METHODS: dict[str, Rule] = _rules(S, "numel count index", SIZE)
DTYPE_ATTRIBUTES = frozenset({"is_floating_point", "is_complex", "is_signed", "itemsize"})
DEVICE_ATTRIBUTES = frozenset({"type", "index"})
FINFO_ATTRIBUTES = frozenset({"bits", "eps", "max", "min", "tiny", "resolution", "dtype"})
GRAD_FN_ATTRIBUTES = frozenset({"next_functions", "variable"})
GRAD_FN_METHODS: dict[str, Rule] = {"name": Rule(S, note="the node's class name")}
GENERATOR_METHODS: dict[str, Rule] = _rules(S, "manual_seed initial_seed seed", GENERATOR)

# Python containers: methods that do not call back into arbitrary objects.
LIST_METHODS = frozenset(_names("""
    append extend pop insert remove index count reverse sort copy clear"""))
TUPLE_METHODS = frozenset(["index", "count"])
DICT_METHODS = frozenset(_names("""keys values
    items get pop update copy setdefault clear"""))
SET_METHODS = frozenset(_names("""add remove discard pop union intersection difference copy"""))
FLOAT_METHODS = frozenset({"is_integer"})
# str: the methods beginners use. Those that can make more text than they are given (join,
# replace, ljust, expandtabs, format ...) are predicted in str_methods.py before they run.
STR_METHODS = frozenset(_names("""join split rsplit splitlines strip lstrip rstrip replace
    upper lower title capitalize swapcase casefold startswith endswith ljust rjust center
    zfill count find rfind index rindex isdigit isalpha isalnum isspace isupper islower
    isdecimal isnumeric istitle isascii isidentifier isprintable partition rpartition
    removeprefix removesuffix expandtabs format format_map"""))

# ---------------------------------------------------------------------------------------------
# numpy: enough to build arrays and hand them to torch (and back).
NUMPY_FUNCTIONS: dict[str, Rule] = _rules(Cost.NUMPY, """array asarray zeros ones full arange
    linspace eye zeros_like ones_like mean sum std var max min abs exp log sqrt allclose
    array_equal concatenate stack argmax argmin round clip where dot matmul transpose
    reshape""", NUMPY)
# Element-wise ufuncs: the output is the broadcast of the inputs, as the generic numpy rule
# predicts. Their methods (np.add.outer, np.multiply.reduceat) have no attribute table.
NUMPY_FUNCTIONS.update(_rules(Cost.NUMPY, """sin cos tan arcsin arccos arctan arctan2 sinh
    cosh tanh exp exp2 expm1 log log2 log10 log1p sqrt square absolute abs sign floor ceil
    maximum minimum add subtract multiply divide true_divide power mod negative reciprocal
    isnan isinf isfinite cumsum prod squeeze""", NUMPY + "; element-wise: the broadcast of "
                              "the inputs"))
NUMPY_RANDOM: dict[str, Rule] = _rules(Cost.NUMPY, "randn rand randint seed normal uniform "
                                                   "permutation choice", NUMPY_RANDOM)
NUMPY_DTYPES = _names("""
    float16 float32 float64 int8 int16 int32 int64 uint8 bool_""")
NDARRAY_ATTRIBUTES = frozenset(["shape", "dtype", "ndim", "size", "T", "itemsize", "nbytes"])
NDARRAY_METHODS: dict[str, Rule] = _rules(Cost.NUMPY, """reshape astype sum mean std max min
    argmax argmin tolist copy item flatten transpose round clip dot squeeze cumsum prod any
    all var""", NDARRAY)
_guarded(NDARRAY_METHODS, guards.guard_tolist, "tolist")
_guarded(NDARRAY_METHODS, guards.guard_ndarray_dot, "dot")
NUMPY_FUNCTIONS["empty"] = Rule(Cost.NUMPY, uninitialised=True,
                                note=NUMPY + "; " + UNINITIALISED)
NUMPY_FUNCTIONS["finfo"] = Rule(S, guard=numpy_rules.guard_finfo,
                                note="machine limits of numpy's float types only (eps, max, "
                                "tiny ...): numbers")

MATH_FUNCTIONS = _names("""
    sqrt exp log log2 log10 sin cos tan atan2 floor ceil fabs isclose isnan isinf pow tanh
    erf gamma lgamma""")
MATH_VALUES = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}
RANDOM_FUNCTIONS = ["random", "randint", "uniform", "gauss", "choice", "seed"]


# ---------------------------------------------------------------------------------------------
class Namespace:
    """A module as the program sees it: only the listed members exist."""

    __slots__ = ("members", "name", "refusals", "rules")

    def __init__(self, name: str, members: dict[str, Any], rules: dict[str, Rule],
                 refusals: dict[str, tuple[Message, Message]] | None = None) -> None:
        self.name = name
        self.members = members
        self.rules = rules
        # Member name -> (why it is refused, what to do instead); "*" answers every other
        # name (os and sys: an import costs nothing, any use says what to do instead).
        self.refusals = refusals or {}

    def refusal(self, name: str) -> tuple[Message, Message] | None:
        return self.refusals.get(name, self.refusals.get("*"))

    def __repr__(self) -> str:
        return f"<module '{self.name}'>"


def _namespace(name: str, module: Any, rules: dict[str, Rule],
               extra: dict[str, Any] | None = None) -> Namespace:
    members = {member: getattr(module, member) for member in rules if hasattr(module, member)}
    members.update(extra or {})
    kept = {member: rule for member, rule in rules.items() if member in members}
    return Namespace(name, members, kept)


def build_namespaces() -> dict[str, Namespace]:
    """The importable namespaces, keyed by their import path."""
    from app.engine.stdlib import build_stdlib_namespaces  # it builds on this module

    init = _namespace("torch.nn.init", nn.init, NN_INIT)
    rnn = _namespace("torch.nn.utils.rnn", nn.utils.rnn, NN_UTILS_RNN)
    utils = _namespace("torch.nn.utils", nn.utils, NN_UTILS, {"rnn": rnn})
    functional = _namespace("torch.nn.functional", F, NN_FUNCTIONAL)
    nn_ns = _namespace("torch.nn", nn, NN_MEMBERS,
                       {"functional": functional, "init": init, "utils": utils})
    scheduler = _namespace("torch.optim.lr_scheduler", optim.lr_scheduler,
                           {name: Rule(FREE, note="learning-rate bookkeeping over an "
                                       "optimizer the program made") for name in SCHEDULERS})
    optimizers = {name: Rule(FREE, guard=guards.guard_optimizer_new,
                             note="holds the parameters it is given; its step() checks "
                             "them; state made at construction (Adagrad) is counted")
                  for name in OPTIMIZERS}
    optim_ns = _namespace("torch.optim", optim, optimizers,
                          {"lr_scheduler": scheduler})
    data = _namespace("torch.utils.data", tud, DATA_MEMBERS)
    utils_ns = Namespace("torch.utils", {"data": data}, {})
    amp = _namespace("torch.amp", torch.amp, AMP_MEMBERS)
    cuda_amp = _namespace("torch.cuda.amp", torch.cuda.amp, AMP_MEMBERS)
    cuda = _namespace("torch.cuda", torch.cuda, CUDA_MEMBERS, {"amp": cuda_amp})
    accelerator = _namespace("torch.accelerator", torch.accelerator, {
        name: Rule(S, note="device facts: answered as torch does on this server (False, "
                   "None and 0 without a GPU)")
        for name in ("is_available", "current_accelerator", "device_count")})
    version = Namespace("torch.version", {"cuda": torch.version.cuda,
                                          "hip": torch.version.hip}, {})
    # Function is a base class for the program's own autograd functions; without a rule it
    # cannot be called (only MyFunction.apply, see Interpreter._function_apply).
    autograd = _namespace("torch.autograd", torch.autograd, AUTOGRAD_MEMBERS,
                          {"Function": torch.autograd.Function})
    # import torch.distributions.multinomial / from torch.distributions.categorical import
    # Categorical: each vetted class also in a namespace named after its torch submodule.
    distribution_modules = {
        cls.__module__.rsplit(".", 1)[1]: Namespace(
            cls.__module__, {cls.__name__: cls}, {cls.__name__: DISTRIBUTION_MEMBERS[
                cls.__name__]}) for cls in DISTRIBUTION_TYPES}
    distributions = _namespace("torch.distributions", torch.distributions,
                               DISTRIBUTION_MEMBERS, dict(distribution_modules))
    dtypes = {name: getattr(torch, name) for name in TORCH_DTYPES}
    # torch.random.manual_seed is torch.manual_seed: the program's generator, reset per program.
    torch_random = _namespace("torch.random", torch.random, TORCH_RANDOM)
    torch_ns = _namespace("torch", torch, TORCH_FUNCTIONS, {
        **dtypes, **TORCH_VALUES, "nn": nn_ns, "optim": optim_ns, "utils": utils_ns,
        "cuda": cuda, "amp": amp, "version": version, "autograd": autograd,
        "accelerator": accelerator, "distributions": distributions,
        "random": torch_random,
        "__version__": torch.__version__,
    })
    np_random = _namespace("numpy.random", np.random, NUMPY_RANDOM)
    np_ns = _namespace("numpy", np, NUMPY_FUNCTIONS, {
        "random": np_random, "pi": np.pi, "e": np.e, "inf": np.inf, "nan": np.nan,
        "ndarray": np.ndarray, **{name: getattr(np, name) for name in NUMPY_DTYPES},
        "empty": numpy_rules.numpy_empty,
    })
    math_ns = _namespace("math", math, {name: Rule(S, note="a number from numbers")
                                        for name in MATH_FUNCTIONS}, MATH_VALUES)
    random_ns = _namespace("random", random, {
        **{name: Rule(S, note="the module's one generator, reseeded before every program")
           for name in RANDOM_FUNCTIONS},
        "shuffle": Rule(S, guard=guards.guard_random_shuffle,
                        note="a list in place (a tensor's rows are views: swapping them "
                        "repeats rows); reseeded generator"),
        "sample": Rule(S, guard=guards.guard_random_sample,
                       note="k distinct items of a sequence (a deque of transitions in the "
                       "DQN tutorial): k bounded; reseeded generator")})
    return {
        # First: program.py names a callable after the first namespace holding it that it
        # walks to, from the end of this dict; these spellings must not rename
        # torch.distributions.Normal in messages.
        **{f"torch.distributions.{name}": module
           for name, module in distribution_modules.items()},
        "torch": torch_ns, "torch.nn": nn_ns, "torch.nn.functional": functional,
        "torch.optim": optim_ns, "torch.optim.lr_scheduler": scheduler,
        "torch.utils": utils_ns, "torch.utils.data": data, "torch.cuda": cuda,
        "torch.amp": amp, "torch.cuda.amp": cuda_amp, "numpy": np_ns, "math": math_ns,
        "random": random_ns, "torch.nn.init": init, "torch.accelerator": accelerator,
        "torch.distributions": distributions,
        "torch.nn.utils": utils, "torch.nn.utils.rnn": rnn,
        "torch.random": torch_random,
        **build_stdlib_namespaces(),
        "torch.autograd": autograd,  # from torch.autograd import Function
    }


# Context managers a `with` statement (or decorator) may enter. Their __exit__ is torch's own.
CONTEXT_MANAGER_TYPES: tuple[type, ...] = (
    torch.no_grad, torch.enable_grad, torch.inference_mode, torch.set_grad_enabled,
    torch.autocast,
    torch.device,  # a cpu/cuda device (checked where it was made); exits like the others
)
