"""type(), id(), getattr(), setattr(), hasattr() for programs, without their escapes.

- ``type(x)`` gives the program's own class for its own objects, else a ``TypeRef``: a
  printable, comparable stand-in with ``__name__`` and nothing else (the real class leads to
  ``__mro__``, ``__subclasses__`` and constructors).
- ``id(x)`` numbers objects 1, 2, 3 ... in the order the program asks, stable for the run:
  a memory address tells an attacker where things are.
- ``getattr``/``setattr``/``hasattr`` work on instances of the program's own classes and
  names without a leading underscore, through the same attribute path as ``obj.name``: a
  computed string cannot reach what the parser refuses to see written.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.engine.errors import ForbiddenError, LimitError
from app.engine.marks import builtin_type, is_builtin
from app.engine.members import ClassMethod, Property, StaticMethod, TypeRef
from app.engine.policy import Namespace
from app.message import Message

if TYPE_CHECKING:
    from app.engine.interpreter import Interpreter

_MISSING = object()


def type_identity(value: Any) -> Any:
    """The class a value stands for: a TypeRef's class, ``int`` for the int() built-in."""
    if isinstance(value, TypeRef):
        return value.cls
    found = builtin_type(value)
    return value if found is None else found


def make_reflection_builtins(interp: Interpreter) -> dict[str, Callable[..., Any]]:
    settings = interp.settings
    numbers: dict[int, tuple[Any, int]] = {}

    def type_(*args: Any) -> Any:
        from app.engine.interpreter import BoundUserMethod, MethodRef, UserFunction

        if len(args) != 1:
            raise ForbiddenError(Message("line {line}: type() takes one argument here; make "
                                         "classes with the class statement",
                                         line=interp.line), interp.line)
        value = args[0]
        cls = type(value)
        if cls in interp.user_classes:
            return cls
        stand_ins: dict[type, type] = {
            UserFunction: types.FunctionType, BoundUserMethod: types.MethodType,
            MethodRef: types.BuiltinMethodType, Namespace: types.ModuleType, TypeRef: type,
            StaticMethod: staticmethod, ClassMethod: classmethod, Property: property,
        }
        if isinstance(value, type) or builtin_type(value) is not None:
            return TypeRef(type)
        if is_builtin(value):
            return TypeRef(types.BuiltinFunctionType)
        return TypeRef(stand_ins.get(cls, cls))

    def id_(value: Any) -> int:
        # The object is kept so its number stays its own: a freed object's address is reused.
        entry = numbers.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        if len(numbers) >= settings.max_object_ids:
            raise LimitError(Message("id() was asked for more than {max_object_ids:,} objects "
                                     "(setting max_object_ids)",
                                     max_object_ids=settings.max_object_ids),
                             hint=Message("Compare objects with `is` instead."))
        number = len(numbers) + 1
        numbers[id(value)] = (value, number)
        return number

    def own_object(value: Any, name: Any, function: str, modules: bool = False) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{function}(): attribute name must be a string")
        if name.startswith("_") or not name.isidentifier() or not name.isascii():
            raise ForbiddenError(Message("line {line}: {function}() with the name {name!r} is not "
                                         "available: names starting with '_' are how sandboxes "
                                         "are escaped",
                                         line=interp.line, function=function,
                                         name=name), interp.line,
                                 hint=Message("Use a plain attribute name."))
        # getattr(nn, 'LSTM'): a module's listed members only (get_attribute's own rule).
        if modules and isinstance(value, Namespace):
            return
        if type(value) not in interp.user_classes:
            raise ForbiddenError(Message("line {line}: {function}() works on objects of your own "
                                         "classes only, not on {value}",
                                         line=interp.line, function=function,
                                         value=interp.describe_type(value)),
                                 interp.line, hint=Message("Write obj.{name} directly.", name=name))

    def getattr_(value: Any, name: Any, default: Any = _MISSING) -> Any:
        own_object(value, name, "getattr", modules=True)
        try:
            return interp.get_attribute(value, name)
        except AttributeError:
            if default is _MISSING:
                raise
            return default

    def setattr_(value: Any, name: Any, item: Any) -> None:
        own_object(value, name, "setattr")
        interp.set_attribute(value, name, item)

    def hasattr_(value: Any, name: Any) -> bool:
        own_object(value, name, "hasattr", modules=True)
        try:
            interp.get_attribute(value, name)
        except AttributeError:
            return False
        return True

    return {"type": type_, "id": id_, "getattr": getattr_, "setattr": setattr_,
            "hasattr": hasattr_}
