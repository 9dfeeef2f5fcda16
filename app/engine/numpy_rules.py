"""Memory prediction for the small numpy surface (numpy has no meta device)."""

from __future__ import annotations

import collections
import math
import operator
from typing import Any

import numpy as np
import torch

from app.engine.errors import ForbiddenError
from app.message import Message

_SHAPE_FACTORIES = {"zeros", "ones", "full", "empty", "randn", "rand", "normal", "uniform"}


def _integer(value: Any) -> int | None:
    """An integer argument as numpy reads it: Python and numpy integers, and one-element
    integer tensors and arrays (numpy calls __index__). None for anything else."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and _size(value) != 1:
        return None
    try:
        return operator.index(value)
    except (TypeError, ValueError, RuntimeError):
        return None


def _number(value: Any) -> float | None:
    integer = _integer(value)
    if integer is not None:
        return integer
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return float(value.item()) if _size(value) == 1 and not _is_complex(value) else None
    return float(value) if isinstance(value, float) else None


def _numel(shape: Any) -> int:
    if isinstance(shape, (torch.Tensor, np.ndarray)) and _size(shape) <= _MAX_SHAPE_DIMS \
            and shape.ndim == 1:
        shape = shape.tolist()  # np.zeros(torch.tensor([10**5, 10**5])) is 80 GB
    if isinstance(shape, (range, collections.deque)) and len(shape) <= _MAX_SHAPE_DIMS:
        shape = list(shape)  # numpy reads any sequence as a shape: np.zeros(range(2*10**4, ...))
    if isinstance(shape, (tuple, list)):
        dims = [_integer(d) for d in shape]
        return math.prod(max(d, 0) for d in dims if d is not None)
    integer = _integer(shape)
    if integer is None:
        # Security: fail closed. A shape this function cannot read was predicted as one
        # element, and numpy read range(20000, 20002) as (20000, 20001): 3.2 GB, unsized.
        raise TypeError(f"a numpy shape is an int or a tuple or list of ints, not "
                        f"{type(shape).__name__}")
    return max(integer, 0)


# numpy arrays have at most 64 dimensions: a longer shape tensor is not a shape.
_MAX_SHAPE_DIMS = 64


def _size(value: torch.Tensor | np.ndarray) -> int:
    return value.numel() if isinstance(value, torch.Tensor) else value.size


def _is_complex(value: torch.Tensor | np.ndarray) -> bool:
    return value.is_complex() if isinstance(value, torch.Tensor) else value.dtype.kind == "c"


def _arrays(values: Any) -> list[np.ndarray | torch.Tensor]:
    """The arrays among the arguments, and in lists of arrays (np.concatenate([a, b])).
    Tensors count as arrays: numpy converts them (np.exp(t), np.array(t)), and the copy it
    makes has their full shape, however little storage they have (an expanded tensor)."""
    found: list[np.ndarray | torch.Tensor] = []
    for value in values:
        if isinstance(value, (np.ndarray, torch.Tensor)):
            found.append(value)
        elif isinstance(value, (list, tuple)) and value \
                and isinstance(value[0], (np.ndarray, torch.Tensor)):
            found.extend(v for v in value if isinstance(v, (np.ndarray, torch.Tensor)))
    return found


def data_bytes(values: Any) -> int:
    """What numpy may allocate to hold ``values`` as arrays: 8 bytes per number, array and
    tensor element (16 when complex), through nested lists. Iterative; a list is summed once
    however often it is referenced ([[t] * 1000] * 1000 visits 1,001 lists), and a list that
    holds itself counts 0 there (numpy refuses it)."""
    totals: dict[int, int] = {}  # id of a list -> its bytes (0 while its items are sized)
    if type(values) not in _CONTAINERS:
        return _item_bytes(values, totals)
    stack: list[tuple[Any, bool]] = [(values, False)]
    while stack:
        value, sized_items = stack.pop()
        items = _items(value)
        # A list of a million numbers is common and is sized at C speed.
        plain = set(map(type, items)) <= _NUMBERS
        if sized_items:  # its items (pushed after it, so popped before) are all sized
            totals[id(value)] = 8 * len(items) if plain \
                else sum(_item_bytes(item, totals) for item in items)
        elif id(value) not in totals:
            totals[id(value)] = 0
            stack.append((value, True))
            if not plain:
                stack.extend((item, False) for item in items if type(item) in _CONTAINERS)
    return _item_bytes(values, totals)


_NUMBERS = {int, float, bool}
_CONTAINERS = (list, tuple, dict)


def _items(value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> Any:
    return value.values() if type(value) is dict else value


def _item_bytes(value: Any, totals: dict[int, int]) -> int:
    kind = type(value)
    if kind in (int, float, bool):
        return 8
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return (16 if _is_complex(value) else 8) * _size(value)
    if kind in _CONTAINERS:
        return totals.get(id(value), 0)
    if isinstance(value, (int, float, complex, np.generic)):
        return 16 if isinstance(value, complex) else 8
    return 0


def predict_numpy_bytes(label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound (8 bytes per element) of what a numpy function would allocate."""
    name = label.rsplit(".", 1)[-1]
    if name in ("randn", "rand"):
        return 8 * math.prod(max(_integer(a) or 0, 0) for a in args) if args else 8
    if name in _SHAPE_FACTORIES | {"randint"}:
        shape = kwargs.get("size", kwargs.get("shape"))
        if shape is None and name not in ("randint", "normal", "uniform") and args:
            shape = args[0]
        if shape is None and name in ("randint", "normal", "uniform") and len(args) >= 3:
            shape = args[2]
        filled = data_bytes(args[1:2] if name == "full" else ())  # np.full(s, big tensor)
        return max(8 * _numel(shape) if shape is not None else 8, filled)
    if name == "eye":
        n = _integer(args[0]) if args else None
        m = _integer(args[1]) if len(args) > 1 else n
        return 8 * max(n or 0, 0) * max(m or 0, 0)
    if name in ("arange", "linspace"):
        numbers = [_number(a) for a in args]
        if name == "linspace":
            count = numbers[2] if len(numbers) > 2 else _number(kwargs.get("num", 50))
            return 8 * max(int(count or 0), 0)
        if not numbers or any(n is None for n in numbers):
            return 0  # not numbers: numpy raises
        start, stop = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
        step = numbers[2] if len(numbers) > 2 else 1
        return 8 * max(int(abs((stop - start) / step)) if step else 0, 0)  # type: ignore[operator]
    if name == "permutation" and args and _integer(args[0]) is not None:
        # Security: np.random.permutation(10**9) allocated 8 GB (it was predicted as 0 bytes).
        return 8 * max(_integer(args[0]) or 0, 0)
    if name == "choice":
        # Security: choice(10**10, 3, replace=False) permutes the whole population first.
        population = args[0] if args else kwargs.get("a", 0)
        count = _integer(population)
        if count is None:
            count = _size(population) if isinstance(population, (np.ndarray, torch.Tensor)) \
                else len(population)
        size = kwargs.get("size", args[1] if len(args) > 1 else None)
        return 8 * (max(count, 0) + (_numel(size) if size is not None else 1))
    arrays = _arrays((*args, *kwargs.values()))
    if name in ("dot", "matmul") and len(arrays) >= 2:
        a, b = arrays[0], arrays[1]
        return max(8 * _numel((*a.shape[:-1], *b.shape[-1:])), data_bytes(arrays[:2]))
    # Security: tensors were not sized at all (np.array(torch.zeros(1).expand(10**9)) made
    # 4 GB, np.concatenate([t] * k) k times more): every argument is sized as the array
    # numpy makes of it, and the output as the broadcast of the arrays' shapes.
    try:
        broadcast = np.broadcast_shapes(*(tuple(a.shape) for a in arrays))
    except ValueError:
        broadcast = ()
    return max(8 * _numel(broadcast) if arrays else 0, data_bytes((args, kwargs)))


# String options of numpy functions (not data, not dtypes).
_OPTION_KEYWORDS = frozenset({"order", "casting", "kind", "mode", "side", "method"})


# numpy functions whose first argument is a sequence of arrays.
_SEQUENCE_FUNCTIONS = frozenset({"stack", "concatenate"})


def check_sequence_argument(label: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                            limit: int) -> None:
    """np.stack(a) and np.concatenate(a) of one array go through it row by row, one array
    object per row: np.stack(np.zeros(4 * 10**6)) ran 3 s and took 270 MB that no budget
    sees (a 256 MB array would make 32 million). At most max_objects_per_call rows, as for
    a tensor (rows.py)."""
    if label.rsplit(".", 1)[-1] not in _SEQUENCE_FUNCTIONS:
        return
    arrays = args[0] if args else kwargs.get("arrays")
    if isinstance(arrays, np.ndarray) and arrays.ndim > 0 and len(arrays) > limit:
        from app.engine.rows import too_many_rows

        raise too_many_rows(label, len(arrays), limit, array=True)


def check_numpy_arguments(label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Security: numpy sizes an array of text or records by its longest item, which the
    budget's 8 bytes per element did not see: np.array([s] * 1000) with a 1M-character s,
    np.zeros(10**4, dtype='U100000') and a.astype('U100000') each allocated 4 GB. Only arrays
    of numbers and booleans exist here: no text, no dtype other than a number's."""
    if "where" in kwargs:
        # Security: an element-wise ufunc given where= and no out= leaves the other elements
        # uninitialised (np.exp(x, where=x < 0) showed heap addresses an earlier program
        # left); clip and the array methods forward it to ufuncs.
        raise ForbiddenError(Message("{label}: the keyword 'where=' is not available in the "
                                     "playground: it leaves the other elements uninitialised",
                                     label=label),
                             hint=Message("Use np.where(condition, np.exp(x), 0) instead."))
    dtypes = [kwargs["dtype"]] if kwargs.get("dtype") is not None else []
    stack: list[Any] = [*args, *(v for k, v in kwargs.items()
                                  if k not in _OPTION_KEYWORDS and k != "dtype")]
    while stack:
        value = stack.pop()
        if type(value) in (list, tuple):
            stack.extend(value)
        elif isinstance(value, str | type | np.dtype):
            dtypes.append(value)
    for value in dtypes:
        try:
            kind = np.dtype(value).kind
        except (TypeError, ValueError):
            kind = "U" if isinstance(value, str) else "b"  # text, or not a dtype at all
        if kind not in "biufc":
            raise ForbiddenError(Message("{label}: numpy arrays of text, records or objects are "
                                         "not available in the playground ({value:.60})",
                                         label=label, value=repr(value)),
                                 hint=Message("Use numbers; np.float32 / 'float32' name a dtype."))


def _operand_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return tuple(value.shape)
    shape: list[int] = []
    while type(value) in (list, tuple):  # a nested list: the shape its first items give
        shape.append(len(value))
        value = value[0] if len(value) else None
    return tuple(shape)


def predict_operator(left: Any, right: Any, matmul: bool) -> tuple[int, int]:
    """(bytes, FLOPs) of ``left <op> right`` (or np.dot / np.matmul) when numpy does the work.

    Security: numpy broadcasts like torch but has no meta device, so operators on arrays were
    not predicted at all (np.ones((10**5, 1)) < np.ones((1, 10**5)) is 10 GB). 8 bytes per
    element (16 for complex) bounds every dtype the playground can make."""
    a, b = _operand_shape(left), _operand_shape(right)
    itemsize = 16 if any(isinstance(v, np.ndarray) and v.dtype.kind == "c"
                         for v in (left, right)) else 8
    try:
        if not matmul:
            return itemsize * math.prod(np.broadcast_shapes(a, b)), 0
        if not a or not b:
            return 0, 0
        batch = np.broadcast_shapes(a[:-2], b[:-2])
        out = (*batch, *a[-2:-1], *(b[-1:] if len(b) > 1 else ()))
    except ValueError:
        return 0, 0  # shapes that do not broadcast: the real operation raises
    return itemsize * math.prod(out), 2 * math.prod(out) * a[-1]


def predict_ndarray_method_bytes(array: np.ndarray, name: str, args: tuple[Any, ...]) -> int:
    return 8 * array.size


# numpy.finfo: machine limits of a float type (np.finfo(np.float32).eps in the REINFORCE
# example). Security: numpy.finfo(x) calls np.dtype(x), which reads attributes of any object
# it is given (a program object's .dtype); only numpy's own float types and names get there.
_FINFO_TYPES = (np.float16, np.float32, np.float64, float)
_FINFO_NAMES = frozenset({"float16", "float32", "float64", "half", "single", "double",
                          "float"})


def guard_finfo(ctx: Any, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from app.engine.guards import Prepared

    if kwargs or len(args) != 1:
        raise TypeError("numpy.finfo takes one float type, e.g. np.finfo(np.float32)")
    kind = args[0]
    if isinstance(kind, np.ndarray | np.floating):
        kind = kind.dtype
    if isinstance(kind, np.dtype) and kind.type in _FINFO_TYPES:
        return Prepared((kind,), {})
    if (isinstance(kind, type) and kind in _FINFO_TYPES) or (isinstance(kind, str)
                                                             and kind in _FINFO_NAMES):
        return Prepared((kind,), {})
    raise ForbiddenError(Message("numpy.finfo takes np.float16, np.float32, np.float64 or float "
                                 "here, not {type}", type=type(kind).__name__),
                         hint=Message("Write np.finfo(np.float32), or torch.finfo(torch.float32) "
                                      "for a tensor's dtype."))


def numpy_empty(*args: Any, **kwargs: Any) -> np.ndarray:
    """numpy.empty as a program gets it: the array is filled (NaN, or 0 for integers and
    bools) before the program sees it, so memory an earlier program left is never read,
    as with torch.empty here."""
    result = np.empty(*args, **kwargs)
    result.fill(np.nan if result.dtype.kind in "fc" else 0)
    return result
