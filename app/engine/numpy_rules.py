"""Memory prediction for the small numpy surface (numpy has no meta device)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from app.engine.errors import ForbiddenError

_SHAPE_FACTORIES = {"zeros", "ones", "full", "empty", "randn", "rand", "normal", "uniform"}


def _numel(shape: Any) -> int:
    if isinstance(shape, int):
        return max(shape, 0)
    if isinstance(shape, (tuple, list)) and all(isinstance(d, int) for d in shape):
        return math.prod(max(d, 0) for d in shape)
    return 0


def _arrays(values: Any) -> list[np.ndarray]:
    found: list[np.ndarray] = []
    for value in values:
        if isinstance(value, np.ndarray):
            found.append(value)
        elif isinstance(value, (list, tuple)) and value and isinstance(value[0], np.ndarray):
            found.extend(v for v in value if isinstance(v, np.ndarray))
    return found


def predict_numpy_bytes(label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound (8 bytes per element) of what a numpy function would allocate."""
    name = label.rsplit(".", 1)[-1]
    if name in ("randn", "rand"):
        return 8 * math.prod(max(a, 0) for a in args if isinstance(a, int)) if args else 8
    if name in _SHAPE_FACTORIES | {"randint"}:
        shape = kwargs.get("size", kwargs.get("shape"))
        if shape is None and name not in ("randint", "normal", "uniform") and args:
            shape = args[0]
        if shape is None and name in ("randint", "normal", "uniform") and len(args) >= 3:
            shape = args[2]
        return 8 * _numel(shape) if shape is not None else 8
    if name == "eye":
        n = args[0] if args and isinstance(args[0], int) else 0
        m = args[1] if len(args) > 1 and isinstance(args[1], int) else n
        return 8 * max(n, 0) * max(m, 0)
    if name in ("arange", "linspace"):
        numbers = [a for a in args if isinstance(a, (int, float))]
        if name == "linspace":
            count = numbers[2] if len(numbers) > 2 else kwargs.get("num", 50)
            return 8 * max(int(count), 0)
        if not numbers:
            return 0
        start, stop = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
        step = numbers[2] if len(numbers) > 2 else 1
        return 8 * max(int(abs((stop - start) / step)) if step else 0, 0)
    if name == "permutation" and args and isinstance(args[0], int):
        # Security: np.random.permutation(10**9) allocated 8 GB (it was predicted as 0 bytes).
        return 8 * max(args[0], 0)
    if name == "choice":
        # Security: choice(10**10, 3, replace=False) permutes the whole population first.
        population = args[0] if args else kwargs.get("a", 0)
        count = population if isinstance(population, int) else len(population)
        size = kwargs.get("size", args[1] if len(args) > 1 else None)
        return 8 * (max(count, 0) + (_numel(size) if size is not None else 1))
    arrays = _arrays((*args, *kwargs.values()))
    if name in ("dot", "matmul") and len(arrays) >= 2:
        a, b = arrays[0], arrays[1]
        return 8 * _numel((*a.shape[:-1], *b.shape[-1:]))
    if not arrays:
        return 0
    try:
        broadcast = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        broadcast = ()
    return 8 * max(_numel(broadcast), sum(a.size for a in arrays))


# String options of numpy functions (not data, not dtypes).
_OPTION_KEYWORDS = frozenset({"order", "casting", "kind", "mode", "side", "method"})


def check_numpy_arguments(label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Security: numpy sizes an array of text or records by its longest item, which the
    budget's 8 bytes per element did not see: np.array([s] * 1000) with a 1M-character s,
    np.zeros(10**4, dtype='U100000') and a.astype('U100000') each allocated 4 GB. Only arrays
    of numbers and booleans exist here: no text, no dtype other than a number's."""
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
            raise ForbiddenError(f"{label}: numpy arrays of text, records or objects are not "
                                 f"available in the playground ({value!r:.60})",
                                 hint="Use numbers; np.float32 / 'float32' name a dtype.")


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
