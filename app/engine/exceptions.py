"""The exceptions a program may raise and catch, and the ones it never can.

A program's ``except`` (bare, ``except Exception``, ``except BaseException``) catches the
errors of its own code and of torch (a shape mismatch is a RuntimeError), never the sandbox's
own: a refusal, a budget or the deadline (``SandboxError``), Python's MemoryError and
RecursionError (raised by our limits), or the interpreter's control flow (break, continue,
return travel as exceptions). Catching those would let a program run past its limits.
"""

from __future__ import annotations

from collections.abc import Container

from app.engine.errors import SandboxError

# The built-in exception classes a program can name, raise, catch and extend.
EXCEPTION_CLASSES: dict[str, type[BaseException]] = {
    cls.__name__: cls for cls in (
        BaseException, Exception, ArithmeticError, LookupError, ValueError, TypeError,
        RuntimeError, KeyError, IndexError, ZeroDivisionError, StopIteration,
        NotImplementedError, AssertionError, AttributeError, NameError, OverflowError,
    )
}

# Never caught by a program, also when they are the cause or context of another error (torch
# code that catches our LimitError and raises its own error from it).
_NEVER_CAUGHT: tuple[type[BaseException], ...] = (SandboxError, MemoryError, RecursionError)
_PYTHON_STOPS = (KeyboardInterrupt, SystemExit, GeneratorExit)
# What stops the worker process itself (a signal, an exit), never raised by a program: every
# other BaseException that ends a program is the program's own error. A program's
# `raise BaseException()` once passed `except Exception` in Sandbox.run and the job handler
# and ended the worker.
PROCESS_STOPS: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit)
# How far the cause/context chain is followed; a longer chain is not caught at all.
_MAX_CHAIN = 1_000


def is_catchable(error: BaseException, internal: tuple[type[BaseException], ...],
                 own: Container[type] = ()) -> bool:
    """Whether a program's ``except`` may see ``error``. ``internal`` are the interpreter's
    control-flow exceptions, ``own`` the program's classes: of the errors outside Exception
    only BaseException itself and the program's own subclasses are (not KeyboardInterrupt,
    SystemExit, GeneratorExit)."""
    if isinstance(error, (*internal, *_PYTHON_STOPS)):
        return False
    if not isinstance(error, Exception) and not (type(error) is BaseException
                                                 or type(error) in own):
        return False
    link: BaseException | None = error
    for _ in range(_MAX_CHAIN):
        if link is None:
            return True
        if isinstance(link, _NEVER_CAUGHT):
            return False
        link = link.__cause__ or link.__context__
    return False


def is_program_exception_class(value: object, user_classes: Container[type]) -> bool:
    """A class a program may raise or catch: a built-in one above or its own subclass."""
    return isinstance(value, type) and issubclass(value, BaseException) and (
        value in EXCEPTION_CLASSES.values() or value in user_classes)
