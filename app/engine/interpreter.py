"""A tree-walking interpreter for the validated subset of Python.

User code is never handed to Python's own evaluator. Every name resolves through the
program's scopes and the playground's built-ins; every attribute and call goes through
``policy.py``; every statement and loop iteration is counted by the budget; every tensor
call is dry-run on meta tensors first.
"""

from __future__ import annotations

import ast
import inspect
import operator
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils import data as tud
from torch.utils._device import DeviceContext

from app.config import Settings
from app.engine import kernels, lazy, policy, stdlib
from app.engine.admission import Admission, check_device
from app.engine.budget import MAX_DATA_ITEMS, Budget, count_data_items, to_meta
from app.engine.builtins import bounded_repr, make_builtins
from app.engine.devices import DevicePolicy
from app.engine.errors import ForbiddenError, LimitError, at_line
from app.engine.exceptions import (
    EXCEPTION_CLASSES,
    is_catchable,
    is_program_exception_class,
)
from app.engine.formatting import TextBuilder, percent_format
from app.engine.hints import did_you_mean
from app.engine.marks import is_builtin, is_counted_iterator, mark_builtin
from app.engine.members import ClassMethod, Property, StaticMethod, TypeRef, Uncopyable
from app.engine.parser import DANGEROUS_NAMES, dangerous_name_error, is_grad_mode_decorator
from app.engine.plots import AxesGrid
from app.engine.policy import Cost, Namespace, Rule
from app.engine.predictions import module_key
from app.engine.rows import TensorRows, row_limit
from app.engine.safety import guard_binop, guard_sequence_size
from app.engine.stdlib_values import AnnotationName
from app.engine.str_methods import call_str_method
from app.message import Message, Text

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.MatMult: operator.matmul, ast.Div: operator.truediv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_INPLACE_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
    ast.MatMult: operator.imatmul, ast.Div: operator.itruediv, ast.Mod: operator.imod,
    ast.Pow: operator.ipow, ast.FloorDiv: operator.ifloordiv, ast.BitAnd: operator.iand,
    ast.BitOr: operator.ior, ast.BitXor: operator.ixor, ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift,
}
_BINOP_NAMES: dict[type[ast.operator], str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.MatMult: "matmul", ast.Div: "div",
    ast.Mod: "remainder", ast.Pow: "pow", ast.FloorDiv: "floor_divide", ast.BitAnd: "and",
    ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "lshift", ast.RShift: "rshift",
}
_UNARY_NAMES: dict[type[ast.unaryop], str] = {
    ast.UAdd: "pos", ast.USub: "neg", ast.Not: "not", ast.Invert: "invert"}
_UNARYOPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
    ast.Invert: operator.invert,
}
_CMPOPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_ELEMENTWISE = Rule(Cost.META)
_MAX_CUTS = 64
# Costs whose prediction may need the meta dry run (SAME does when a second tensor is passed).
_DRY_RUN = (Cost.META, Cost.SAME)
_MATMUL = Rule(Cost.META, matmul=True)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


_CONTROL_FLOW = (_Break, _Continue, _Return)
_BUILTIN_EXCEPTIONS = frozenset(EXCEPTION_CLASSES.values())
_CLASS_BASES = (nn.Module, tud.Dataset, object, torch.autograd.Function)
# Methods a program's class may define although its torch base class has them.
_OVERRIDABLE = frozenset({"__init__", "__len__", "__getitem__", "forward", "backward",
                          "setup_context", "__call__"})
_MEMBER_DECORATORS = frozenset({StaticMethod, ClassMethod, Property})


@dataclass
class Scope(Uncopyable):
    vars: dict[str, Any]
    parent: Scope | None = None
    # Names a `global` or `nonlocal` statement sent to another scope, and that scope.
    redirects: dict[str, Scope] | None = None
    # In a method's call: the program's class that defines it (what super() starts from).
    owner: type | None = None

    def lookup(self, name: str) -> tuple[bool, Any]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True, scope.vars[name]
            scope = scope.parent
        return False, None


class UserFunction(Uncopyable):
    """A function (or lambda, or method) defined by the program."""

    # Security: no __dict__. torch copies a callable object's __dict__ into state dicts
    # (LambdaLR.state_dict()), and this one's held the live interpreter, scope and AST.
    __slots__ = ("defaults", "grad_mode", "interp", "kw_defaults", "name", "node", "owner",
                 "scope")

    def __init__(self, interp: Interpreter, node: ast.FunctionDef | ast.Lambda, scope: Scope,
                 defaults: list[Any], kw_defaults: list[Any], grad_mode: str | None) -> None:
        self.interp = interp
        self.node = node
        self.scope = scope
        self.defaults = defaults
        self.kw_defaults = kw_defaults
        self.grad_mode = grad_mode
        self.name = node.name if isinstance(node, ast.FunctionDef) else "<lambda>"
        self.owner: type | None = None  # the program's class this is a method of

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Called by the interpreter and by torch code the program handed it to (collate_fn,
        # a scheduler's lr_lambda, a Module's forward): the budget applies either way.
        return self.interp.call_user_function(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.name}>"


class BoundUserMethod(Uncopyable):
    __slots__ = ("function", "instance")

    def __init__(self, function: UserFunction, instance: Any) -> None:
        self.function = function
        self.instance = instance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(self.instance, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<bound method {self.function.name}>"


class MethodRef(Uncopyable):
    """A vetted method of a non-user object: the policy rule travels with it."""

    __slots__ = ("label", "name", "obj", "rule")

    def __init__(self, obj: Any, name: str, rule: Rule, label: str) -> None:
        self.obj = obj
        self.name = name
        self.rule = rule
        self.label = label

    def __repr__(self) -> str:
        return f"<method {self.label}>"


class SuperProxy(Uncopyable):
    """What ``super()`` gives a program: only ``__init__`` of the base class."""

    def __init__(self, base: type, instance: Any) -> None:
        self.base = base
        self.instance = instance

    def __repr__(self) -> str:
        return "<super object>"  # not this module's path


@dataclass
class StepRecord:
    line: int
    source: str
    value: Any
    has_value: bool
    stdout: str


@dataclass
class RunState:
    """What a finished (or failed) program leaves for the views."""

    steps: list[StepRecord] = field(default_factory=list)
    result: Any = None
    has_result: bool = False
    globals: dict[str, Any] = field(default_factory=dict)


class Interpreter(Uncopyable):
    def __init__(self, settings: Settings, budget: Budget, devices: DevicePolicy,
                 namespaces: dict[str, Namespace], vetted: dict[int, tuple[str, Rule]],
                 on_step: Callable[[ast.stmt, Any, bool], None] | None = None) -> None:
        self.settings = settings
        self.budget = budget
        self.devices = devices
        self.namespaces = namespaces
        self.vetted = vetted
        self.on_step = on_step
        # Called after each pass of a top-level loop (the step-through trace); None: no trace.
        self.on_iteration: Callable[[ast.stmt], None] | None = None
        # Called after each call, operator, indexing or .T that produced a tensor, with
        # (label, callable, args, kwargs, result, line): app/inspect/provenance.py. None: off.
        self.on_tensor_op: Callable[..., None] | None = None
        self.line: int | None = None
        self.depth = 0
        self.stdout: list[str] = []
        self.stdout_chars = 0
        self.stdout_dropped = False
        self.notices: list[Text] = []
        self.user_classes: dict[type, dict[str, UserFunction]] = {}
        # Static methods, class methods and properties of the program's classes.
        self.class_members: dict[type, dict[str, Any]] = {}
        # The program's classes with __len__ or __getitem__: sequences torch and numpy would
        # read item by item themselves (see refuse_program_sequences).
        self.sequence_classes: set[type] = set()
        # Tensors cut off from the autograd graph (detach, or computed under no_grad from
        # inputs that require grad): id(result) -> (result, source, reason). The graph view
        # draws them as cut edges. Holding the result keeps its id unique; only the latest
        # few are kept so a loop under no_grad does not pile tensors up.
        self.cuts: dict[int, tuple[torch.Tensor, torch.Tensor, str]] = {}
        self.globals = Scope({})
        self.admission = Admission(self._is_own)
        # The exceptions being handled by the program's except blocks (a bare raise re-raises
        # the innermost).
        self.handling: list[BaseException] = []
        # torch.set_default_device(...) of this program: its own device context, exited by
        # restore_default_device() when the program ends (a worker serves many programs).
        self.default_device: DeviceContext | None = None
        self.device_blocks = 0  # `with torch.device(...)` blocks open now

    @cached_property
    def builtins(self) -> dict[str, Any]:
        """print, len, range ... made on the first name a program looks up there (or the
        first check of a value torch hands back): a program of a few tensor lines names none,
        and making their ~40 closures was ~5% of its run."""
        return make_builtins(self)

    # ======================================================================== statements
    def run(self, tree: ast.Module) -> RunState:
        state = RunState(globals=self.globals.vars)
        body = tree.body
        for index, stmt in enumerate(body):
            is_last = index == len(body) - 1
            value, has_value = self.exec_top(stmt)
            if self.on_step is not None:
                self.on_step(stmt, value, has_value)
            if is_last and isinstance(stmt, ast.Expr):
                state.result, state.has_result = value, True
        return state

    def exec_top(self, stmt: ast.stmt) -> tuple[Any, bool]:
        """Run one top-level statement; return the value it produced, for the trace."""
        if isinstance(stmt, ast.Expr):
            self.budget.step()
            self.line = stmt.lineno
            return self.eval(stmt.value, self.globals), True
        self.exec_stmt(stmt, self.globals)
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            target = stmt.targets[-1] if isinstance(stmt, ast.Assign) else stmt.target
            if isinstance(target, ast.Name):
                return self.globals.vars.get(target.id), target.id in self.globals.vars
        return None, False

    def exec_block(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        self.budget.step()
        self.line = stmt.lineno
        handler = self._stmt_handlers.get(type(stmt))
        if handler is None:  # the parser refuses these; kept as a second line of defence
            raise ForbiddenError(at_line(stmt.lineno, Message(
                "{construct} is not available", construct=type(stmt).__name__)), stmt.lineno)
        handler(self, stmt, scope)

    def _expr(self, stmt: ast.Expr, scope: Scope) -> None:
        self.eval(stmt.value, scope)

    def _assign(self, stmt: ast.Assign, scope: Scope) -> None:
        value = self.eval(stmt.value, scope)
        for target in stmt.targets:
            self.assign(target, value, scope)

    def _ann_assign(self, stmt: ast.AnnAssign, scope: Scope) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, scope), scope)

    def _aug_assign(self, stmt: ast.AugAssign, scope: Scope) -> None:
        op = type(stmt.op)
        target = stmt.target
        if isinstance(target, ast.Name):
            current = self.lookup(target.id, scope, target)
            self.binding_scope(scope, target.id).vars[target.id] = self.binop(
                op, current, self.eval(stmt.value, scope), inplace=True)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value, scope)
            index = self.eval(target.slice, scope)
            current = self.subscript(container, index)
            self.set_subscript(container, index,
                               self.binop(op, current, self.eval(stmt.value, scope), inplace=True))
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value, scope)
            current = self.get_attribute(obj, target.attr)
            self.set_attribute(obj, target.attr,
                               self.binop(op, current, self.eval(stmt.value, scope), inplace=True))
        else:
            raise ForbiddenError(Message("unsupported augmented assignment target"),
                                 self.line)

    def _for(self, stmt: ast.For, scope: Scope) -> None:
        iterable = self.eval(stmt.iter, scope)
        for item in self.iterate(iterable):
            self.budget.step()
            self.assign(stmt.target, item, scope)
            if self._iteration(stmt.body, scope):
                return
            if self.on_iteration is not None and scope is self.globals:
                self.on_iteration(stmt)
        self.exec_block(stmt.orelse, scope)

    def _while(self, stmt: ast.While, scope: Scope) -> None:
        while self.truth(self.eval(stmt.test, scope)):
            self.budget.step()
            if self._iteration(stmt.body, scope):
                return
            if self.on_iteration is not None and scope is self.globals:
                self.on_iteration(stmt)
        self.exec_block(stmt.orelse, scope)

    def _iteration(self, body: list[ast.stmt], scope: Scope) -> bool:
        """One pass of a loop body; True when it ended with break (the else is skipped)."""
        try:
            self.exec_block(body, scope)
        except _Break:
            return True
        except _Continue:
            pass
        return False

    def _if(self, stmt: ast.If, scope: Scope) -> None:
        if self.truth(self.eval(stmt.test, scope)):
            self.exec_block(stmt.body, scope)
        else:
            self.exec_block(stmt.orelse, scope)

    def _break(self, stmt: ast.Break, scope: Scope) -> None:
        raise _Break

    def _continue(self, stmt: ast.Continue, scope: Scope) -> None:
        raise _Continue

    def _pass(self, stmt: ast.Pass, scope: Scope) -> None:
        return None

    def _return(self, stmt: ast.Return, scope: Scope) -> None:
        raise _Return(None if stmt.value is None else self.eval(stmt.value, scope))

    def _assert(self, stmt: ast.Assert, scope: Scope) -> None:
        if not self.truth(self.eval(stmt.test, scope)):
            if stmt.msg is None:
                raise AssertionError
            # Any value, as in Python; its text is written bounded (exception_text).
            raise AssertionError(self.eval(stmt.msg, scope))

    def _delete(self, stmt: ast.Delete, scope: Scope) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                binding = self.binding_scope(scope, target.id)
                if target.id not in binding.vars:
                    raise NameError(f"name '{target.id}' is not defined")
                del binding.vars[target.id]
            elif isinstance(target, ast.Subscript):
                container = self.eval(target.value, scope)
                if not isinstance(container, (list, dict)):
                    raise ForbiddenError(Message("del works on list and dict items only"),
                                         self.line)
                del container[self.eval(target.slice, scope)]

    # --- exceptions ----------------------------------------------------------------------
    def _try(self, stmt: ast.Try, scope: Scope) -> None:
        try:
            self._try_body(stmt, scope)
        except BaseException as error:
            # Security: the sandbox stopping the program (deadline, budget, refusal) runs no
            # more of its code: a finally that returns would swallow the stop.
            if not (isinstance(error, _CONTROL_FLOW)
                    or is_catchable(error, _CONTROL_FLOW, self.user_classes)):
                raise
            self.exec_block(stmt.finalbody, scope)
            raise
        self.exec_block(stmt.finalbody, scope)

    def _try_body(self, stmt: ast.Try, scope: Scope) -> None:
        try:
            self.exec_block(stmt.body, scope)
        except BaseException as error:
            if not is_catchable(error, _CONTROL_FLOW, self.user_classes):
                raise
            for handler in stmt.handlers:
                if self._handles(handler, error, scope):
                    self._handle(handler, error, scope)
                    return
            raise
        self.exec_block(stmt.orelse, scope)

    def _handles(self, handler: ast.ExceptHandler, error: BaseException, scope: Scope) -> bool:
        if handler.type is None:
            return True
        self.line = handler.lineno
        kinds = self.eval(handler.type, scope)
        for kind in kinds if isinstance(kinds, tuple) else (kinds,):
            if not is_program_exception_class(kind, self.user_classes):
                raise TypeError(f"line {handler.lineno}: except needs exception classes "
                                f"(ValueError, RuntimeError, your own ...), not "
                                f"{self.describe_type(kind)}")
        return isinstance(error, kinds)

    def _handle(self, handler: ast.ExceptHandler, error: BaseException, scope: Scope) -> None:
        # The traceback holds the interpreter's frames and every value they refer to (the
        # tensors of the failed call): a program keeping the errors it caught kept them all
        # (30,000 caught errors held 340 MB). The program cannot read it anyway.
        error.__traceback__ = None
        target = self.binding_scope(scope, handler.name) if handler.name else scope
        if handler.name:
            target.vars[handler.name] = error
        self.handling.append(error)
        try:
            self.exec_block(handler.body, scope)
        finally:
            self.handling.pop()
            if handler.name:  # Python unbinds the name after the handler
                target.vars.pop(handler.name, None)

    def _raise(self, stmt: ast.Raise, scope: Scope) -> None:
        if stmt.exc is None:
            if not self.handling:
                raise RuntimeError("No active exception to re-raise")
            raise self.handling[-1]
        error = self._exception(self.eval(stmt.exc, scope))
        if stmt.cause is None:
            raise error
        cause = self.eval(stmt.cause, scope)
        raise error from (None if cause is None else self._exception(cause))

    def _exception(self, value: Any) -> BaseException:
        """What `raise value` raises: an instance, or a new one of a class."""
        if is_program_exception_class(value, self.user_classes):
            value = self.call(value, (), {})
        if isinstance(value, BaseException) and (
                is_program_exception_class(type(value), self.user_classes)
                or value in self.handling or is_catchable(value, _CONTROL_FLOW, self.user_classes)):
            return value
        raise TypeError(f"line {self.line}: exceptions must be instances of an exception "
                        f"class such as ValueError, not {self.describe_type(value)}")

    # --- scopes -------------------------------------------------------------------------
    def binding_scope(self, scope: Scope, name: str) -> Scope:
        """The scope an assignment to ``name`` binds in (global/nonlocal send it elsewhere)."""
        if scope.redirects is not None:
            return scope.redirects.get(name, scope)
        return scope

    def _global(self, stmt: ast.Global, scope: Scope) -> None:
        if scope is self.globals:
            return
        redirects = scope.redirects if scope.redirects is not None else {}
        for name in stmt.names:
            redirects[name] = self.globals
        scope.redirects = redirects

    def _nonlocal(self, stmt: ast.Nonlocal, scope: Scope) -> None:
        redirects = scope.redirects if scope.redirects is not None else {}
        for name in stmt.names:
            enclosing = scope.parent
            while enclosing is not None and enclosing is not self.globals \
                    and name not in enclosing.vars:
                enclosing = enclosing.parent
            if enclosing is None or enclosing is self.globals:
                raise SyntaxError(f"line {stmt.lineno}: no binding for nonlocal '{name}' "
                                  "found in an enclosing function")
            redirects[name] = enclosing
        scope.redirects = redirects

    def _with(self, stmt: ast.With, scope: Scope) -> None:
        managers = []
        for item in stmt.items:
            manager = self.eval(item.context_expr, scope)
            if not isinstance(manager, policy.CONTEXT_MANAGER_TYPES):
                raise ForbiddenError(at_line(stmt.lineno, Message(
                    "'with' works with torch.no_grad(), torch.enable_grad(), "
                    "torch.inference_mode(), torch.set_grad_enabled() and autocast only, not "
                    "{name}", name=type(manager).__name__)), stmt.lineno)
            managers.append(manager)
        self._enter_all(managers, stmt.body, scope)

    def _enter_all(self, managers: list[Any], body: list[ast.stmt], scope: Scope) -> None:
        if not managers:
            self.exec_block(body, scope)
            return
        # torch's own __exit__ restores the grad mode; a True return never swallows errors
        # here because the exception is re-raised regardless.
        is_device = isinstance(managers[0], torch.device)
        self.device_blocks += is_device
        try:
            with managers[0]:
                self._enter_all(managers[1:], body, scope)
        finally:
            self.device_blocks -= is_device

    def set_default_device(self, device: Any) -> None:
        """``torch.set_default_device(d)``: like torch's, but the context is this program's
        (torch's global one would outlive it in the worker). Device checked by the caller."""
        if self.device_blocks:
            # Security: torch keeps one device context at the bottom of its mode stack; set
            # inside a with-block, the block's exit would leave its own context behind.
            raise ForbiddenError(at_line(self.line, Message(
                "torch.set_default_device() inside a 'with torch.device(...)' block is not "
                "available")), self.line,
                hint=Message("Call it before or after the with block."))
        self.restore_default_device()
        if device is not None:
            context = DeviceContext(device)
            context.__enter__()
            self.default_device = context

    def restore_default_device(self) -> None:
        """Undo the program's set_default_device (called when the program ends)."""
        if self.default_device is not None:
            context, self.default_device = self.default_device, None
            context.__exit__(None, None, None)

    def _import(self, stmt: ast.Import, scope: Scope) -> None:
        for alias in stmt.names:
            if alias.asname:
                scope.vars[alias.asname] = self.namespaces[alias.name]
            else:
                top = alias.name.split(".")[0]
                scope.vars[top] = self.namespaces[top]

    def _import_from(self, stmt: ast.ImportFrom, scope: Scope) -> None:
        if stmt.module == "__future__":
            return  # every feature is already on in Python 3 (the parser checked the names)
        namespace = self.namespaces[stmt.module or ""]
        for alias in stmt.names:
            if alias.name not in namespace.members:
                refused = namespace.refusal(alias.name)
                if refused:
                    raise ForbiddenError(at_line(stmt.lineno, Message(
                        "'{name}' is not available from {module} in the playground: {reason}",
                        name=alias.name, module=namespace.name, reason=refused[0])),
                        stmt.lineno, refused[1])
                raise ForbiddenError(at_line(stmt.lineno, Message(
                    "'{name}' is not available from {module} in the playground",
                    name=alias.name, module=namespace.name)), stmt.lineno)
            scope.vars[alias.asname or alias.name] = namespace.members[alias.name]

    def _function_def(self, stmt: ast.FunctionDef, scope: Scope) -> None:
        self.binding_scope(scope, stmt.name).vars[stmt.name] = self.define_function(stmt, scope)

    def make_function(self, node: ast.FunctionDef | ast.Lambda, scope: Scope) -> UserFunction:
        defaults = [self.eval(d, scope) for d in node.args.defaults]
        kw_defaults = [None if d is None else self.eval(d, scope) for d in node.args.kw_defaults]
        grad_mode = None
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if is_grad_mode_decorator(decorator):
                    assert isinstance(decorator, ast.Call)
                    target = decorator.func
                    grad_mode = target.attr if isinstance(target, ast.Attribute) else None
        return UserFunction(self, node, scope, defaults, kw_defaults, grad_mode)

    def define_function(self, node: ast.FunctionDef, scope: Scope,
                        class_members: dict[str, Any] | None = None) -> Any:
        """The function with its decorators applied, innermost first. Grad-mode decorators
        set the function's grad mode; any other decorator is staticmethod, classmethod,
        property, name.setter or a program function, called like any call of the program."""
        value: Any = self.make_function(node, scope)
        for decorator in reversed(node.decorator_list):
            if is_grad_mode_decorator(decorator):
                continue
            self.line = decorator.lineno
            if isinstance(decorator, ast.Attribute):  # @name.setter
                value = self._property_setter(decorator, value, scope, class_members)
                continue
            wrapper = self.eval(decorator, scope)
            if isinstance(wrapper, type) and wrapper in _MEMBER_DECORATORS:
                value = self._member(wrapper, value)
            elif isinstance(wrapper, (UserFunction, BoundUserMethod)):
                value = self.call(wrapper, (value,), {})
            else:
                raise ForbiddenError(at_line(decorator.lineno, Message(
                    "a decorator must be a function defined in the program, not {what}",
                    what=self.describe_type(wrapper))), decorator.lineno,
                    hint=Message("Write the decorator with def, or call the function "
                                 "directly."))
        return value

    def _member(self, kind: type, function: Any) -> Any:
        if not isinstance(function, UserFunction):
            raise ForbiddenError(at_line(self.line, Message(
                "@{decorator} works on a function defined with def",
                decorator=kind.__name__.lower())), self.line)
        return kind(function)

    def _property_setter(self, decorator: ast.Attribute, function: Any, scope: Scope,
                         class_members: dict[str, Any] | None) -> Property:
        assert isinstance(decorator.value, ast.Name)
        name = decorator.value.id
        prop = class_members.get(name) if class_members is not None else None
        if not isinstance(prop, Property) or not isinstance(function, UserFunction):
            raise ForbiddenError(at_line(decorator.lineno, Message(
                "@{name}.setter needs a @property named {name!r} defined just above, in the "
                "same class", name=name)), decorator.lineno)
        return Property(prop.getter, function)

    def _class_def(self, stmt: ast.ClassDef, scope: Scope) -> None:
        base: type = object
        if stmt.bases:
            written = stmt.bases[0]
            # `class A(object)`: the name object exists for this use only.
            is_object = isinstance(written, ast.Name) and written.id == "object" \
                and not scope.lookup("object")[0]
            base_value = object if is_object else self.eval(written, scope)
            if not (base_value in _CLASS_BASES or base_value in self.user_classes
                    or base_value in _BUILTIN_EXCEPTIONS):
                raise ForbiddenError(at_line(stmt.lineno, Message(
                    "a class may extend nn.Module, Dataset, torch.autograd.Function, an "
                    "exception class or one of your own classes")), stmt.lineno)
            base = base_value
        torch_base = self.torch_base(base)
        inherited = self.user_classes.get(base, {})
        methods: dict[str, UserFunction] = dict(inherited)
        members: dict[str, Any] = dict(self.class_members.get(base, {}))
        own: dict[str, UserFunction] = {}
        class_vars: dict[str, Any] = {}
        for item in stmt.body:
            for target in (item.targets if isinstance(item, ast.Assign) else [item]):
                if isinstance(target, (ast.Name, ast.FunctionDef)):
                    _refuse_marker(target.id if isinstance(target, ast.Name) else target.name,
                                   item.lineno)
            if isinstance(item, ast.FunctionDef):
                if item.name == "__call__" and torch_base is not object:
                    # Security: torch's own __call__ runs hooks and forward; a replacement
                    # would change what torch calls (Module.__call__, Function.apply).
                    raise ForbiddenError(at_line(item.lineno, Message(
                        "'__call__' can be defined in a plain class only (class Name: ...), "
                        "not in a subclass of {base}", base=torch_base.__name__)), item.lineno,
                        hint=Message("In an nn.Module define forward(self, x) instead: "
                                     "model(x) calls it."))
                if item.name not in _OVERRIDABLE and _torch_uses(torch_base, item.name):
                    raise ForbiddenError(at_line(item.lineno, Message(
                        "'{name}' would replace a method of {base} that torch itself calls; "
                        "pick another name", name=item.name, base=torch_base.__name__)),
                        item.lineno)
                # Methods see the enclosing scope, not the class body (Python's rule).
                value = self.define_function(item, scope, members)
                methods.pop(item.name, None)
                members.pop(item.name, None)
                if isinstance(value, UserFunction):
                    methods[item.name] = own[item.name] = value
                elif isinstance(value, (StaticMethod, ClassMethod, Property)):
                    self._check_member_name(item, value, torch_base)
                    members[item.name] = value
                else:
                    raise ForbiddenError(at_line(item.lineno, Message(
                        "the decorators of the method '{name}' must give a function defined "
                        "in the program", name=item.name)), item.lineno)
            elif isinstance(item, ast.Assign):
                value = self.eval(item.value, scope)
                for target in item.targets:
                    if not isinstance(target, ast.Name):
                        raise ForbiddenError(Message("class attributes must be plain names"),
                                             item.lineno)
                    # Security: a class attribute is looked up by torch too: `forward =
                    # torch.ones` made model(...) call torch.ones past the budget. Class
                    # attributes hold data only and never replace the base class's names.
                    if callable(value) or _torch_uses(torch_base, target.id):
                        raise ForbiddenError(at_line(item.lineno, Message(
                            "the class attribute '{name}' may not be a function, class or "
                            "layer, nor replace a name of {base}; define methods with def and "
                            "set layers in __init__", name=target.id,
                            base=torch_base.__name__)), item.lineno)
                    class_vars[target.id] = value
        cls = self.make_class(stmt.name, base, own, class_vars, members)
        self.user_classes[cls] = methods
        self.class_members[cls] = members
        if "__len__" in methods or "__getitem__" in methods:
            self.sequence_classes.add(cls)
        for function in own.values():
            function.owner = cls
        for member in members.values():
            for function in _member_functions(member):
                if function.owner is None:
                    function.owner = cls
        self.binding_scope(scope, stmt.name).vars[stmt.name] = cls

    def _check_member_name(self, item: ast.FunctionDef, member: Any, torch_base: type) -> None:
        """Security: torch calls forward, __getitem__ ... through the instance; as a property
        they could hand torch a function of its own to call past the budget (a property
        `forward` returning torch.ones). Only Function's forward/backward are static."""
        static_ok = torch_base is torch.autograd.Function and isinstance(member, StaticMethod)
        if item.name in _OVERRIDABLE and not static_ok:
            raise ForbiddenError(at_line(item.lineno, Message(
                "'{name}' must be a plain method (no @staticmethod, @classmethod or @property)",
                name=item.name)), item.lineno)

    def torch_base(self, cls: type) -> type:
        """The first class above the program's own ones: torch's, Python's or object."""
        while cls in self.user_classes:
            cls = cls.__mro__[1]
        return cls

    def make_class(self, name: str, base: type, methods: dict[str, UserFunction],
                   class_vars: dict[str, Any], members: dict[str, Any] | None = None) -> type:
        namespace: dict[str, Any] = {"__module__": "playground", "__qualname__": name}
        namespace.update(class_vars)
        for method_name, function in methods.items():
            namespace[method_name] = _trampoline(function)
        # Torch calls these through the class too (Function.apply calls forward/backward).
        for member_name, member in (members or {}).items():
            namespace[member_name] = _member_trampoline(member)
        if "__len__" in methods:
            namespace["__len__"] = _guarded_len(methods["__len__"], self.settings)
        if not issubclass(base, (nn.Module, BaseException)) and base not in self.user_classes:
            # Plain reprs: never the default one with a memory address.
            namespace["__repr__"] = lambda self: f"<{type(self).__name__} object>"
        cls = type(name, (base,), namespace)
        self.user_classes[cls] = methods
        return cls

    _stmt_handlers: dict[type[ast.stmt], Callable[[Interpreter, Any, Scope], None]] = {
        ast.Expr: _expr, ast.Assign: _assign, ast.AnnAssign: _ann_assign,
        ast.AugAssign: _aug_assign, ast.For: _for, ast.While: _while, ast.If: _if,
        ast.Break: _break, ast.Continue: _continue, ast.Pass: _pass, ast.Return: _return,
        ast.Assert: _assert, ast.Delete: _delete, ast.With: _with, ast.Import: _import,
        ast.ImportFrom: _import_from, ast.FunctionDef: _function_def,
        ast.ClassDef: _class_def,
        ast.Try: _try, ast.Raise: _raise, ast.Global: _global, ast.Nonlocal: _nonlocal,
    }

    # ======================================================================== assignment
    def assign(self, target: ast.expr, value: Any, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            if scope.redirects is not None:
                scope = self.binding_scope(scope, target.id)
            scope.vars[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._unpack(target.elts, value, scope)
        elif isinstance(target, ast.Subscript):
            self.set_subscript(self.eval(target.value, scope), self.eval(target.slice, scope),
                               value)
        elif isinstance(target, ast.Attribute):
            self.set_attribute(self.eval(target.value, scope), target.attr, value)
        elif isinstance(target, ast.Starred):
            raise ForbiddenError(Message("a starred target must be inside a tuple"), self.line)
        else:
            raise ForbiddenError(Message("cannot assign to {target}",
                                         target=type(target).__name__), self.line)

    def _starred_items(self, before: int, value: Any) -> Iterator[Any]:
        # Security: [*range(10**12)], f(*range(10**9)) and a, b = range(10**12) were one C
        # loop over every item, before any size check.
        guard_sequence_size(before + _length(value), self.settings)
        return self.iterate(value)

    def _unpack(self, targets: list[ast.expr], value: Any, scope: Scope) -> None:
        items = list(self._starred_items(0, value))
        starred = [i for i, t in enumerate(targets) if isinstance(t, ast.Starred)]
        if not starred:
            if len(items) != len(targets):
                raise ValueError(f"expected {len(targets)} values to unpack, got {len(items)}")
            for target, item in zip(targets, items, strict=True):
                self.assign(target, item, scope)
            return
        star = starred[0]
        after = len(targets) - star - 1
        if len(items) < len(targets) - 1:
            raise ValueError(f"not enough values to unpack (expected at least "
                             f"{len(targets) - 1}, got {len(items)})")
        for target, item in zip(targets[:star], items[:star], strict=True):
            self.assign(target, item, scope)
        starred_target = targets[star]
        assert isinstance(starred_target, ast.Starred)
        self.assign(starred_target.value, items[star:len(items) - after], scope)
        for target, item in zip(targets[star + 1:], items[len(items) - after:], strict=True):
            self.assign(target, item, scope)

    def set_subscript(self, container: Any, index: Any, value: Any) -> None:
        # Security: x[0:0] = range(10**12) grew a list in one C call, and numpy converts a
        # nested list item by item (a[:] = [[0] * 10**6] * 10**6).
        if isinstance(container, list) and isinstance(index, slice):
            guard_sequence_size(len(container) + _length(value), self.settings)
        if isinstance(container, (torch.Tensor, np.ndarray)):
            if self.sequence_classes:
                self.refuse_program_sequences("item assignment", (index, value))
            count_data_items(value)
        if isinstance(container, torch.Tensor):
            kernels.check_inplace_target(container, "item assignment")
            container[self._tensor_index(index)] = value
        elif isinstance(container, (list, dict, np.ndarray)):
            container[index] = value
        else:
            raise ForbiddenError(Message("cannot assign items of {what}",
                                         what=self.describe_type(container)), self.line)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        _refuse_marker(name, self.line)
        if type(obj) in self.user_classes:
            torch_base = self.torch_base(type(obj))
            if hasattr(torch_base, name):
                raise ForbiddenError(at_line(self.line, Message(
                    "'.{name}' belongs to {base} and torch itself uses it; pick another "
                    "attribute name", name=name, base=torch_base.__name__)), self.line)
            member = self.class_members[type(obj)].get(name)
            if member is not None:
                if not isinstance(member, Property) or member.setter is None:
                    raise AttributeError(f"can't set attribute '{name}' of "
                                         f"'{type(obj).__name__}' (a property without a "
                                         "setter, or a method)")
                self.call_user_function(member.setter, (obj, value), {})
                return
            setattr(obj, name, value)
        elif isinstance(obj, torch.autograd.function.FunctionCtx) \
                and name not in _CTX_INTERNAL and not hasattr(type(obj), name):
            obj.__dict__[name] = value  # ctx.alpha = alpha in a Function's forward
        elif isinstance(obj, torch.Tensor) and name in policy.TENSOR_SETTABLE:
            if name == "grad":
                kernels.check_grad_assignment(obj, value)
            setattr(obj, name, value)
        elif isinstance(obj, torch.Tensor) and name == policy.TENSOR_SETTABLE_DATA:
            # p.data += x reaches here with p.data's own (updated) storage: a same-shape set.
            kernels.check_data_assignment(obj, value)
            obj.data = value
        else:
            raise ForbiddenError(at_line(self.line, Message(
                "setting '.{name}' on {what} is not allowed; only your own objects' "
                "attributes and tensor.requires_grad / tensor.grad / tensor.data can be set",
                name=name, what=self.describe_type(obj))), self.line)

    # ======================================================================== expressions
    def eval(self, node: ast.expr, scope: Scope) -> Any:
        handler = self._expr_handlers.get(type(node))
        if handler is None:
            raise ForbiddenError(at_line(self.line, Message(
                "{construct} is not available", construct=type(node).__name__)), self.line)
        return handler(self, node, scope)

    def _constant(self, node: ast.Constant, scope: Scope) -> Any:
        return node.value

    def _name(self, node: ast.Name, scope: Scope) -> Any:
        return self.lookup(node.id, scope, node)

    def lookup(self, name: str, scope: Scope, node: ast.AST) -> Any:
        if scope.redirects is not None and name in scope.redirects:
            scope = scope.redirects[name]
        found, value = scope.lookup(name)
        if found:
            return value
        if name in self.builtins:
            return self.builtins[name]
        if name in DANGEROUS_NAMES:
            raise dangerous_name_error(name, self.line)
        raise NameError(f"name '{name}' is not defined" + did_you_mean(name, self._visible(scope)))

    def _visible(self, scope: Scope) -> list[str]:
        names: list[str] = []
        frame: Scope | None = scope
        while frame is not None:
            names.extend(frame.vars)
            frame = frame.parent
        return names + list(self.builtins)

    def _attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        return self.get_attribute(self.eval(node.value, scope), node.attr)

    def _subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        return self.subscript(self.eval(node.value, scope), self.eval(node.slice, scope))

    def _slice(self, node: ast.Slice, scope: Scope) -> slice:
        def part(n: ast.expr | None) -> Any:
            return None if n is None else self.eval(n, scope)
        return slice(part(node.lower), part(node.upper), part(node.step))

    def _tuple(self, node: ast.Tuple, scope: Scope) -> tuple[Any, ...]:
        return tuple(self._elements(node.elts, scope))

    def _list(self, node: ast.List, scope: Scope) -> list[Any]:
        return self._elements(node.elts, scope)

    def _set(self, node: ast.Set, scope: Scope) -> set[Any]:
        return set(self._elements(node.elts, scope))

    def _elements(self, nodes: list[ast.expr], scope: Scope) -> list[Any]:
        items: list[Any] = []
        for element in nodes:
            if isinstance(element, ast.Starred):
                items.extend(self._starred_items(len(items), self.eval(element.value, scope)))
            else:
                items.append(self.eval(element, scope))
        guard_sequence_size(len(items), self.settings)
        return items

    def _dict(self, node: ast.Dict, scope: Scope) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise ForbiddenError(Message("**dict unpacking is not available"), self.line)
            result[self.eval(key, scope)] = self.eval(value, scope)
        return result

    def _bool_op(self, node: ast.BoolOp, scope: Scope) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.eval(operand, scope)
            truth = self.truth(value)
            if isinstance(node.op, ast.And) and not truth:
                return value
            if isinstance(node.op, ast.Or) and truth:
                return value
        return value

    def _bin_op(self, node: ast.BinOp, scope: Scope) -> Any:
        return self.binop(type(node.op), self.eval(node.left, scope),
                          self.eval(node.right, scope))

    def binop(self, op: type[ast.operator], left: Any, right: Any, inplace: bool = False) -> Any:
        if op is ast.Mod and type(left) is str:  # '%.3f' % x: bounded, see formatting.py
            return percent_format(left, right, self.settings)
        guard_binop(op, left, right, self.settings)
        if inplace and ((op is ast.Add and isinstance(left, (list, deque)))
                        or (op is ast.BitOr and isinstance(left, dict))):
            # Security: l += x is l.extend(x) (dict |= x is update) over any iterable, in
            # one C call: l += range(10**9) filled 24 GB, a deque += range(10**8) and
            # l += torch.ones(2 * 10**6) two million objects, past max_sequence_items.
            guard_sequence_size(len(left) + _length(right), self.settings)
        function = _BINOPS[op]
        # x += y is in place, as in Python: tensors, arrays and lists are changed, not rebound
        # (b = a; b += 1 changes a; w -= lr * w.grad keeps w a leaf). Predicted like x + y.
        apply = _INPLACE_BINOPS[op] if inplace else function
        if self.sequence_classes and _is_array(left, right):
            self.refuse_program_sequences(f"the operator {_BINOP_NAMES[op]}", (left, right))
        if inplace and isinstance(left, torch.Tensor):
            kernels.check_inplace_target(left, f"the operator {_BINOP_NAMES[op]}=")
        if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
            self._predict_numpy_operator(_BINOP_NAMES[op], left, right, op is ast.MatMult)
        if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
            rule = _MATMUL if op is ast.MatMult else _ELEMENTWISE
            name = _BINOP_NAMES[op]
            self.budget.predict(f"the operator for {name}", rule,
                                lambda: function(to_meta(left), to_meta(right)),
                                (left, right), {}, "matmul" if op is ast.MatMult else name,
                                key=("operator", name))
            result = apply(left, right)
            self.budget.live.track(result)
            self.record_cut((left, right), result, "")
            if self.on_tensor_op is not None and not inplace:
                self.on_tensor_op(f"operator {name}", function, (left, right), {}, result,
                                  self.line)
            return result
        result = apply(left, right)
        if isinstance(result, np.ndarray):  # Security: arrays count toward max_total_bytes
            self.budget.live.track(result)
        return result

    def _predict_numpy_operator(self, name: str, left: Any, right: Any, matmul: bool) -> None:
        # Security: numpy broadcasts without a meta device to predict it (see numpy_rules).
        from app.engine.numpy_rules import predict_operator
        count_data_items((left, right))
        label = f"the operator for {name}"
        predicted, flops = predict_operator(left, right, matmul)
        self.budget.check_bytes(label, predicted)
        self.budget.check_flops(label, flops)

    def record_cut(self, inputs: tuple[Any, ...], result: Any, method: str) -> None:
        if not isinstance(result, torch.Tensor) or result.requires_grad:
            return
        reason = "detach" if method in ("detach", "detach_") else (
            "no_grad" if not torch.is_grad_enabled() else "")
        if not reason:
            return
        for value in inputs:
            if isinstance(value, torch.Tensor) and value.requires_grad:
                self.cuts[id(result)] = (result, value, reason)
                if len(self.cuts) > _MAX_CUTS:
                    del self.cuts[next(iter(self.cuts))]
                return

    def cut_source(self, tensor: torch.Tensor) -> tuple[torch.Tensor, str] | None:
        entry = self.cuts.get(id(tensor))
        return (entry[1], entry[2]) if entry is not None and entry[0] is tensor else None

    def _unary_op(self, node: ast.UnaryOp, scope: Scope) -> Any:
        operand = self.eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not self.truth(operand)
        return self.unary(_UNARY_NAMES[type(node.op)], _UNARYOPS[type(node.op)], operand)

    def unary(self, name: str, function: Callable[[Any], Any], operand: Any) -> Any:
        """-x, +x, ~x and abs(x). Security: on a tensor or an array they allocate a result as
        large as the operand, predicted like the binary operators (-x.expand(8, 6 * 10**7)
        allocated 1.9 GB past the per-call limit; [abs(x) for i in range(8)] held 1.8 GB)."""
        if isinstance(operand, torch.Tensor):
            self.budget.predict(f"the operator {name}", _ELEMENTWISE,
                                lambda: function(to_meta(operand)), (operand,), {}, name,
                                key=("unary", name))
        elif isinstance(operand, np.ndarray):
            self._predict_numpy_operator(name, operand, 0, False)
        result = function(operand)
        if isinstance(result, (torch.Tensor, np.ndarray)):
            self.budget.live.track(result)
        return result

    def _compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator, scope)
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, range) \
                    and type(left) not in (int, bool):
                # Security: only an int is found in a range at once; anything else is compared
                # with every item in one C call (0.5 in range(10**18) never returned).
                guard_sequence_size(_length(right), self.settings)
            if self.sequence_classes and _is_array(left, right):
                self.refuse_program_sequences("the comparison", (left, right))
            if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
                self._predict_numpy_operator("comparison", left, right, False)
            if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
                a, b = left, right
                self.budget.predict("the comparison", _ELEMENTWISE,
                                    lambda a=a, b=b, op=op: _CMPOPS[type(op)](to_meta(a),
                                                                             to_meta(b)),
                                    (a, b), {}, key=("comparison", type(op).__name__))
            if isinstance(op, (ast.Is, ast.IsNot)) and (isinstance(left, TypeRef)
                                                        or isinstance(right, TypeRef)):
                # type(x) is int: the stand-in is its class, as == already says
                result = (left == right) is isinstance(op, ast.Is)
            else:
                result = _CMPOPS[type(op)](left, right)
            if len(node.ops) > 1 and not self.truth(result):
                return result
            left = right
        return result

    def _if_exp(self, node: ast.IfExp, scope: Scope) -> Any:
        branch = node.body if self.truth(self.eval(node.test, scope)) else node.orelse
        return self.eval(branch, scope)

    def _lambda(self, node: ast.Lambda, scope: Scope) -> UserFunction:
        return self.make_function(node, scope)

    def _starred(self, node: ast.Starred, scope: Scope) -> Any:
        raise ForbiddenError(Message("*expression is only allowed in calls, lists and tuples"),
                             self.line)

    # --- f-strings ---------------------------------------------------------------------
    def _joined_str(self, node: ast.JoinedStr, scope: Scope) -> str:
        # Each expression is evaluated like any other (every check applies); the spec, itself
        # an f-string ('{v:{w}.{p}f}'), and the formatting are bounded in formatting.py.
        builder = TextBuilder(self.settings)
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                value = self.eval(part.value, scope)
                spec = "" if part.format_spec is None else self.eval(part.format_spec, scope)
                builder.field(value, None if part.conversion == -1 else chr(part.conversion),
                              spec)
            else:
                builder.add(self.eval(part, scope))
        return builder.text()

    # --- comprehensions ----------------------------------------------------------------
    def _comprehension(self, generators: list[ast.comprehension], scope: Scope,
                       emit: Callable[[Scope], None]) -> None:
        # Plain recursion over a method, no nested closure: a closure that refers to itself
        # is a reference cycle, and the comprehension's results (tensors included) then stay
        # alive until the cyclic collector happens to run, so the memory budget saw 1 GB held
        # where 384 MB was alive.
        self._comprehension_level(generators, 0, Scope({}, scope), emit)

    def _comprehension_level(self, generators: list[ast.comprehension], level: int,
                             inner: Scope, emit: Callable[[Scope], None]) -> None:
        if level == len(generators):
            emit(inner)
            return
        generator = generators[level]
        for item in self.iterate(self.eval(generator.iter, inner)):
            self.budget.step()
            self.assign(generator.target, item, inner)
            if all(self.truth(self.eval(cond, inner)) for cond in generator.ifs):
                self._comprehension_level(generators, level + 1, inner, emit)

    def _list_comp(self, node: ast.ListComp | ast.GeneratorExp, scope: Scope) -> list[Any]:
        # Generator expressions are evaluated eagerly: no generator frames exist here.
        result: list[Any] = []

        def emit(inner: Scope) -> None:
            result.append(self.eval(node.elt, inner))
            guard_sequence_size(len(result), self.settings)
        self._comprehension(node.generators, scope, emit)
        return result

    def _set_comp(self, node: ast.SetComp, scope: Scope) -> set[Any]:
        return set(self._list_comp(node, scope))  # type: ignore[arg-type]

    def _dict_comp(self, node: ast.DictComp, scope: Scope) -> dict[Any, Any]:
        result: dict[Any, Any] = {}

        def emit(inner: Scope) -> None:
            result[self.eval(node.key, inner)] = self.eval(node.value, inner)
            guard_sequence_size(len(result), self.settings)
        self._comprehension(node.generators, scope, emit)
        return result

    # --- calls -------------------------------------------------------------------------
    def _call(self, node: ast.Call, scope: Scope) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id == "super" \
                and not scope.lookup("super")[0]:
            return self._super(node, scope)
        function = self.eval(node.func, scope)
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self._starred_items(len(args), self.eval(arg.value, scope)))
            else:
                args.append(self.eval(arg, scope))
        kwargs = {kw.arg: self.eval(kw.value, scope) for kw in node.keywords if kw.arg}
        line = self.line
        result = self.call(function, tuple(args), kwargs)
        self.line = line
        return result

    def _super(self, node: ast.Call, scope: Scope) -> SuperProxy:
        found, instance = scope.lookup("self")
        if not found or type(instance) not in self.user_classes:
            raise ForbiddenError(Message("super() works inside methods of your own classes "
                                         "only"), self.line)
        owner: type | None = None
        frame: Scope | None = scope
        while frame is not None and owner is None:
            owner, frame = frame.owner, frame.parent
        if owner is None or not isinstance(instance, owner):
            owner = type(instance)
        return SuperProxy(owner.__mro__[1], instance)

    def call(self, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if isinstance(function, (UserFunction, BoundUserMethod)):
            return function(*args, **kwargs)
        if isinstance(function, MethodRef):
            return self.call_method(function, args, kwargs)
        if is_builtin(function):
            return function(*args, **kwargs)
        if isinstance(function, type) and function in self.user_classes:
            return function(*args, **kwargs)
        if isinstance(function, type) and function in _MEMBER_DECORATORS:
            if kwargs or len(args) != 1:
                raise TypeError(f"{function.__name__.lower()}() takes one function")
            return self._member(function, args[0])
        if isinstance(function, type) and function in _BUILTIN_EXCEPTIONS:
            if kwargs:
                raise TypeError(f"{function.__name__}() takes no keyword arguments")
            return function(*args)
        if isinstance(function, nn.Module):
            return self.call_module(function, args, kwargs)
        methods = self.user_classes.get(type(function))
        if methods is not None and "__call__" in methods:
            # An instance of the program's plain class with def __call__: interpreted.
            return BoundUserMethod(methods["__call__"], function)(*args, **kwargs)
        vetted = self.vetted.get(id(function))
        if vetted is not None and function is torch.set_default_device:
            args, kwargs = self.devices.rewrite_call(function, vetted[0], args, kwargs, self)
            return self.set_default_device(*args, **kwargs)
        if vetted is not None:
            label, rule = vetted
            return self.call_vetted(function, label, rule, args, kwargs)
        if isinstance(function, TypeRef):
            raise ForbiddenError(at_line(self.line, Message(
                "type(x) stands for a class and cannot be called here")), self.line,
                hint=Message("Call the class by its name: int(...), torch.tensor(...), or your "
                             "own class."))
        raise ForbiddenError(at_line(self.line, Message(
            "calling {what} is not available in the playground",
            what=self.describe_type(function))), self.line)

    def callback(self, value: Any) -> Any:
        """``value`` as torch or Python code may call it later, from C (collate_fn=,
        lr_lambda=, key=, an optimizer's closure).

        Security: such a call skipped call() and so the policy and the budget:
        collate_fn=torch.empty handed out uninitialised memory (an earlier program's data),
        key=torch.ones allocated 4 GB, collate_fn=np.ndarray called a class no program may
        call. The program's own functions are interpreted anyway; anything else callable is
        wrapped so that torch's call goes through call() like the program's own calls."""
        if not callable(value):
            return value
        if isinstance(value, (UserFunction, BoundUserMethod)):
            # A plain function, as torch expects of a callback (a scheduler's state_dict()
            # stores None for functions, and the __dict__ of any other callable).
            return _callback_named(lambda *args, **kwargs: value(*args, **kwargs))
        if isinstance(value, type) and (issubclass(value, np.generic)
                                        or value in (int, float, bool, complex)):
            return value  # dtype=np.float32 / dtype=float: a type name, not a callback
        return _callback_named(lambda *args, **kwargs: self.call(value, args, kwargs))

    def _callbacks(self, args: tuple[Any, ...], kwargs: dict[str, Any]
                   ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """callback() of every argument, also inside a list (LambdaLR takes one per group)."""
        def wrap(value: Any) -> Any:
            if type(value) in (list, tuple) and any(self.callback(v) is not v for v in value):
                return type(value)(self.callback(v) for v in value)
            return self.callback(value)
        return tuple(wrap(a) for a in args), {name: wrap(v) for name, v in kwargs.items()}

    def check_kwargs(self, label: str, rule: Rule, kwargs: dict[str, Any]) -> dict[str, Any]:
        for name in kwargs:
            if name in policy.DENIED_KWARGS or (rule.kwargs is not None
                                                and name not in rule.kwargs):
                reason = policy.DENIED_KWARGS.get(name)
                refusal = (Message("the keyword '{name}=' of {label} is not available in the "
                                   "playground: it {reason}", name=name, label=label,
                                   reason=reason) if reason else
                           Message("the keyword '{name}=' of {label} is not available in the "
                                   "playground", name=name, label=label))
                raise ForbiddenError(at_line(self.line, refusal), self.line,
                                     hint=Message("Leave out {name}=.", name=name))
        if rule.forced:
            kwargs = dict(kwargs)
            for name, forced in rule.forced.items():
                chosen = kwargs.pop(name, None)
                if chosen not in (None, forced):
                    shown = bounded_repr(chosen, 80)
                    self.notice(Message("{label}: {name}={shown} was replaced by {forced}: the "
                                        "sandbox loads data in its own process, without "
                                        "worker processes or pinned memory", label=label,
                                        name=name, shown=shown, forced=repr(forced)))
                if forced is not None:
                    kwargs[name] = forced
        return kwargs

    def call_vetted(self, function: Any, label: str, rule: Rule, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        after = None
        # model.parameters() and friends, read once: the meta dry run would use them up and
        # leave the real call an empty generator.
        args = tuple(list(a) if _is_torch_generator(a) else a for a in args)
        if rule.guard is not None:
            prepared = rule.guard(self, function, args, kwargs)
            args, kwargs, after = prepared.args, prepared.kwargs, prepared.after
        kwargs = self.check_kwargs(label, rule, kwargs)
        if self.sequence_classes and label.startswith(("torch", "numpy")):
            self.refuse_program_sequences(label, (*args, *kwargs.values()),
                                          modules=rule.cost is Cost.MODULE,
                                          datasets=function in _TAKES_DATASETS)
        args, kwargs = self.devices.rewrite_call(function, label, args, kwargs, self)
        if rule.cost is Cost.INPLACE and args and isinstance(args[0], torch.Tensor):
            kernels.check_inplace_target(args[0], label)
        if rule.cost is not Cost.MODULE:  # layers take layers (nn.Sequential) and run on meta
            args, kwargs = self._callbacks(args, kwargs)
        if rule.cost is not Cost.META:  # to_meta counts them for the META ones
            # torch.Size(range(10**9)), np.array([[0] * 10**4] * 10**4): converted item by item
            count_data_items((args, kwargs))
        with row_limit(label, args, kwargs, self.settings.max_objects_per_call):
            result = self._predict_and_call(function, label, rule, args, kwargs)
        _refuse_object_array(result, label)
        self.admission.admit(result, label)
        if rule.uninitialised and not _given_data(function, args):
            result = _fill_uninitialised(result)
            self.notice(Message("{label} returns uninitialised memory; the playground fills it "
                                "(NaN for floats, 0 for integers) so no earlier program's "
                                "data can show", label=label))
        if rule.cost is Cost.MODULE and isinstance(result, nn.Module):
            # A layer's parameters are memory the program holds, like any tensor it made
            # (a container's are its layers', counted when they were built).
            self.budget.live.track([*result.parameters(recurse=False),
                                    *result.buffers(recurse=False)])
        else:
            self.budget.live.track(result)
        if after is not None:
            after(result)
        self.record_cut(args, result, "")
        if self.on_tensor_op is not None and isinstance(result, torch.Tensor):
            self.on_tensor_op(label, function, args, kwargs, result, self.line)
        return result

    def _predict_and_call(self, function: Any, label: str, rule: Rule, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Any:
        if rule.cost is Cost.MODULE:
            self.budget.check_bytes(label, self._module_bytes(function, args, kwargs))
        elif rule.cost is Cost.NUMPY:
            from app.engine.numpy_rules import (
                check_numpy_arguments,
                check_sequence_argument,
                predict_numpy_bytes,
                predict_operator,
            )
            check_numpy_arguments(label, args, kwargs)
            check_sequence_argument(label, args, kwargs, self.settings.max_objects_per_call)
            self.budget.check_bytes(label, predict_numpy_bytes(label, args, kwargs))
            if label.rsplit(".", 1)[-1] in ("dot", "matmul") and len(args) >= 2:
                self.budget.check_flops(label, predict_operator(args[0], args[1], True)[1])
        elif function in _LEGACY_CONSTRUCTORS:
            self.budget.check_bytes(label, _legacy_bytes(function, args))
        elif rule.cost in _DRY_RUN:
            self.budget.predict(label, rule, lambda: _call_on_meta(function, args, kwargs),
                                args, kwargs, label.rsplit(".", 1)[-1],
                                key=("call", id(function), label))
        else:
            self.budget.predict(label, rule, lambda: None, args, kwargs)
        return function(*args, **kwargs)

    def call_method(self, ref: MethodRef, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        after = None
        if ref.rule.guard is not None:
            prepared = ref.rule.guard(self, ref.obj, args, kwargs)
            args, kwargs, after = prepared.args, prepared.kwargs, prepared.after
        kwargs = self.check_kwargs(ref.label, ref.rule, kwargs)
        obj, name = ref.obj, ref.name
        if self.sequence_classes and isinstance(obj, (torch.Tensor, np.ndarray, nn.Module)):
            self.refuse_program_sequences(ref.label, (*args, *kwargs.values()),
                                          modules=isinstance(obj, nn.Module))
        if type(obj) is str:
            return call_str_method(self, obj, name, args, kwargs)
        if isinstance(obj, (torch.Tensor, nn.Module)):
            name, args, kwargs = self.devices.rewrite_method(obj, name, args, kwargs, self)
        if isinstance(obj, torch.Tensor) and ref.rule.cost is Cost.INPLACE \
                and name not in _METADATA_INPLACE:
            kernels.check_inplace_target(obj, ref.label)
        if isinstance(obj, (list, dict, set, tuple, float)):
            if kwargs.get("key") is not None:  # list.sort(key=torch.ones): see callback()
                kwargs = {**kwargs, "key": self.callback(kwargs["key"])}
            if name in ("extend", "update", "union", "intersection", "difference"):
                # Security: x.extend(range(10**12)) grew a list in one C call.
                for value in (*args, *kwargs.values()):
                    guard_sequence_size(len(obj) + _length(value), self.settings)
        elif not isinstance(obj, (torch.Tensor, nn.Module, np.ndarray)):
            args, kwargs = self._callbacks(args, kwargs)  # optimizer.step(closure), see callback()
        if not isinstance(obj, (list, dict, set, tuple, float)) and not (
                isinstance(obj, torch.Tensor) and ref.rule.cost in _DRY_RUN):
            count_data_items((args, kwargs))  # x.view(range(10**9)): see count_data_items
        if isinstance(obj, torch.Tensor) and ref.rule.cost in _DRY_RUN:
            self.budget.predict(ref.label, ref.rule,
                                lambda: getattr(to_meta(obj), name)(*to_meta(args),
                                                                    **to_meta(kwargs)),
                                (obj, *args), kwargs, name, key=("method", name))
        elif isinstance(obj, torch.Tensor) and ref.rule.cost is Cost.BOUNDED:
            self.budget.predict(ref.label, ref.rule, lambda: None, (obj, *args), kwargs)
        elif isinstance(obj, np.ndarray):
            from app.engine.numpy_rules import check_numpy_arguments, predict_ndarray_method_bytes
            check_numpy_arguments(ref.label, args, kwargs)  # a.astype('U100000')
            self.budget.check_bytes(ref.label, predict_ndarray_method_bytes(obj, name, args))
        result = getattr(obj, name)(*args, **kwargs)
        _refuse_object_array(result, ref.label)
        if not isinstance(obj, (list, dict, set, tuple, float)):
            self.admission.admit(result, ref.label)
        if ref.rule.uninitialised:
            result = _fill_uninitialised(result)
        if isinstance(result, np.ndarray):  # Security: arrays count toward max_total_bytes
            self.budget.live.track(result)
        if isinstance(result, torch.Tensor):
            self.budget.live.track(result)
            self.record_cut((obj, *args), result, name)
            if self.on_tensor_op is not None and isinstance(obj, torch.Tensor):
                self.on_tensor_op(f"Tensor.{name}", _method_caller(name), (obj, *args), kwargs,
                                  result, self.line)
        elif isinstance(result, (list, tuple)) and isinstance(obj, torch.Tensor):
            self.budget.live.track(result)  # split/chunk of a tensor: views, counted once
        if after is not None:
            after(result)
        return result

    def _module_apply(self, module: nn.Module, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> nn.Module:
        """``net.apply(fn)`` as torch runs it (each child's subtree first, then the module
        itself), with every fn call made here, on the budget: torch would call the
        program's function from its own loop."""
        if kwargs or len(args) != 1:
            raise TypeError("apply() takes one function: net.apply(init_weights)")
        function = args[0]
        stack: list[tuple[nn.Module, bool]] = [(module, False)]
        while stack:
            self.budget.step()  # shared submodules are visited once per path, as in torch
            current, children_done = stack.pop()
            if children_done:
                self.call(function, (current,), {})
                continue
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(list(current.children())))
        return module

    def call_module(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if type(module) not in self.user_classes and _contains_user_module(module,
                                                                           self.user_classes):
            # Security: torch calls the layers inside a built-in module itself, past the
            # budget (nn.Sequential(MyModule(), nn.Linear(1, 10**5)) allocated 4 GB). An
            # nn.Sequential runs here layer by layer instead, each layer predicted as usual;
            # other built-in modules may not hold the program's own modules.
            if type(module) is not nn.Sequential:
                raise ForbiddenError(at_line(self.line, Message(
                    "{container} holds a module of your own class; only nn.Sequential can run "
                    "your modules here", container=type(module).__name__)), self.line)
            value = args[0] if len(args) == 1 and not kwargs else None
            if value is None:
                raise TypeError("nn.Sequential takes exactly one input")
            for layer in module:
                value = self.call(layer, (value,), {})
            return value
        materialises = False
        if type(module) not in self.user_classes:
            label = f"{type(module).__name__}(...)"
            materialises = lazy.has_uninitialised(module)
            if materialises:
                # The parameters its first call makes count with its output (lazy.py).
                self.budget.predict(label, Rule(Cost.META, matmul=True),
                                    lambda: lazy.forward_on_meta(module, args, kwargs),
                                    args, kwargs, "module")
            else:
                self.budget.predict(label, Rule(Cost.META, matmul=True),
                                    lambda: _module_on_meta(module, args, kwargs),
                                    args, kwargs, "module", key=module_key(module))
        result = module(*args, **kwargs)
        if materialises:
            self.budget.live.track([*module.parameters(), *module.buffers()])
        self.admission.admit(result, f"{type(module).__name__}(...)")
        self.budget.live.track(result)
        return result

    def _module_bytes(self, cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """Bytes of the parameters and buffers a layer would allocate, from building it on
        the meta device first. Fails closed: a probe that fails raises the error the real
        construction would (never "0 bytes"), and a device given positionally is replaced
        by name (nn.Linear(n, n, True, 'cpu') once allocated for real inside the probe)."""
        if cls in _CONTAINER_MODULES:
            return 0  # holds the program's layers, built (and counted) already
        label = f"{cls.__name__}(...)"
        try:
            bound = inspect.signature(cls).bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}(): {error}") from None
        if "device" in bound.arguments:
            check_device(bound.arguments["device"], label)
            bound.arguments["device"] = "meta"
        given = {t.untyped_storage().data_ptr() for a in (*args, *kwargs.values())
                 for t in _tensors_in(a)}
        with torch.device("meta"):  # layers that make tensors without a device argument
            probe = cls(*bound.args, **bound.kwargs)
        total = 0
        for tensor in (*probe.parameters(), *probe.buffers()):
            if lazy.is_uninitialised(tensor):
                continue  # no data until the first call, which is sized then (lazy.py)
            if tensor.is_meta:
                total += tensor.numel() * tensor.element_size()
            elif tensor.untyped_storage().data_ptr() not in given:
                raise LimitError(Message("the memory of {label} could not be predicted",
                                         label=label),
                                 hint=Message("Build the layer with plain numbers as "
                                              "arguments."),
                                 predicted=True)
        return total

    def call_user_function(self, function: UserFunction, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        self.budget.step()
        if self.depth >= self.settings.max_call_depth:
            raise LimitError(Message("calls nested more than {limit} deep (setting "
                                     "max_call_depth)", limit=self.settings.max_call_depth),
                             hint=Message("A function that calls itself needs a stopping "
                                          "condition."))
        scope = Scope(self.bind_arguments(function, args, kwargs), function.scope,
                      owner=function.owner)
        self.depth += 1
        line = self.line
        try:
            if function.grad_mode is not None:
                manager = {"no_grad": torch.no_grad, "enable_grad": torch.enable_grad,
                           "inference_mode": torch.inference_mode}[function.grad_mode]()
                with manager:
                    result = self._run_body(function, scope)
            else:
                result = self._run_body(function, scope)
        finally:
            self.depth -= 1
        # On an error the line stays where it happened, inside the function.
        self.line = line
        return result

    def _run_body(self, function: UserFunction, scope: Scope) -> Any:
        node = function.node
        if isinstance(node, ast.Lambda):
            return self.eval(node.body, scope)
        try:
            self.exec_block(node.body, scope)
        except _Return as returned:
            return returned.value
        return None

    def bind_arguments(self, function: UserFunction, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> dict[str, Any]:
        spec = function.node.args
        positional = [a.arg for a in (*spec.posonlyargs, *spec.args)]
        bound: dict[str, Any] = {}
        for name, value in zip(positional, args, strict=False):
            bound[name] = value
        extra = args[len(positional):]
        if spec.vararg is not None:
            bound[spec.vararg.arg] = tuple(extra)
        elif extra:
            raise TypeError(f"{function.name}() takes {len(positional)} positional arguments "
                            f"but {len(args)} were given")
        kwonly = [a.arg for a in spec.kwonlyargs]
        for name, value in kwargs.items():
            if name not in positional and name not in kwonly:
                raise TypeError(f"{function.name}() got an unexpected keyword argument '{name}'")
            if name in bound:
                raise TypeError(f"{function.name}() got multiple values for argument '{name}'")
            bound[name] = value
        first_default = len(positional) - len(function.defaults)
        for index, name in enumerate(positional):
            if name not in bound:
                if index >= first_default:
                    bound[name] = function.defaults[index - first_default]
                else:
                    raise TypeError(f"{function.name}() missing required argument '{name}'")
        for name, default in zip(kwonly, function.kw_defaults, strict=True):
            if name not in bound:
                if default is None and name not in kwargs:
                    raise TypeError(f"{function.name}() missing keyword argument '{name}'")
                bound[name] = default
        return bound

    # ======================================================================== attributes
    def get_attribute(self, obj: Any, name: str) -> Any:
        if isinstance(obj, Namespace):
            if name in obj.members:
                return obj.members[name]
            refused = obj.refusal(name)
            if refused is not None:
                raise ForbiddenError(at_line(self.line, Message(
                    "{module}.{name} is not available in the playground: {reason}",
                    module=obj.name, name=name, reason=refused[0])), self.line, refused[1])
            reason = policy.REFUSED_WITH_REASON.get(name)
            if reason is None and not _module_has(obj.name, name):
                # Not a refusal: the name does not exist (a typo), as Python would say.
                raise AttributeError(f"module '{obj.name}' has no attribute '{name}'"
                                     + _namespace_suggestion(obj, name))
            if reason:
                raise ForbiddenError(at_line(self.line, Message(
                    "{module}.{name} is not available in the playground ({name} {reason})",
                    module=obj.name, name=name, reason=reason)), self.line)
            raise ForbiddenError(at_line(self.line, Message(
                "{module}.{name} is not available in the playground", module=obj.name,
                name=name)), self.line)
        if isinstance(obj, SuperProxy):
            base, instance = obj.base, obj.instance
            inherited = self.user_classes.get(base, {})
            if name in inherited:
                return BoundUserMethod(inherited[name], instance)
            if name == "__init__":
                return _builtin(lambda *a, **k: base.__init__(instance, *a, **k))
            raise ForbiddenError(Message("super() gives access to __init__ and the methods of "
                                         "your own classes only"), self.line)
        if name == "__class__":
            # Security: the same stand-in as type(x), never the real class (a way to __mro__,
            # __subclasses__ and constructors the program cannot name).
            return self.builtins["type"](obj)
        if name == "apply" and isinstance(obj, nn.Module):
            # Not torch's Module.apply (in no table: it calls fn from torch's own loop).
            return _builtin(lambda *args, **kwargs: self._module_apply(obj, args, kwargs))
        cls = type(obj)
        if cls in self.user_classes:
            return self._user_attribute(obj, name)
        if name == "__name__":
            return self._dunder_name(obj)
        if isinstance(obj, type) and obj in self.user_classes:
            return self._class_attribute(obj, name)
        if isinstance(obj, BaseException) and name == "args":
            # What torch put in its own errors passes the same gate as its results.
            return self.admission.admit(obj.args, f"{cls.__name__}.args")
        return self._vetted_attribute(obj, name)

    def _function_apply(self, cls: type) -> Callable[..., Any]:
        """``MyFunction.apply``: torch calls the program's forward (and later its backward)
        through the class, and they run interpreted, on the budget, like any of its code."""
        def apply(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                raise TypeError(f"{cls.__name__}.apply() takes positional arguments only")
            count_data_items(args)
            result = cls.apply(*args)  # type: ignore[attr-defined]
            self.admission.admit(result, f"{cls.__name__}.apply")
            self.budget.live.track(result)
            return result
        return _builtin(apply)

    def _dunder_name(self, obj: Any) -> str:
        """``__name__`` of the program's functions and classes and of type(x) objects."""
        if isinstance(obj, TypeRef):
            return obj.name
        if isinstance(obj, UserFunction):
            return obj.name
        if isinstance(obj, BoundUserMethod):
            return obj.function.name
        if isinstance(obj, type) and (obj in self.user_classes or obj in _BUILTIN_EXCEPTIONS):
            return obj.__name__
        raise ForbiddenError(at_line(self.line, Message(
            "'__name__' of {what} is not available; it exists for your own functions and "
            "classes and for type(x)", what=self.describe_type(obj))), self.line,
            hint=Message("Use type(x).__name__."))

    def _class_attribute(self, cls: type, name: str) -> Any:
        """An attribute read through one of the program's classes: a method (as a plain
        function), a static or class method, a class variable, Function.apply."""
        members = self.class_members.get(cls, {})
        member = members.get(name)
        if isinstance(member, StaticMethod):
            return member.function
        if isinstance(member, ClassMethod):
            return BoundUserMethod(member.function, cls)
        methods = self.user_classes[cls]
        if name in methods:
            return methods[name]
        if name == "apply" and issubclass(cls, torch.autograd.Function):
            return self._function_apply(cls)
        for klass in cls.__mro__:
            if klass not in self.user_classes:
                break
            value = klass.__dict__.get(name)
            if value is not None and not callable(value) and name not in members:
                return value
        if any(name in vars(klass) for klass in cls.__mro__):
            base = self.torch_base(cls)
            raise ForbiddenError(at_line(self.line, Message(
                "'{cls}.{name}' comes from {base} and is not available in the playground",
                cls=cls.__name__, name=name, base=base.__name__)), self.line,
                hint=Message("Use the methods your class defines."))
        raise AttributeError(f"type object '{cls.__name__}' has no attribute '{name}'"
                             + did_you_mean(name, [*methods, *members]))

    def _user_attribute(self, obj: Any, name: str) -> Any:
        methods = self.user_classes[type(obj)]
        if name in methods:
            return BoundUserMethod(methods[name], obj)
        member = self.class_members[type(obj)].get(name)
        if member is not None:
            if isinstance(member, StaticMethod):
                return member.function
            if isinstance(member, ClassMethod):
                return BoundUserMethod(member.function, type(obj))
            return self.call_user_function(member.getter, (obj,), {})
        if name == "__name__":
            raise AttributeError(f"'{type(obj).__name__}' object has no attribute '__name__'")
        if isinstance(obj, BaseException) and name == "args":
            return obj.args
        if isinstance(obj, nn.Module):
            own = (obj.__dict__, obj._parameters, obj._buffers, obj._modules)
            for table in own:
                if name in table:
                    return table[name]
            if name in policy.MODULE_METHODS:
                return MethodRef(obj, name, policy.MODULE_METHODS[name],
                                 f"{type(obj).__name__}.{name}")
            if name == "training":
                return obj.training
        elif name in obj.__dict__:
            return obj.__dict__[name]
        for klass in type(obj).__mro__:  # class variables of the program's classes
            if klass not in self.user_classes:
                break
            value = klass.__dict__.get(name)
            if value is not None and not callable(value):
                return value
        known = [*methods, *self.class_members[type(obj)]]
        if isinstance(obj, nn.Module):
            known += [*obj._parameters, *obj._buffers, *obj._modules, *policy.MODULE_METHODS]
        known += [n for n in getattr(obj, "__dict__", {}) if isinstance(n, str)]
        raise AttributeError(f"'{type(obj).__name__}' object has no attribute '{name}'"
                             + did_you_mean(name, known))

    def _vetted_attribute(self, obj: Any, name: str) -> Any:
        table = _attribute_table(obj)
        if table is None:
            raise ForbiddenError(at_line(self.line, Message(
                "attributes of {what} are not available ('.{name}')",
                what=self.describe_type(obj), name=name)), self.line)
        data_attributes, methods, type_label = table
        if name in methods:
            return MethodRef(obj, name, methods[name], f"{type_label}.{name}")
        if name in data_attributes:
            if name == "state" and isinstance(obj, torch.optim.Optimizer):
                return kernels.read_only_state(obj)
            value = self.admission.admit(getattr(obj, name), f"{type_label}.{name}")
            if self.on_tensor_op is not None and name in ("T", "mT") \
                    and isinstance(obj, torch.Tensor):
                self.on_tensor_op(f"Tensor.{name}", _attribute_reader(name), (obj,), {}, value,
                                  self.line)
            return value
        if isinstance(obj, torch.autograd.function.FunctionCtx) and name in obj.__dict__ \
                and name not in _CTX_INTERNAL:
            return self.admission.admit(obj.__dict__[name], f"ctx.{name}")
        reason = policy.REFUSED_WITH_REASON.get(name)
        if reason is None and not _has_member(obj, name):
            # Not a refusal: the name does not exist (a typo), as Python would say.
            raise AttributeError(f"'{type_label}' object has no attribute '{name}'"
                                 + did_you_mean(name, [*methods, *data_attributes]))
        if reason:
            raise ForbiddenError(at_line(self.line, Message(
                "'{type}.{name}' is not available in the playground: it {reason}",
                type=type_label, name=name, reason=reason)), self.line)
        raise ForbiddenError(at_line(self.line, Message(
            "'{type}.{name}' is not available in the playground", type=type_label,
            name=name)), self.line)

    # ======================================================================== subscripts
    def subscript(self, container: Any, index: Any) -> Any:
        if self.sequence_classes and _is_array(container):
            self.refuse_program_sequences("indexing", (index,))
        if isinstance(container, torch.Tensor):
            index = self._tensor_index(index)
            if _is_basic_index(index):
                result = container[index]
            else:
                self.budget.predict("tensor indexing", Rule(Cost.META),
                                    lambda: to_meta(container)[to_meta(index)],
                                    (container, index), {}, key=("indexing",))
                result = container[index]
                self.budget.live.track(result)
            if self.on_tensor_op is not None:
                self.on_tensor_op("indexing", operator.getitem, (container, index), {}, result,
                                  self.line)
            return result
        if isinstance(container, np.ndarray) and not _is_basic_index(index):
            self._predict_ndarray_index(container, index)
            result = container[index]
            self.budget.live.track(result)  # a copy: it counts toward max_total_bytes
            return result
        if isinstance(container, (list, tuple, str, range, dict, torch.Size, np.ndarray)):
            return container[index]
        if isinstance(container, deque) and isinstance(index, int):
            return container[index]
        if isinstance(container, (nn.Sequential, nn.ModuleList, nn.ModuleDict,
                                  nn.ParameterList, nn.ParameterDict)):
            return container[index]
        if isinstance(container, AxesGrid):  # plt.subplots(2, 2): axes[0, 1]
            return container.item(index)
        if isinstance(container, AnnotationName):  # typing.List[int]: another annotation
            return container.item(index)
        if isinstance(container, tud.Dataset):
            if type(container) not in self.user_classes and not _is_item_index(index):
                # Security: torch's data sets index their tensors with what they are given,
                # in their own code: TensorDataset(x)[torch.zeros(10**7, dtype=torch.long)]
                # gathered 40 GB past the budget. The program's own data sets run
                # interpreted; built-in ones take an item number or a slice.
                raise ForbiddenError(at_line(self.line, Message(
                    "{container} is indexed by an item number or a slice here",
                    container=type(container).__name__)), self.line,
                    hint=Message("Index the tensors themselves (x[idx]), or use a "
                                 "DataLoader."))
            return self.admission.admit(container[index], f"{type(container).__name__}[...]")
        raise ForbiddenError(at_line(self.line, Message(
            "{what} cannot be indexed here", what=self.describe_type(container))), self.line)

    def _predict_ndarray_index(self, array: np.ndarray, index: Any) -> None:
        """Security: integer-array indexing repeats rows (np.ones((1, 10**4))[np.zeros(10**6,
        int)] is 80 GB); predicted on a meta tensor of the same shape, as for a tensor."""
        count_data_items(index)
        meta = torch.empty(array.shape, dtype=torch.float64, device="meta")
        try:
            with torch.no_grad():
                predicted = meta[index].numel() * max(array.itemsize, 1)
        except Exception:
            # Boolean masks (data-dependent shape on meta) select at most the array itself;
            # other indices torch reads differently are bounded by the array per index item.
            parts = index if isinstance(index, tuple) else (index,)
            items = sum(np.size(part) for part in parts if isinstance(part, (list, np.ndarray))
                        and np.asarray(part).dtype != bool)
            predicted = array.nbytes * max(items, 1)
        self.budget.check_bytes("ndarray indexing", predicted)

    def _tensor_index(self, index: Any) -> Any:
        # A list index becomes a tensor index, as numpy users expect; torch would do the same.
        return index

    # ======================================================================== iteration
    def iterate(self, value: Any, limit: int | None = None) -> Iterator[Any]:
        if isinstance(value, (list, tuple, range, dict, str, set, torch.Size, frozenset,
                              type({}.keys()), type({}.values()), type({}.items()),
                              enumerate, zip, reversed)):
            return iter(value)
        if isinstance(value, torch.Tensor):
            if value.dim() == 0:
                raise TypeError("iteration over a 0-d tensor")
            return TensorRows(value)
        if isinstance(value, np.ndarray):
            return iter(value)
        if isinstance(value, (tud.DataLoader, tud.Dataset, nn.Sequential, nn.ModuleList,
                              nn.ParameterList)):
            return iter(value)
        if isinstance(value, deque):
            return iter(value)
        if _is_torch_generator(value):
            # Each item passes the gate: a lazy layer's parameters() yields uninitialised
            # ones, which only the layer may hold (admission.py).
            label = f"{value.__name__}()"
            return (self.admission.admit(item, label) for item in value)
        if isinstance(value, AxesGrid):
            return iter(value.rows())
        if isinstance(value, Iterator) and is_counted_iterator(value):
            return value
        raise TypeError(f"{self.describe_type(value)} is not iterable in the playground")

    # ======================================================================== helpers
    def refuse_program_sequences(self, label: str, values: tuple[Any, ...],
                                 modules: bool = False, datasets: bool = False) -> None:
        """Security: torch and numpy read a sequence (anything with __len__/__getitem__)
        item by item themselves, from C: a program's object gave the meta dry run one shape
        and the real call another (torch.tensor(S()) made 2 x 10**7 after a dry run of 2),
        and numpy's shape reader took what the prediction did not. The program's own
        sequences never reach them, also inside lists, tuples and dicts; layers and data
        sets go where torch takes them (modules=, datasets=)."""
        stack = list(values)
        budget = MAX_DATA_ITEMS  # count_data_items bounds the arguments as well
        while stack and budget > 0:
            item = stack.pop()
            budget -= 1
            kind = type(item)
            if kind in (list, tuple, set, frozenset):
                stack.extend(item)
            elif kind is dict:
                stack.extend(item.values())
            elif kind in self.sequence_classes and not (
                    (modules and isinstance(item, nn.Module))
                    or (datasets and isinstance(item, tud.Dataset))):
                raise ForbiddenError(at_line(self.line, Message(
                    "{label} would read your {cls} object item by item itself, outside the "
                    "sandbox's checks; give it a list instead", label=label,
                    cls=kind.__name__)), self.line,
                    hint=Message("Build a list from it first: "
                                 "[obj[i] for i in range(len(obj))]."))

    def _is_own(self, value: Any) -> bool:
        """Values the program made or can name anyway: its functions, classes and their
        instances, the namespaces and vetted callables, the built-ins. Torch may hand them
        back (random.choice of the program's list, a scheduler's lr_lambda)."""
        if isinstance(value, (UserFunction, BoundUserMethod, Namespace, MethodRef,
                              SuperProxy)):
            return True
        if type(value) in self.user_classes or (isinstance(value, type)
                                                 and value in self.user_classes):
            return True
        if is_builtin(value):
            return True
        return id(value) in self.vetted or any(value is b for b in self.builtins.values())

    def truth(self, value: Any) -> bool:
        return bool(value)

    def notice(self, message: Text) -> None:
        if message not in self.notices and len(self.notices) < 20:
            self.notices.append(message)

    def write_stdout(self, text: str) -> None:
        room = self.settings.max_stdout_chars - self.stdout_chars
        if room <= 0:
            if not self.stdout_dropped:
                self.stdout_dropped = True
                self.notice(Message("print output past {limit:,} characters was dropped "
                                    "(setting max_stdout_chars)",
                                    limit=self.settings.max_stdout_chars))
            return
        piece = text[:room]
        self.stdout.append(piece)
        self.stdout_chars += len(piece)
        if len(piece) < len(text):
            self.write_stdout(text[len(piece):])

    @staticmethod
    def describe_type(value: Any) -> str:
        if isinstance(value, type):
            return f"the class {value.__name__}"
        name = type(value).__name__
        return f"{'an' if name[:1].lower() in 'aeio' else 'a'} {name}"  # a UserFunction

    _expr_handlers: dict[type[ast.expr], Callable[[Interpreter, Any, Scope], Any]] = {
        ast.Constant: _constant, ast.Name: _name, ast.Attribute: _attribute,
        ast.Subscript: _subscript, ast.Slice: _slice, ast.Tuple: _tuple, ast.List: _list,
        ast.Set: _set, ast.Dict: _dict, ast.BoolOp: _bool_op, ast.BinOp: _bin_op,
        ast.UnaryOp: _unary_op, ast.Compare: _compare, ast.IfExp: _if_exp,
        ast.Lambda: _lambda, ast.Call: _call, ast.ListComp: _list_comp,
        ast.GeneratorExp: _list_comp, ast.SetComp: _set_comp, ast.DictComp: _dict_comp,
        ast.Starred: _starred,
        ast.JoinedStr: _joined_str,
    }


# ============================================================================ module helpers
def _method_caller(name: str) -> Callable[..., Any]:
    """A tensor method as a function of (tensor, *args): how provenance replays it."""
    def call(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(tensor, name)(*args, **kwargs)
    return call


def _attribute_reader(name: str) -> Callable[[Any], Any]:
    def read(tensor: Any) -> Any:
        return getattr(tensor, name)
    return read


def _trampoline(function: UserFunction) -> Callable[..., Any]:
    """A real Python function for the class dict, so torch can call the user's method
    (Module.__call__ -> forward, DataLoader -> __getitem__/__len__); it runs interpreted."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return function(self, *args, **kwargs)

    method.__name__ = function.name
    return method


def _module_has(module_name: str, name: str) -> bool:
    """Whether the real module defines ``name`` or has a submodule of that name (torch.utils
    .benchmark, numpy.ma are loaded lazily), without importing or running anything."""
    module = sys.modules.get(module_name)
    if module is None or name in vars(module):
        return True
    if not hasattr(module, "__path__"):
        return False
    import importlib.util
    try:
        return importlib.util.find_spec(f"{module_name}.{name}") is not None
    except (ImportError, ValueError, OSError):
        return True  # fail closed: a refusal, not "no such name"


def _namespace_suggestion(namespace: Namespace, name: str) -> str:
    """The closest member of the namespace or of the namespaces inside it (torch.
    cross_entropy_loss is torch.nn.functional.cross_entropy), named in full when nested."""
    paths: dict[str, str] = {member: "" for member in namespace.members}
    pending = [(f"{namespace.name}.{member}", value) for member, value in
               namespace.members.items() if isinstance(value, Namespace)]
    seen = {id(namespace)}
    while pending and len(seen) < 30:  # torch.nn.functional, torch.optim.lr_scheduler ...
        path, inner = pending.pop(0)
        if id(inner) in seen:
            continue
        seen.add(id(inner))
        for member, value in inner.members.items():
            paths.setdefault(member, path + ".")
            if isinstance(value, Namespace):
                pending.append((f"{path}.{member}", value))
    found = did_you_mean(name, paths)
    if not found:
        return ""
    match = found.split("'")[1]
    return found.replace(f"'{match}'", f"'{paths[match]}{match}'")


def _refuse_marker(name: str, line: int | None) -> None:
    """Security: the interpreter recognises its own callables and iterators by attributes
    named playground_* (playground_builtin: call it directly, unchecked); a program's
    object must not carry one."""
    if name.startswith("playground_"):
        raise ForbiddenError(at_line(line, Message(
            "names starting with 'playground_' are reserved for the sandbox ('{name}')",
            name=name)), line, hint=Message("Pick another name."))


def _has_member(obj: Any, name: str) -> bool:
    """Whether the object or its class defines ``name``, read from their dicts: no property
    or __getattr__ of the object runs."""
    if name in getattr(obj, "__dict__", {}):
        return True
    return any(name in vars(klass) for klass in type(obj).__mro__)


# Attributes torch's base classes set on every instance in __init__, apart from the class's
# own names: the program's class may not define them as methods, properties or class
# variables (a property named `training` ran the program's code whenever torch or the result
# view read model.training, also after the program had ended).
_INSTANCE_ATTRIBUTES: dict[type, frozenset[str]] = {
    nn.Module: frozenset(vars(nn.Module())), tud.Dataset: frozenset(vars(tud.Dataset())),
}


def _torch_uses(torch_base: type, name: str) -> bool:
    """Whether ``name`` is one of torch's on the base class or on each of its instances."""
    return hasattr(torch_base, name) or name in _INSTANCE_ATTRIBUTES.get(torch_base, ())


def _member_trampoline(member: Any) -> Any:
    """The Python form of a static method, class method or property, for torch's own
    lookups through the class; the program's functions still run interpreted."""
    if isinstance(member, StaticMethod):
        return staticmethod(_trampoline(member.function))
    if isinstance(member, ClassMethod):
        return classmethod(_trampoline(member.function))
    setter = _trampoline(member.setter) if member.setter is not None else None
    return property(_trampoline(member.getter), setter)


def _member_functions(member: Any) -> list[UserFunction]:
    if isinstance(member, Property):
        return [f for f in (member.getter, member.setter) if f is not None]
    return [member.function]


def _refuse_object_array(result: Any, label: str) -> None:
    """Security: a numpy array of Python objects (dtype='O', np.full(n, tensor)) makes numpy
    call the items' own methods from C: np.exp(array of tensors) ran tensor.exp() on each,
    past the budget. Only arrays of numbers and booleans exist here."""
    if isinstance(result, np.ndarray) and result.dtype.kind == "O":
        raise ForbiddenError(Message("{label} made a numpy array of Python objects "
                                     "(dtype=object), which is not available in the "
                                     "playground; use numbers, or a list of tensors",
                                     label=label))
    if isinstance(result, np.ndarray) and result.dtype.kind not in "biufc":
        raise ForbiddenError(Message("{label} made a numpy array of {dtype}: numpy arrays of "
                                     "text, records or dates are not available in the "
                                     "playground", label=label, dtype=str(result.dtype)))


def _length(value: Any) -> int:
    """len(value) for a size guard: 0 for things without one (iterators, which the budget
    counts item by item), and 'too many' for a range too long for len()."""
    try:
        return len(value)
    except OverflowError:
        return sys.maxsize
    except TypeError:
        return 0


def _guarded_len(function: UserFunction, settings: Settings) -> Callable[..., Any]:
    """__len__ of a user class, bounded: torch trusts it (a DataLoader with shuffle=True
    allocated randperm(len(dataset)), 8 GB for a __len__ of 10**9)."""

    def method(self: Any) -> Any:
        length = operator.index(function(self))  # what len() does; a tensor becomes an int
        if length > settings.max_sequence_items:
            raise LimitError(Message("__len__ returned {length:,}; a data set may hold at most "
                                     "{limit:,} items (setting max_sequence_items)",
                                     length=length, limit=settings.max_sequence_items),
                             hint=Message("Return the real number of items."))
        return length

    method.__name__ = "__len__"
    return method


def _builtin(function: Callable[..., Any]) -> Callable[..., Any]:
    return mark_builtin(function)


def _callback_named(function: Callable[..., Any]) -> Callable[..., Any]:
    # A program that gets one back (np.random.choice([print, len])) sees <function callback>,
    # not this module's closure names.
    function.__name__ = function.__qualname__ = "callback"
    return mark_builtin(function)


def _attribute_table(obj: Any) -> tuple[frozenset[str], dict[str, Rule], str] | None:
    if isinstance(obj, torch.Tensor):
        label = "Parameter" if isinstance(obj, nn.Parameter) else "Tensor"
        return policy.TENSOR_DATA_ATTRIBUTES, policy.TENSOR_METHODS, label
    if isinstance(obj, nn.Module):
        return policy.MODULE_DATA_ATTRIBUTES, policy.MODULE_METHODS, type(obj).__name__
    if isinstance(obj, torch.optim.Optimizer):
        return policy.OPTIMIZER_ATTRIBUTES, policy.OPTIMIZER_METHODS, type(obj).__name__
    if isinstance(obj, (torch.optim.lr_scheduler.LRScheduler,
                        torch.optim.lr_scheduler.ReduceLROnPlateau)):
        return policy.SCHEDULER_ATTRIBUTES, policy.SCHEDULER_METHODS, type(obj).__name__
    if isinstance(obj, torch.amp.GradScaler):
        return frozenset(), policy.SCALER_METHODS, "GradScaler"
    if isinstance(obj, tud.DataLoader):
        return policy.LOADER_ATTRIBUTES, {}, "DataLoader"
    if isinstance(obj, tud.Dataset):
        return policy.DATASET_ATTRIBUTES, {}, type(obj).__name__
    if isinstance(obj, torch.Size):
        return frozenset(), policy.SIZE_METHODS, "torch.Size"
    if isinstance(obj, torch.dtype):
        return policy.DTYPE_ATTRIBUTES, {}, "torch.dtype"
    if isinstance(obj, torch.device):
        return policy.DEVICE_ATTRIBUTES, {}, "torch.device"
    if isinstance(obj, (torch.finfo, torch.iinfo)):
        return policy.FINFO_ATTRIBUTES, {}, type(obj).__name__
    if isinstance(obj, torch.Generator):
        return frozenset(), policy.GENERATOR_METHODS, "torch.Generator"
    if isinstance(obj, torch.autograd.function.FunctionCtx):
        return _CTX_ATTRIBUTES, _CTX_METHODS, "ctx"
    if isinstance(obj, torch.autograd.graph.Node):
        return policy.GRAD_FN_ATTRIBUTES, policy.GRAD_FN_METHODS, "grad_fn"
    if isinstance(obj, np.ndarray):
        return policy.NDARRAY_ATTRIBUTES, policy.NDARRAY_METHODS, "ndarray"
    if type(obj) is str:
        return frozenset(), _STR_RULES, "str"
    if type(obj) in policy.DISTRIBUTION_TYPES:
        return policy.DISTRIBUTION_ATTRIBUTES, policy.DISTRIBUTION_METHODS, type(obj).__name__
    if type(obj) in policy.RETURN_TYPES:
        return (policy.RETURN_TYPE_ATTRIBUTES, _TUPLE_RULES,
                f"torch.return_types.{type(obj).__name__}")
    container = _CONTAINER_METHODS.get(type(obj))
    if container is not None:
        return frozenset(), {name: Rule(Cost.FREE) for name in container}, type(obj).__name__
    return stdlib.attribute_table(obj)


# The ctx of a program's torch.autograd.Function (also the grad_fn of its results): the
# grad_fn members plus what forward/backward use. Not apply, hooks or mark_dirty.
_CTX_ATTRIBUTES = policy.GRAD_FN_ATTRIBUTES | {"saved_tensors", "needs_input_grad"}
_CTX_METHODS: dict[str, Rule] = {
    **policy.GRAD_FN_METHODS,
    "save_for_backward": Rule(Cost.FREE, note="keeps the tensors for backward"),
    "mark_non_differentiable": Rule(Cost.FREE, note="flags outputs without gradient"),
    "set_materialize_grads": Rule(Cost.FREE, note="a flag: None gradients stay None"),
}
# Attributes torch's autograd keeps on a ctx itself; a program stores its own values under
# other names (ctx.alpha = alpha).
_CTX_INTERNAL = frozenset({"to_save", "dirty_tensors", "non_differentiable",
                           "materialize_grads", "saved_for_forward", "saved_variables"})

_CONTAINER_METHODS: dict[type, frozenset[str]] = {
    list: policy.LIST_METHODS, tuple: policy.TUPLE_METHODS, dict: policy.DICT_METHODS,
    OrderedDict: policy.DICT_METHODS,  # what state_dict() returns
    set: policy.SET_METHODS, float: policy.FLOAT_METHODS,
}
_TUPLE_RULES: dict[str, Rule] = {name: Rule(Cost.FREE) for name in policy.TUPLE_METHODS}
# Built once: str has forty methods, and a dict of rules per attribute read cost more than
# the formatting itself in a loop of '{}'.format(...).
_STR_RULES: dict[str, Rule] = {name: Rule(Cost.FREE) for name in policy.STR_METHODS}


def _is_array(*values: Any) -> bool:
    return any(isinstance(v, (torch.Tensor, np.ndarray)) for v in values)


# Calls that take the program's data sets (which have __len__ and __getitem__) as such.
_TAKES_DATASETS = frozenset({tud.DataLoader, tud.Subset, tud.random_split, tud.ConcatDataset,
                             tud.RandomSampler, tud.SequentialSampler})


def _is_item_index(index: Any) -> bool:
    if isinstance(index, slice) or (isinstance(index, int) and not isinstance(index, bool)):
        return True
    if isinstance(index, (np.integer, torch.Tensor)):  # a 0-d integer from a sampler
        return getattr(index, "ndim", 0) == 0 and not index.dtype.is_floating_point \
            if isinstance(index, torch.Tensor) else True
    return False


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice, type(None), type(Ellipsis))) and not isinstance(p, bool)
               for p in parts)


def _is_torch_generator(value: Any) -> bool:
    # model.parameters() and friends are generators created by torch's own code; iterating
    # them is safe, their frames are not reachable (no attribute table for generators).
    import types
    return isinstance(value, types.GeneratorType) and value.gi_code.co_filename.startswith(
        _TORCH_DIR)


_TORCH_DIR = torch.__file__.rsplit("/", 1)[0]
_CONTAINER_MODULES = frozenset({nn.Sequential, nn.ModuleList, nn.ModuleDict})
# In-place methods that change only a tensor's shape or flags, never its elements.
_METADATA_INPLACE = frozenset({"t_", "transpose_", "squeeze_", "unsqueeze_", "detach_",
                               "requires_grad_"})


def _tensors_in(value: Any, depth: int = 0) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, nn.Module):
        yield from (*value.parameters(), *value.buffers())
    elif depth < 3 and isinstance(value, (list, tuple, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _tensors_in(item, depth + 1)

_FACTORIES_WITH_DEVICE = frozenset({
    torch.zeros, torch.ones, torch.full, torch.rand, torch.randn, torch.randint,
    torch.randperm, torch.arange, torch.linspace, torch.logspace, torch.eye, torch.empty,
    torch.empty_strided, torch.tensor, torch.as_tensor,
})
_LEGACY_CONSTRUCTORS = frozenset({getattr(torch, name) for name in policy.LEGACY_TENSOR_TYPES}
                                 | {torch.Tensor})


def _call_on_meta(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    meta_kwargs = to_meta(kwargs)
    meta_kwargs.pop("generator", None)
    if function in _FACTORIES_WITH_DEVICE:
        meta_kwargs["device"] = "meta"
        meta_kwargs.pop("pin_memory", None)
    with torch.no_grad():
        return function(*to_meta(args), **meta_kwargs)


def _legacy_bytes(function: Any, args: tuple[Any, ...]) -> int:
    """torch.Tensor(2, 3, 4) allocates prod(sizes); torch.Tensor([2, 3, 4]) holds its data."""
    sizes = [_size_argument(a) for a in args]
    if args and all(size is not None for size in sizes):
        numel = 1
        for size in sizes:
            numel *= max(size or 0, 0)
        itemsize = 8 if function in (torch.LongTensor, torch.DoubleTensor) else 4
        return numel * itemsize
    if len(args) == 1 and isinstance(args[0], torch.Size):
        return _legacy_bytes(function, tuple(args[0]))
    return 0


def _given_data(function: Any, args: tuple[Any, ...]) -> bool:
    """torch.Tensor([2, 3, 4]) and torch.FloatTensor(ndarray) copy the data they are given:
    only the size forms (ints, a torch.Size) hand out uninitialised memory."""
    return (function in _LEGACY_CONSTRUCTORS and len(args) == 1
            and not isinstance(args[0], int | torch.Size)
            and _size_argument(args[0]) is None)


def _size_argument(value: Any) -> int | None:
    """The size a legacy constructor reads from an argument, or None for data.

    Security: torch takes numpy integers and 0-d integer arrays (np.arange(9)[6],
    np.array(10**10)) as sizes too: torch.Tensor(np.array(10**10)) skipped the budget (40 GB)
    and torch.Tensor(a[6]) handed out uninitialised memory. Tensors are data."""
    if isinstance(value, bool | torch.Tensor):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _fill_uninitialised(result: Any) -> Any:
    if isinstance(result, torch.Tensor):
        with torch.no_grad():
            result.fill_(float("nan") if result.is_floating_point() or result.is_complex()
                         else 0)
    return result


def _module_on_meta(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from torch.func import functional_call
    state = {name: to_meta(t) for name, t in module.named_parameters()}
    state.update({name: to_meta(t) for name, t in module.named_buffers()})
    return functional_call(module, state, to_meta(args), to_meta(kwargs))


def _contains_user_module(module: nn.Module, user_classes: dict[type, Any]) -> bool:
    return any(type(m) in user_classes for m in module.modules())
