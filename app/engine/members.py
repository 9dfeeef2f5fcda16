"""Values the language features hand a program: static/class methods, properties, and the
safe type objects of ``type(x)``.

Each wraps one thing and exposes nothing else: no ``__dict__`` (``__slots__``), no Python
attributes the interpreter would read (attributes are only read through
``Interpreter.get_attribute``), and a fixed repr without memory addresses.
"""

from __future__ import annotations

from typing import Any, NoReturn, SupportsIndex

from app.engine.errors import ForbiddenError
from app.engine.marks import builtin_type
from app.message import Message


class Uncopyable:
    """Objects of the interpreter that a program holds (its functions, bound methods,
    iterators, ``super()``) and the interpreter itself.

    Security: Python's copy and pickle take any object apart through ``__reduce_ex__``, slots
    included: a deepcopy that reached a program function copied its live interpreter, with the
    program's globals, tensors and budget, as a second interpreter the budget never saw.
    Functions are shared, not copied, as the playground's copy.deepcopy says."""

    __slots__ = ()

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise ForbiddenError(Message(
            "{label} cannot copy {what} in the playground", label="copy",
            what="a function (functions are shared, not copied: keep them out of what you "
                 "copy)"))


class StaticMethod:
    """``@staticmethod`` over a program function."""

    __slots__ = ("function",)

    def __init__(self, function: Any) -> None:
        self.function = function

    def __repr__(self) -> str:
        return f"<staticmethod {self.function!r}>"


class ClassMethod:
    """``@classmethod`` over a program function."""

    __slots__ = ("function",)

    def __init__(self, function: Any) -> None:
        self.function = function

    def __repr__(self) -> str:
        return f"<classmethod {self.function!r}>"


class Property:
    """``@property`` over a program function, with an optional ``@name.setter``."""

    __slots__ = ("getter", "setter")

    def __init__(self, getter: Any, setter: Any = None) -> None:
        self.getter = getter
        self.setter = setter

    def __repr__(self) -> str:
        return "<property>"


class TypeRef:
    """What ``type(x)`` gives for an object whose class is not the program's own: printable,
    comparable with the class itself (``type(x) == torch.Tensor``, ``type(x) is int``), with
    a readable ``__name__``, and nothing else. Security: the real class would be a way to
    ``__mro__``, ``__subclasses__`` and constructors the program cannot name."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    @property
    def name(self) -> str:
        return self.cls.__name__

    def __eq__(self, other: object) -> bool:
        # int(), str(), list() ... of the playground are functions that stand for the class.
        if isinstance(other, TypeRef):
            other = other.cls
        else:
            found = builtin_type(other)
            other = other if found is None else found
        return self.cls is other

    def __hash__(self) -> int:
        return hash(self.cls)

    def __repr__(self) -> str:
        module = self.cls.__module__
        if module == "builtins":
            return f"<class '{self.cls.__qualname__}'>"
        return f"<class '{module}.{self.cls.__qualname__}'>"

    __str__ = __repr__


# print(staticmethod) shows what Python shows, not this module's path.
for _member, _name in ((StaticMethod, "staticmethod"), (ClassMethod, "classmethod"),
                       (Property, "property")):
    _member.__module__, _member.__name__, _member.__qualname__ = "builtins", _name, _name
