"""String formatting for programs: f-strings, ``str.format``, ``format()`` and ``%``.

Security: Python's own formatting runs one C call per field with whatever width and precision
the program wrote (``f'{x:>1000000000}'`` pads to a gigabyte, ``'%.999999f' % x`` writes a
million digits) and calls the value's own ``__format__`` / ``__str__``, and ``str.format``
follows attribute and index lookups inside its fields (``'{0.__class__.__mro__}'``). So here:

- every format spec is parsed first and its width and precision capped (max_format_width);
  only a spec that parsed is handed to Python, and only with a plain int, float, bool, str or
  complex (whose formatting is then bounded by the value and the caps);
- any other value is written through the playground's bounded text (the same text print()
  writes), never by a program-controlled ``__format__``; a tensor follows torch's rule
  (``Tensor.__format__``: a spec formats a 0-d tensor's number);
- format fields are plain names or positions: no ``.attribute`` or ``[index]`` lookups;
- every result is counted against max_sequence_items before it is joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from string import Formatter
from typing import Any

import numpy as np
import torch

from app.config import Settings
from app.engine.errors import ForbiddenError, LimitError
from app.message import Message

# The types Python formats in C with no program code involved.
_PLAIN_TYPES = (int, float, bool, str, complex)

# The standard format spec mini-language of Python 3.11:
# [[fill]align][sign][z][#][0][width][grouping][.precision][type]. ASCII digits only, so a
# spec the pattern accepts means exactly what it says (Python also reads other decimal digits).
_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?(?P<zero>0)?(?P<width>[0-9]+)?"
    r"[,_]?(?:\.(?P<precision>[0-9]+))?[bcdeEfFgGnosxX%]?",
    re.DOTALL | re.ASCII)

# printf-style: %[(key)][flags][width|*][.precision|.*][length modifier]type
_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-+ #0]*)(?P<width>\*|[0-9]+)?"
    r"(?:\.(?P<precision>\*|[0-9]*))?[hlL]?(?P<type>.)?",
    re.DOTALL | re.ASCII)
_PERCENT_NUMBER_TYPES = frozenset("diouxXeEfFgGc")
_PERCENT_TEXT_TYPES = frozenset("sra")

_SWITCH = {"auto": "cannot switch from manual field specification to automatic field numbering",
           "manual": "cannot switch from automatic field numbering to manual field specification"}


class TextBuilder:
    """Pieces of one result, refused as soon as their total passes max_sequence_items.

    The text written for conversions (!s, !r, %s of a list ...) counts as well, kept or not:
    '{0!s:.0}' * 10**5 keeps nothing of a long list's text but would write it 10**5 times."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limit = settings.max_sequence_items
        self.pieces: list[str] = []
        self.size = 0
        self.work = 0

    def add(self, piece: str) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            raise text_too_long(self.size, self.limit)
        self.pieces.append(piece)

    def charge(self, written: str) -> None:
        self.work += len(written)
        if self.work > self.limit:
            raise text_too_long(self.work, self.limit)

    def field(self, value: Any, conversion: str | None, spec: str) -> None:
        """One replacement field: {value!conversion:spec}."""
        if conversion is not None:
            value = convert(value, conversion, self.settings)
            self.charge(value)
        self.add(format_value(value, spec, self.settings))

    def text(self) -> str:
        return "".join(self.pieces)


def text_too_long(size: int, limit: int) -> LimitError:
    return LimitError(Message("the text would be {size:,} characters or more, longer than the "
                              "limit of {limit:,} (setting max_sequence_items)",
                              size=size, limit=limit),
                      hint=Message("Build shorter text, or keep large data in a tensor."))


# ------------------------------------------------------------------------------ value text
def value_text(value: Any, as_str: bool, settings: Settings) -> str:
    """``str(value)`` (or ``repr``) as print() writes it: containers as Python writes them,
    other objects through the bounded text of app/inspect (no addresses, no program code)."""
    from app.engine.builtins import _text_pieces  # builtins imports this module

    limit = settings.max_sequence_items
    if type(value) is str:
        if as_str:
            return value
        if len(value) + 2 > limit:  # the repr is longer than the string itself
            raise text_too_long(len(value) + 2, limit)
        return repr(value)
    builder = TextBuilder(settings)
    for piece in _text_pieces(value, as_str, set()):
        builder.add(piece)
    return builder.text()


def convert(value: Any, conversion: str | None, settings: Settings) -> Any:
    """The ``!s`` / ``!r`` / ``!a`` conversion of a format field (None: the value as it is)."""
    if conversion is None:
        return value
    if conversion == "s":
        return value_text(value, True, settings)
    if conversion == "r":
        return value_text(value, False, settings)
    if conversion == "a":
        return ascii_text(value_text(value, False, settings))
    raise ValueError(f"Unknown conversion specifier {conversion}")


def ascii_text(text: str) -> str:
    """What ascii() makes of a repr: non-ASCII characters as \\x, \\u or \\U escapes."""
    return text.encode("ascii", "backslashreplace").decode("ascii")


# ------------------------------------------------------------------------------ format()
def format_value(value: Any, spec: str, settings: Settings) -> str:
    """``format(value, spec)``, bounded (see the module docstring)."""
    value = _plain_number(value, spec)
    if type(value) in _PLAIN_TYPES:
        if spec:
            check_spec(spec, type(value).__name__, settings)
        return format(value, spec)
    if not spec:
        return value_text(value, True, settings)
    if isinstance(value, torch.Tensor):
        what = (f"a {type(value).__name__}" if value.dim() == 0
                else f"this tensor has shape {tuple(value.shape)}")
        raise TypeError(f"unsupported format string passed to {type(value).__name__}.__format__"
                        ": the spec "
                        f"{spec!r} works on a plain 0-d tensor (a single number) only, as in "
                        f"torch; {what}. Format t.item() for a one-element tensor, or its "
                        "items one by one")
    raise TypeError(f"unsupported format string passed to {type(value).__name__}.__format__ "
                    f"(the spec {spec!r} applies to numbers and text; format str(value) "
                    "instead)")


def _plain_number(value: Any, spec: str) -> Any:
    """A numpy scalar or a 0-d tensor as the Python number it formats as (torch's rule: a
    0-d plain tensor formats as its item; a Parameter or a 1-d tensor does not)."""
    if isinstance(value, np.generic) and isinstance(value, (np.number, np.bool_)):
        return value.item()  # as numpy's own __format__ does, with or without a spec
    if type(value) is torch.Tensor and value.dim() == 0:
        return value.detach().item()
    return value


def check_spec(spec: str, type_name: str, settings: Settings) -> None:
    """Refuse a spec that is not the standard mini-language, or whose width or precision
    passes max_format_width, before Python reads it."""
    match = _SPEC.fullmatch(spec)
    if match is None and spec[-1].isalpha() and _SPEC.fullmatch(spec[:-1]) is not None:
        raise ValueError(f"Unknown format code '{spec[-1]}' for object of type '{type_name}'")
    if match is None:
        raise ValueError(f"Invalid format specifier {spec!r} for object of type '{type_name}'")
    for part in ("width", "precision"):
        check_size(part, match.group(part), settings)


def check_size(part: str, digits: str | int | None, settings: Settings) -> None:
    """A width or precision (digits of the format string, or a number given as argument)."""
    if digits is None or digits == "":
        return
    limit = settings.max_format_width
    if isinstance(digits, str):
        digits = digits.lstrip("0") or "0"
        # int() of a million digits is slow work of its own: a long run is too big anyway.
        size: int | None = int(digits) if len(digits) <= 18 else None
        shown = f"{len(digits):,} digits"
    else:
        size = abs(digits)
    if size is None or size > limit:
        shown = f"{size:,}" if size is not None else shown
        raise LimitError(Message("a format {part} of {shown} is larger than the limit of "
                                 "{limit:,} (setting max_format_width)",
                                 part=part, shown=shown, limit=limit),
                         hint=Message("Use a {part} of at most {limit:,}.", part=part, limit=limit))


def format_string(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any],
                  settings: Settings, positional_allowed: bool = True) -> str:
    """``template.format(*args, **kwargs)`` (``format_map`` when not positional_allowed)."""
    builder = TextBuilder(settings)
    numbering = _Numbering()
    for literal, field, spec, conversion in Formatter().parse(template):
        builder.add(literal)
        if field is None:
            continue
        value = _field_value(field, args, kwargs, numbering, positional_allowed)
        spec = _expand_spec(spec or "", args, kwargs, numbering, positional_allowed, settings)
        builder.field(value, conversion, spec)
    return builder.text()


class _Numbering:
    """Automatic ('{}') or manual ('{0}') field numbering: one per template, as in Python."""

    def __init__(self) -> None:
        self.next = 0
        self.mode: str | None = None

    def use(self, mode: str) -> None:
        if self.mode not in (None, mode):
            raise ValueError(_SWITCH[mode])
        self.mode = mode


def _field_value(field: str, args: tuple[Any, ...], kwargs: Mapping[str, Any],
                 numbering: _Numbering, positional_allowed: bool) -> Any:
    if "." in field or "[" in field:
        dot, bracket = field.find("."), field.find("[")
        attribute = dot != -1 and (bracket == -1 or dot < bracket)
        kind, example = ("attribute", "x.name") if attribute else ("index", "x[0]")
        raise ForbiddenError(
            Message("{kind} lookups inside format fields ('{{{field}}}') are not available in the "
                    "playground; look the value up first and format it: '{{}}'.format({example})",
                    kind=kind, field=field, example=example),
            hint=Message("Compute the value in the program, then pass it to format()."))
    if field == "" or field.isdecimal():
        if not positional_allowed:
            raise ValueError("Format string contains positional fields")
        if field == "":
            numbering.use("auto")
            index = numbering.next
            numbering.next += 1
        else:
            numbering.use("manual")
            index = int(field) if len(field) < 10 else len(args)
        if index >= len(args):
            raise IndexError(f"Replacement index {index} out of range for positional args "
                             "tuple")
        return args[index]
    if field not in kwargs:
        raise KeyError(field)
    return kwargs[field]


def _expand_spec(spec: str, args: tuple[Any, ...], kwargs: Mapping[str, Any],
                 numbering: _Numbering, positional_allowed: bool, settings: Settings) -> str:
    """Nested fields of a spec ('{:{width}.{precision}f}'): one level deep, as in Python."""
    if "{" not in spec:
        return spec
    builder = TextBuilder(settings)
    for literal, field, inner_spec, conversion in Formatter().parse(spec):
        builder.add(literal)
        if field is None:
            continue
        if inner_spec and "{" in inner_spec:
            raise ValueError("Max string recursion exceeded")
        value = _field_value(field, args, kwargs, numbering, positional_allowed)
        builder.field(value, conversion, inner_spec or "")
    return builder.text()


# ------------------------------------------------------------------------------ % formatting
def percent_format(template: str, values: Any, settings: Settings) -> str:
    """``template % values``, bounded: each conversion's width and precision are capped, and
    the values are numbers, text or the bounded text of other objects."""
    if type(values) is tuple:
        args: tuple[Any, ...] = values
        mapping: Any = None
    else:
        args = (values,)
        # Python reads a non-tuple value with item access as the mapping for %(key)s.
        mapping = values if isinstance(values, (dict, list)) else None
    builder = TextBuilder(settings)
    position = 0
    used_key = False
    start = 0
    while True:
        found = template.find("%", start)
        if found == -1:
            builder.add(template[start:])
            break
        builder.add(template[start:found])
        match = _PERCENT.match(template, found)
        assert match is not None  # the pattern always matches "%" on its own
        kind = match.group("type")
        if kind is None:
            raise ValueError("incomplete format")
        start = match.end()
        if kind == "%" and match.end() - found == 2:
            builder.add("%")
            continue
        key = match.group("key")
        width = match.group("width")
        precision = match.group("precision")
        if width == "*":
            width, position = _star(args, position, settings, "width")
        else:
            check_size("width", width, settings)
        if precision == "*":
            precision, position = _star(args, position, settings, "precision")
            precision = max(precision, 0)  # as Python reads a negative '*' precision
        else:
            check_size("precision", precision, settings)
        if key is not None:
            if type(mapping) is not dict:
                raise TypeError("format requires a mapping (a dict) for %(name)s fields")
            used_key = True
            if key not in mapping:
                raise KeyError(key)
            value = mapping[key]
        else:
            if position >= len(args) or used_key:
                raise TypeError("not enough arguments for format string")
            value = args[position]
            position += 1
        if kind not in _PERCENT_NUMBER_TYPES and kind not in _PERCENT_TEXT_TYPES:
            raise ValueError(f"unsupported format character {kind!r} (0x{ord(kind):x}) at "
                             f"index {match.end() - 1}")
        spec = "%" + match.group("flags") + (str(width) if width is not None else "") + (
            f".{precision}" if precision is not None else "") + kind
        builder.add(_percent_piece(spec, kind, value, builder))
    if position < len(args) and mapping is None and not used_key:
        raise TypeError("not all arguments converted during string formatting")
    return builder.text()


def _star(args: tuple[Any, ...], position: int, settings: Settings, part: str
          ) -> tuple[int, int]:
    if position >= len(args):
        raise TypeError("not enough arguments for format string")
    size = args[position]
    if type(size) is not int:
        raise TypeError("* wants int")
    check_size(part, size, settings)
    return size, position + 1


def _percent_piece(spec: str, kind: str, value: Any, builder: TextBuilder) -> str:
    if isinstance(value, torch.Tensor) and kind in _PERCENT_NUMBER_TYPES:
        if value.numel() != 1:
            raise TypeError(f"%{kind} format needs a number; this tensor has shape "
                            f"{tuple(value.shape)}: format t.item() of a one-element tensor")
        value = value.detach().item()
    elif isinstance(value, (np.number, np.bool_)) and kind in _PERCENT_NUMBER_TYPES:
        value = value.item()  # '%s' writes a numpy number's own str: np.float32 '0.1'
    if kind in _PERCENT_TEXT_TYPES and type(value) not in (*_PLAIN_TYPES, type(None)):
        value = value_text(value, kind == "s", builder.settings)
        if kind == "a":
            value = ascii_text(value)
        builder.charge(value)
        return (spec[:-1] + "s") % (value,)
    if kind in _PERCENT_NUMBER_TYPES and type(value) not in (int, float, bool) and not (
            kind == "c" and type(value) is str):
        raise TypeError(f"%{kind} format: a real number is required, not "
                        f"{type(value).__name__}")
    return spec % (value,)


def join_checked(pieces: Iterable[str], settings: Settings) -> str:
    builder = TextBuilder(settings)
    for piece in pieces:
        builder.add(piece)
    return builder.text()
