"""Guards for Python-level operations that one C call could blow up (``10**10**8``,
``'a' * 10**10``, ``[0] * 10**9``): refused before the operation runs."""

from __future__ import annotations

import ast
from typing import Any

from app.config import Settings
from app.engine.errors import LimitError
from app.message import Message

_SEQUENCES = (str, list, tuple, bytes)


def guard_sequence_size(length: int, settings: Settings) -> None:
    if length > settings.max_sequence_items:
        raise LimitError(Message("a Python sequence of {length:,} items is larger than the limit "
                                 "of {max_sequence_items:,} (setting max_sequence_items)",
                                 length=length, max_sequence_items=settings.max_sequence_items),
                         hint=Message("Use a tensor for large data, e.g. torch.zeros(n)."))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def guard_binop(op: type[ast.operator], left: Any, right: Any, settings: Settings) -> None:
    limit = settings.max_int_bits
    if op is ast.Pow and _is_int(left) and _is_int(right) and right > 0:
        if abs(left) > 1 and right * max(abs(left).bit_length(), 1) > limit:
            raise LimitError(Message("{left} ** {right} has more than {limit:,} bits (setting "
                                     "max_int_bits)", left=left, right=right, limit=limit),
                             hint=Message("Use floats (e.g. 10.0 ** 30) or smaller exponents."))
    elif op is ast.LShift and _is_int(left) and _is_int(right):
        # Security: the result's size, not only the shift's (x = x << 4096 in a loop grew
        # without end, and an int past 4,300 digits broke the response).
        if right > limit or (left and left.bit_length() + right > limit):
            raise LimitError(Message("shifting by {right} bits makes more than {limit:,} bits "
                                     "(setting max_int_bits)", right=right, limit=limit))
    elif op is ast.Mult:
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, _SEQUENCES) and _is_int(count):
                guard_sequence_size(len(seq) * max(count, 0), settings)
        if _is_int(left) and _is_int(right) and \
                left.bit_length() + right.bit_length() > limit:
            raise LimitError(Message("the product has more than {limit:,} bits (setting "
                                     "max_int_bits)", limit=limit))
    elif op is ast.Add and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        guard_sequence_size(len(left) + len(right), settings)
    elif op in (ast.Add, ast.Sub) and _is_int(left) and _is_int(right) \
            and max(left.bit_length(), right.bit_length()) >= limit:
        # Security: x = x + x doubles; 200,000 steps of it made an int of 200,000 bits.
        raise LimitError(Message("the sum has more than {limit:,} bits (setting max_int_bits)",
                                 limit=limit))
    elif op is ast.Mod and isinstance(left, str):
        # Interpreter.binop formats 'text' % values through formatting.percent_format (widths
        # bounded) before it gets here; Python's own % never runs on program text.
        raise LimitError(Message("%-formatting of strings is not available in the playground"))
