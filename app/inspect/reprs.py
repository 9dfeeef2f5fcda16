"""Bounded, address-free text of any value a view shows.

Security: views are built after the program's deadline, so what they cost must not depend on
what the program built, and ``repr`` does: a layer made with a 10**5-item tuple
(nn.Upsample(scale_factor=(2.0,) * 10**5), 22 ms per view, one view per traced step), an
optimizer with thousands of parameter groups, a tuple nested 3,000 deep (RecursionError), a
tensor with many small dimensions (torch prints every element of a dimension of 6 or fewer, so
(6,) * 12 is 2 billion elements). Everything here writes text piece by piece and stops at the
limit, walks nested values with an explicit stack instead of recursion, formats at most
``max_repr_elements`` tensor elements, and removes memory addresses
(app/engine/text.without_addresses) from every text that comes from an object's repr/str.

For ordinary values the text is exactly ``repr(value)``; tests/inspect/test_reprs.py compares
the two on modules, optimizers, containers and tensors.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from app.engine.text import without_addresses
from app.inspect.tensor_repr import fast_repr

# torch's and numpy's default print options: above _THRESHOLD elements, dimensions longer than
# 2 * _EDGE show their first and last _EDGE entries only.
_THRESHOLD = 1000
_EDGE = 3


@dataclass
class TextLimits:
    """The bounds of one view's text (see the settings of the same names)."""

    chars: int  # max_repr_chars
    elements: int  # max_repr_elements
    dims: int  # max_view_dims
    items: int  # max_view_items: values visited by one text, also by the work it hides
    # Work left: every value visited (a container's item, a module, a compared child) costs 1,
    # so a text that writes little but visits much (ModuleList comparisons) still stops.
    work: int = field(default=0)
    comparing: int = field(default=0)  # ModuleList comparisons under way (see _same_text)

    def fresh(self) -> TextLimits:
        return TextLimits(self.chars, self.elements, self.dims, self.items, self.items)

    def spend(self) -> bool:
        """Take one unit of work; False once there is none left."""
        self.work -= 1
        return self.work >= 0


class Writer:
    """Text written in pieces, cut at ``limit`` characters (the cut is marked with " …")."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size > self.limit

    @property
    def room(self) -> int:
        return max(0, self.limit + 1 - self.size)

    def write(self, piece: str) -> None:
        piece = piece[:self.room]
        self.parts.append(piece)
        self.size += len(piece)

    def text(self) -> str:
        joined = "".join(self.parts)
        return joined[:self.limit] + " …" if self.full else joined


def bounded_text(value: Any, limits: TextLimits, as_str: bool = False) -> str:
    """``repr(value)`` (``str`` when ``as_str``), at most ``limits.chars`` characters."""
    writer = Writer(limits.chars)
    write_value(writer, value, limits.fresh(), as_str)
    return writer.text()


def write_value(writer: Writer, value: Any, limits: TextLimits, as_str: bool = False) -> None:
    for piece in pieces(value, limits, as_str):
        writer.write(piece)
        if writer.full:
            return


# A stream is an iterator of (kind, payload): "text" pieces are written as they are, "value"
# and "str" entries are written as repr / str of the payload. Lists, tuples, dicts and sets get
# a lighter _Items frame. Both are consumed from an explicit stack: nesting costs no recursion.
Entry = tuple[str, Any]
_STR_KINDS = (str, bytes, bytearray)
_END = object()


class _Items:
    """A plain container being written: its items, the text between and after them."""

    __slots__ = ("closing", "count", "items", "key", "pairs", "separator")

    def __init__(self, items: Iterator[Any], separator: str, closing: str, key: int,
                 pairs: bool = False) -> None:
        self.items = items
        self.separator = separator
        self.closing = closing
        self.key = key
        self.pairs = pairs  # a dict's items: each is written as key ": " value
        self.count = 0


# NameError and AttributeError define __str__ (for their name attribute) but write the same.
_PLAIN_EXCEPTION_STR = (BaseException.__str__, KeyError.__str__, NameError.__str__,
                        AttributeError.__str__)
_OPENINGS = {list: ("[", "]"), tuple: ("(", ")"), dict: ("{", "}"), set: ("{", "}"),
             frozenset: ("frozenset({", "})")}


def pieces(value: Any, limits: TextLimits, as_str: bool = False) -> Iterator[str]:
    """The text of ``value`` in pieces; each visited value spends one unit of limits.work."""
    stack: list[Any] = []
    active: set[int] = set()  # containers being written: a list that holds itself is "[...]"
    item, item_as_str = value, as_str
    while True:
        if not limits.spend():
            yield "…"
            return
        if item_as_str and isinstance(item, BaseException):
            # str() of an exception is the str of its argument (the repr for KeyError), of
            # the tuple of its arguments, or "".
            arguments = item.args
            if len(arguments) == 1 and type(item).__str__ in _PLAIN_EXCEPTION_STR:
                item, item_as_str = arguments[0], not isinstance(item, KeyError)
            elif type(item).__str__ in _PLAIN_EXCEPTION_STR:
                item, item_as_str = (arguments, False) if arguments else ("", True)
        kind = type(item)
        opening = _OPENINGS.get(kind)
        if opening is not None and (item or (kind is not set and kind is not frozenset)):
            if id(item) in active:
                yield "[...]" if kind is list else "{...}" if kind is dict else "(...)"
            else:
                active.add(id(item))
                yield opening[0]
                closing = ",)" if kind is tuple and len(item) == 1 else opening[1]
                stack.append(_Items(iter(item.items() if kind is dict else item), ", ",
                                    closing, id(item), pairs=kind is dict))
        else:
            stream = _stream(item, limits, active)
            if stream is not None:
                stack.append(stream)
            else:
                yield _leaf(item, limits, limits.chars, item_as_str)
        # The next value to write: the next item of the innermost unfinished container.
        while True:
            if not stack:
                return
            top = stack[-1]
            if type(top) is _Items:
                entry = next(top.items, _END)
                if entry is _END:
                    stack.pop()
                    active.discard(top.key)
                    if top.closing:
                        yield top.closing
                    continue
                if top.count:
                    yield top.separator
                top.count += 1
                if top.pairs:
                    stack.append(_Items(iter(entry), ": ", "", -1))
                    continue
                item, item_as_str = entry, False
                break
            entry = next(top, None)
            if entry is None:
                stack.pop()
                continue
            kind_name, payload = entry
            if kind_name == "text":
                yield payload
                continue
            if kind_name == "leave":
                active.discard(payload)
                continue
            item, item_as_str = payload, kind_name == "str"
            break


def _stream(value: Any, limits: TextLimits, active: set[int]) -> Iterator[Entry] | None:
    """The pieces of a value that holds other values; None for a leaf."""
    kind = type(value)
    if isinstance(value, (list, dict, set, frozenset, *_DICT_VIEWS)) or kind is tuple \
            or (isinstance(value, tuple) and hasattr(kind, "n_fields")):
        if id(value) in active:
            return iter([("text", "[...]" if isinstance(value, list) else
                          "{...}" if isinstance(value, dict) else "(...)")])
        active.add(id(value))
        return _container(value)
    if isinstance(value, torch.Size):
        return _sequence(value, "torch.Size([", "])")
    if isinstance(value, BaseException):
        return _sequence(value.args, f"{kind.__name__}(", ")")
    if kind is slice:
        return _sequence((value.start, value.stop, value.step), "slice(", ")")
    if isinstance(value, nn.Module) and kind.__repr__ in (nn.Module.__repr__,
                                                           nn.ModuleList.__repr__):
        return (("text", piece) for piece in module_pieces(value, limits))
    if isinstance(value, torch.optim.Optimizer) \
            and kind.__repr__ is torch.optim.Optimizer.__repr__:
        return _optimizer(value, limits)
    return None


_DICT_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))


def _sequence(items: Any, opening: str, closing: str) -> Iterator[Entry]:
    yield "text", opening
    for index, item in enumerate(items):
        if index:
            yield "text", ", "
        yield "value", item
    yield "text", closing


def _container(value: Any) -> Iterator[Entry]:
    kind = type(value)
    if isinstance(value, _DICT_VIEWS):
        yield from _sequence(value, f"{kind.__name__}([", "])")
    elif isinstance(value, tuple) and kind is not tuple:  # torch.return_types.max(...)
        fields = getattr(kind, "__match_args__", ())
        yield "text", f"{kind.__module__}.{kind.__name__}("
        for index, (name, item) in enumerate(zip(fields, value, strict=False)):
            yield "text", f"{',' if index else ''}\n{name}="
            yield "value", item
        yield "text", ")"
    elif isinstance(value, OrderedDict) and sys.version_info < (3, 12) and value:
        # state_dict() returns an OrderedDict: written the way the running Python writes it,
        # OrderedDict([(key, value), ...]) before 3.12, so printed text matches plain Python.
        yield "text", f"{kind.__name__}(["
        for index, (key, item) in enumerate(value.items()):
            yield "text", ", (" if index else "("
            yield "value", key
            yield "text", ", "
            yield "value", item
            yield "text", ")"
        yield "text", "])"
    else:
        # Other dict subclasses (OrderedDict from 3.12 on) are written as Name({...}).
        base = next(base for base in (list, tuple, dict, set, frozenset)
                    if isinstance(value, base))
        wrapped = kind not in (list, tuple, dict, set, frozenset)
        if wrapped:
            yield "text", kind.__name__ + ("()" if not value else "(")
        if not value and (wrapped or base in (set, frozenset)):
            yield "text", "" if wrapped else f"{kind.__name__}()"
        elif base is dict:
            yield "text", "{"
            for index, (key, item) in enumerate(value.items()):
                yield "text", ", " if index else ""
                yield "value", key
                yield "text", ": "
                yield "value", item
            yield "text", "}"
        elif base is frozenset and not wrapped:
            yield from _sequence(value, "frozenset({", "})")
        else:
            opening, closing = {list: "[]", tuple: "()", set: "{}", frozenset: "{}"}[base]
            yield from _sequence(value, opening, "," + closing
                                 if base is tuple and len(value) == 1 else closing)
        if wrapped and value:
            yield "text", ")"
    yield "leave", id(value)


def _leaf(value: Any, limits: TextLimits, room: int, as_str: bool) -> str:
    try:
        if isinstance(value, _STR_KINDS):
            return _string(value, room, as_str)
        if isinstance(value, torch.Tensor):
            return tensor_text(value, limits)
        if isinstance(value, np.ndarray):
            return ndarray_text(value, limits, as_str)
        if type(value).__repr__ is object.__repr__:  # CPython's default: "<... at 0x...>"
            return f"<{_type_name(type(value))} object>"
        text = str(value) if as_str else repr(value)
    except Exception as err:  # a repr that fails must not lose the rest of the view
        return f"<{type(value).__name__} (repr failed: {type(err).__name__})>"
    return without_addresses(text[:room + 64])[:room]


def _type_name(kind: type) -> str:
    module = getattr(kind, "__module__", "builtins")
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _string(value: str | bytes | bytearray, room: int, as_str: bool) -> str:
    """repr (or str) of a string, from its first ``room`` characters only. repr picks its
    quotes from the whole string, so the head is given the same choice."""
    head = value[:room]
    if as_str and isinstance(value, str):
        return head  # type: ignore[return-value]
    if len(head) == len(value):
        return repr(value)
    single, double = ("'", '"') if isinstance(value, str) else (b"'", b'"')
    if single in value and double not in value and single not in head:
        # The whole string makes repr use double quotes; a quote added to the head does too.
        return repr(head + single)[:-2]  # type: ignore[operator]
    return repr(head)[:-1]


# --------------------------------------------------------------------------------- tensors
def printed_elements(shape: tuple[int, ...], numel: int) -> int:
    """How many elements torch's (and numpy's) printer formats for this shape."""
    if numel <= _THRESHOLD:
        return numel
    return math.prod(min(size, 2 * _EDGE) for size in shape)


def tensor_text(t: torch.Tensor, limits: TextLimits) -> str:
    """repr(t) when it formats at most ``limits.elements`` elements; else a one-line summary."""
    if t.is_meta:
        return without_addresses(repr(t))[:limits.chars + 1]
    strided = t.layout == torch.strided
    count = printed_elements(tuple(t.shape), t.numel()) if strided else t.numel()
    if t.dim() > limits.dims or count > limits.elements:
        return _summary("tensor", tuple(t.shape), str(t.dtype), count, limits)
    printed = fast_repr(t)
    return without_addresses(repr(t) if printed is None else printed)


def ndarray_text(array: np.ndarray, limits: TextLimits, as_str: bool = False) -> str:
    count = printed_elements(array.shape, array.size)
    if array.ndim > limits.dims or count > limits.elements:
        return _summary("array", array.shape, str(array.dtype), count, limits)
    return without_addresses(str(array) if as_str else repr(array))


def _summary(name: str, shape: tuple[int, ...], dtype: str, count: int,
             limits: TextLimits) -> str:
    dims = ", ".join(str(size) for size in shape[:limits.dims])
    if len(shape) > limits.dims:
        dims += f", … ({len(shape)} dimensions)"
    reason = (f"more than {limits.dims} dimensions (setting max_view_dims)"
              if len(shape) > limits.dims else
              f"{count:,} elements to print, more than {limits.elements:,} (setting "
              "max_repr_elements)")
    return f"{name}(…, shape=({dims}), dtype={dtype})  # not printed: {reason}"


# --------------------------------------------------------------------------------- modules
def module_pieces(root: nn.Module, limits: TextLimits) -> Iterator[str]:
    """repr(root) in pieces, as nn.Module.__repr__ and nn.ModuleList.__repr__ write it, without
    recursion. A line owned by a module nested ``depth`` levels deep is indented by 2 * depth
    spaces (torch's _addindent per level), and a blank one is emptied when nested."""
    stack: list[Any] = [(root, 0)]
    while stack:
        top = stack.pop()
        if isinstance(top, str):
            yield top
            continue
        if isinstance(top, _Children):
            child = next(top.items, None)
            if child is None:
                continue
            stack.append(top)
            label, module = child
            if label != "…":  # the work ran out: no more children
                stack.append((module, top.depth + 1))
            yield "\n" + " " * (2 * top.depth + 2) + label
            continue
        module, depth = top
        if not limits.spend():
            yield "…"
            return
        if not isinstance(module, nn.Module):
            yield "None" if module is None else without_addresses(repr(module))[:limits.chars]
            continue
        if type(module).__repr__ not in (nn.Module.__repr__, nn.ModuleList.__repr__):
            yield without_addresses(repr(module)[:limits.chars])  # no other torch layer has one
            continue
        name = module._get_name()
        listed = type(module).__repr__ is nn.ModuleList.__repr__
        extra = [] if listed else _extra_lines(module, limits)
        has_children = bool(module._modules)
        if listed and not has_children:
            yield name + "()"
            continue
        if not has_children and len(extra) <= 1:
            yield f"{name}({extra[0] if extra else ''})"
            continue
        yield name + "("
        for line in extra:
            own = "  " + line
            yield "\n" + (own if depth == 0 else " " * (2 * depth) + own if own.strip() else "")
        stack.append("\n" + " " * (2 * depth) + ")")
        items = _runs(module, limits) if listed else _spending(
            ((f"({key}): ", child) for key, child in module._modules.items()), limits)
        stack.append(_Children(items, depth))


@dataclass
class _Children:
    items: Iterator[tuple[str, nn.Module | None]]
    depth: int


def _spending(items: Iterator[tuple[str, Any]], limits: TextLimits
              ) -> Iterator[tuple[str, Any]]:
    for item in items:
        if not limits.spend():
            yield "…", None
            return
        yield item


def _runs(module: nn.Module, limits: TextLimits) -> Iterator[tuple[str, nn.Module | None]]:
    """nn.ModuleList's children, repeated ones compressed: "(0-9): 10 x Linear(...)".
    Comparing stops while half the work is left, so the children found can still be written."""
    reserve = limits.items // 2
    start, current, count = 0, None, 0
    for index, child in enumerate(module._modules.values()):
        limits.work -= 1
        if count and limits.work > reserve \
                and (child is current or _same_text(child, current, limits)):
            count += 1
            continue
        if count:
            yield _run_label(start, count), current
        if limits.work <= reserve:  # the rest is neither compared nor shown
            yield "…", None
            return
        start, current, count = index, child, 1
    if count:
        yield _run_label(start, count), current


def _run_label(start: int, count: int) -> str:
    return f"({start}): " if count == 1 else f"({start}-{start + count - 1}): {count} x "


# Each comparison of ModuleList children costs this much work: it formats a child (its
# extra_repr), about four values' worth. A ModuleList of more equal-looking children than the
# work allows shows the first ones and "…".
_COMPARE_WORK = 4
# ModuleLists inside compared children are compared too (torch compares whole reprs). Deeper
# than this, children count as different: the text stays true, only less compressed, and
# ModuleLists nested 1,000 deep cost no recursion.
_COMPARE_DEPTH = 4


def _same_text(a: Any, b: Any, limits: TextLimits) -> bool:
    """Whether repr(a) == repr(b), compared piece by piece up to the first difference; a text
    longer than limits.chars counts as different."""
    if limits.comparing >= _COMPARE_DEPTH:
        return False
    limits.work -= _COMPARE_WORK
    limits.comparing += 1
    left, right = pieces(a, limits), pieces(b, limits)
    pending = ""  # text one side has written and the other not yet; owed by the other side
    ahead_is_left = True
    seen = 0
    try:
        while True:
            behind = right if ahead_is_left else left
            piece = next(behind, None)
            if piece is None:
                if pending:
                    return False
                return next(left if ahead_is_left else right, None) is None
            seen += len(piece)
            if seen > 2 * limits.chars or limits.work <= 0:
                return False
            if len(piece) <= len(pending):
                if not pending.startswith(piece):
                    return False
                pending = pending[len(piece):]
            else:
                if not piece.startswith(pending):
                    return False
                pending = piece[len(pending):]
                ahead_is_left = not ahead_is_left
    finally:
        limits.comparing -= 1


def _extra_lines(module: nn.Module, limits: TextLimits) -> list[str]:
    """module.extra_repr() split in lines; built from the arguments themselves (bounded) when
    one of them is too large for torch's f-string to format cheaply."""
    if type(module).extra_repr is nn.Module.extra_repr:
        return []
    if _large_arguments(module, limits):
        writer = Writer(limits.chars)
        names = [name for name in vars(module) if not name.startswith("_")
                 and name != "training"]
        for index, name in enumerate(names):
            writer.write((", " if index else "") + name + "=")
            write_value(writer, vars(module)[name], limits)
            if writer.full:
                break
        if module._parameters:
            writer.write(f"{', ' if names else ''}{len(module._parameters)} parameters")
        return [writer.text()]
    try:
        text = module.extra_repr()
    except Exception as err:
        return [f"<extra_repr failed: {type(err).__name__}>"]
    return without_addresses(text[:limits.chars + 1]).split("\n") if text else []


def _large_arguments(module: nn.Module, limits: TextLimits) -> bool:
    """Whether the arguments extra_repr may print hold more than ``limits.elements`` items in
    all (or a tensor, or a long string)."""
    budget = limits.elements - len(module._parameters) - len(module._buffers)
    stack = [value for name, value in vars(module).items() if not name.startswith("_")]
    while stack:
        value = stack.pop()
        budget -= 1
        if budget < 0 or isinstance(value, (torch.Tensor, np.ndarray)):
            return True
        if isinstance(value, _STR_KINDS):
            budget -= len(value) // 8
        elif isinstance(value, (list, tuple, set, frozenset)):
            if len(value) > budget:
                return True
            stack.extend(value)
        elif isinstance(value, dict):
            if 2 * len(value) > budget:
                return True
            stack.extend(value.keys())
            stack.extend(value.values())
    return budget < 0


# ------------------------------------------------------------------------------ optimizers
def _optimizer(optimizer: torch.optim.Optimizer, limits: TextLimits) -> Iterator[Entry]:
    """torch.optim.Optimizer.__repr__, in pieces (a group's values are written with str)."""
    yield "text", type(optimizer).__name__ + " ("
    for index, group in enumerate(optimizer.param_groups):
        yield "text", f"\nParameter Group {index}\n"
        keys: list[Any] = list(group) if len(group) <= limits.elements else []
        try:
            keys.sort()
        except TypeError:  # keys that do not compare: torch's repr fails there, this does not
            pass
        if len(group) > limits.elements:
            yield "text", f"    … {len(group):,} keys\n"
        for key in keys:
            if key != "params":
                yield "text", "    "
                yield "str", key
                yield "text", ": "
                yield "str", group[key]
                yield "text", "\n"
    yield "text", ")"
