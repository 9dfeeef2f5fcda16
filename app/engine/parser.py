"""Parse a program and check it against the playground's allowlist of Python constructs.

This runs in the web process, so a refused program never reaches a worker. The worker parses
the program again and checks it too (defence in depth), unless the job carries the mark of a
check the web process made under the very same rules (``check_mark``). It only looks at
syntax: which node types, names and attribute names appear. What an attribute or call may do
on a given object is decided at run time by ``policy.py``.
"""

from __future__ import annotations
import __future__

import ast
import hashlib
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.config import Settings
from app.engine.errors import ForbiddenError, LimitError, ProgramSyntaxError, at_line
from app.message import Message

# Node types the interpreter implements. Anything else is refused with its own message.
ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset({
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.While, ast.If,
    ast.Break, ast.Continue, ast.Pass, ast.FunctionDef, ast.ClassDef, ast.Return, ast.With,
    ast.withitem, ast.Import, ast.ImportFrom, ast.alias, ast.Assert, ast.Delete,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.IfExp, ast.Attribute,
    ast.Subscript, ast.Slice, ast.Starred, ast.Name, ast.Constant, ast.List, ast.Tuple,
    ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp,
    ast.comprehension, ast.keyword, ast.arguments, ast.arg, ast.Lambda,
    ast.Load, ast.Store, ast.Del,
    ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod, ast.Pow,
    ast.FloorDiv, ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift,
    ast.Invert, ast.Not, ast.UAdd, ast.USub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    ast.JoinedStr, ast.FormattedValue,  # f-strings: bounded in formatting.py
    ast.Try, ast.ExceptHandler, ast.Raise,
    ast.Global, ast.Nonlocal,
})

# Plain-language reasons for the constructs people most often try.
REFUSED_CONSTRUCTS: dict[type[ast.AST], Message] = {
    ast.TryStar: Message("except* (exception groups) is not available; use a plain except"),
    ast.Yield: Message("generators (yield) are not available; build a list instead"),
    ast.YieldFrom: Message("generators (yield from) are not available"),
    ast.Await: Message("async code is not available"),
    ast.AsyncFunctionDef: Message("async functions are not available"),
    ast.AsyncFor: Message("async for is not available"),
    ast.AsyncWith: Message("async with is not available"),
    ast.NamedExpr: Message("the walrus operator := is not available; assign on its own line"),
    ast.Match: Message("match statements are not available; use if/elif"),
}

# Module imports that bind vetted playground namespaces (and nothing else).
ALLOWED_IMPORTS: frozenset[str] = frozenset({
    "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.optim.lr_scheduler",
    "torch.utils", "torch.utils.data", "torch.cuda", "torch.amp", "torch.cuda.amp",
    "numpy", "math", "random",
    "matplotlib.pyplot",  # the vetted subset in plots.py, as `import matplotlib.pyplot as plt`
    "torch.nn.init", "torch.distributions", "torch.accelerator",
    # Standard-library modules as vetted namespaces (app/engine/stdlib.py); os and sys bind
    # a namespace that refuses every use with what to do instead, so an unused import is free.
    "time", "os", "os.path", "sys", "collections", "itertools", "functools", "copy",
    "torch.autograd",
    # Submodule spellings of vetted namespaces, and more standard-library namespaces
    # (app/engine/stdlib.py): pprint through the bounded text path, timeit's clock, typing's
    # annotation names.
    "matplotlib", "torch.nn.utils", "torch.nn.utils.rnn",
    "torch.distributions.multinomial", "torch.distributions.categorical",
    "torch.distributions.normal", "torch.distributions.uniform",
    "torch.distributions.bernoulli", "torch.distributions.multivariate_normal",
    "torch.distributions.exponential", "torch.distributions.beta",
    "pprint", "timeit", "typing",
})

# Imported only so that a program that never uses them runs: not worth listing as available.
REFUSING_IMPORTS: frozenset[str] = frozenset({"os", "os.path", "sys"})
# Other spellings of namespaces listed already (the refusal's list stays short).
SPELLING_IMPORTS: frozenset[str] = frozenset(
    name for name in ALLOWED_IMPORTS
    if name.startswith("torch.distributions.") or name in ("matplotlib", "torch.nn.utils",
                                                           "torch.nn.utils.rnn"))

# Modules people import that the playground will never offer, with the reason it says.
REFUSED_IMPORTS: dict[str, Message] = {
    "importlib": Message("it loads arbitrary modules"),
    "builtins": Message("it holds eval, exec and open"),
    "__builtins__": Message("it holds eval, exec and open"),
    "ctypes": Message("it reads and writes raw memory"),
    "pickle": Message("unpickling runs arbitrary code"),
    "marshal": Message("it loads code objects"),
    "code": Message("it runs code"),
    "subprocess": Message("it starts processes"),
    "multiprocessing": Message("it starts processes"),
    "threading": Message("it starts threads"),
    "signal": Message("it changes the worker's signal handlers"),
    "socket": Message("it opens network connections"),
    "urllib": Message("it opens network connections"),
    "requests": Message("it opens network connections"),
    "shutil": Message("it changes files"),
    "pathlib": Message("it reaches the file system"),
    "io": Message("it reaches files and streams"),
    "inspect": Message("it reaches interpreter internals"),
    "gc": Message("it reaches every live object"),
    "operator": Message("attrgetter reaches any attribute"),
}

# Dunder names a program may write, and where.
CLASS_DUNDER_METHODS: frozenset[str] = frozenset({"__init__", "__len__", "__getitem__",
                                                  "__call__"})
ALLOWED_DUNDER_ATTRIBUTES: frozenset[str] = frozenset({
    "__version__",
    "__name__",  # of the program's own functions and classes, and of type(x): see get_attribute
    "__class__",  # exactly type(x) (a TypeRef or the program's own class): see get_attribute
})
GRAD_MODE_DECORATORS: frozenset[str] = frozenset({
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode",
})
ALLOWED_CLASS_BASES: frozenset[str] = frozenset({
    "nn.Module", "torch.nn.Module", "Module", "Dataset", "torch.utils.data.Dataset",
    "data.Dataset", "object",
    "torch.autograd.Function", "autograd.Function", "Function",
    # The built-in exception classes; the program's own classes are checked at run time.
    *("BaseException", "Exception", "ArithmeticError", "LookupError", "ValueError",
      "TypeError", "RuntimeError", "KeyError", "IndexError", "ZeroDivisionError",
      "StopIteration", "NotImplementedError", "AssertionError", "AttributeError", "NameError",
      "OverflowError"),
})

# Python built-ins that do not exist here; named so the refusal can say why.
# A program may bind these names itself (shadowing is its own business); reading one it did
# not bind is refused, by the parser and again at run time.
DANGEROUS_NAMES: frozenset[str] = frozenset({
    "eval", "exec", "compile", "open", "input", "breakpoint", "delattr",
    "globals", "locals", "vars", "dir", "object", "memoryview",
    "help", "exit", "quit",
    "chr", "ord", "bytes", "bytearray", "hash", "callable", "issubclass",
})


# Security: bidirectional control characters make source display differently from how it
# runs ("Trojan Source", CVE-2021-42574), in strings and comments too: a shared program could
# look harmless to the person who opens it. Python itself accepts them there.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Searched in native code: a loop over the characters in Python took ~40 ns a character
# (0.2 ms for a 5,000-character program), paid in the web process and in the worker.
_BIDI_SEARCH = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]").search


def dotted_name(node: ast.AST) -> str | None:
    """``torch.nn.Module`` for an Attribute chain over a Name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def parse_program(source: str, settings: Settings,
                  checked_mark: str | None = None) -> ast.Module:
    """Parse and validate; returns the checked tree or raises a SandboxError.

    ``checked_mark``: what ``check_mark`` said where the same text passed the check already
    (the web process); equal to this process's mark, the allowlist walk is not repeated. The
    size limit, the bidirectional-character scan and the parse itself always run."""
    if len(source) > settings.max_source_chars:
        raise LimitError(
            Message("the program is {size:,} characters; the limit is {limit:,} (setting "
                    "max_source_chars)", size=len(source), limit=settings.max_source_chars),
            hint=Message("Shorten the program or split it into several runs."), predicted=True)
    bidi_found = _BIDI_SEARCH(source)
    if bidi_found is not None:
        bidi = bidi_found.group()
        line = source.count("\n", 0, bidi_found.start()) + 1
        raise ForbiddenError(at_line(line, Message(
            "the program contains the invisible bidirectional control character U+{code:04X}, "
            "which makes code look different from what runs", code=ord(bidi))), line,
            Message("Delete it (retype the line if you cannot see it)."))
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as err:
        hint = Message("Check brackets, colons and indentation on that line.")
        raise ProgramSyntaxError(f"{err.msg}", err.lineno, hint=hint) from None
    except (MemoryError, RecursionError):
        raise LimitError(Message("the program is nested too deeply for the parser"),
                         hint=Message("Flatten deeply nested brackets or expressions."),
                         predicted=True) from None
    except ValueError as err:  # e.g. NUL bytes in the source
        hint = Message("Remove invisible control characters.")
        raise ProgramSyntaxError(str(err), None, hint=hint) from None
    if checked_mark is None or checked_mark != check_mark(settings):
        _Validator(settings).check(tree)
    return tree


def validate_program(source: str, settings: Settings) -> None:
    parse_program(source, settings)


# The rules of the check are this module's code: the allowlist, the names and the limits it
# reads are all here.
_PARSER_CODE = Path(__file__).read_bytes()
# By settings object: a process has one or two (tests make many: the table is bounded).
_marks: dict[int, tuple[Settings, str]] = {}
_MAX_MARKS = 64


def check_mark(settings: Settings) -> str:
    """Names the rules a check applies: this parser's own code, the Python that parses, and
    every setting. The web process sends it with a program that passed its check; a worker
    whose mark is the same knows its own check would say the same, and skips it (a third of a
    new program's parse-and-check, paid on the response's path). Any difference (another
    release, Python or setting, as in a cluster during an upgrade) and the worker checks."""
    known = _marks.get(id(settings))
    if known is not None and known[0] is settings:
        return known[1]
    rules = hashlib.sha256()
    rules.update(_PARSER_CODE)
    rules.update(sys.version.encode())
    rules.update(settings.model_dump_json().encode())
    mark = rules.hexdigest()
    if len(_marks) >= _MAX_MARKS:
        _marks.clear()
    _marks[id(settings)] = (settings, mark)
    return mark


def _refuse(node: ast.AST, message: Message, hint: Message | None = None) -> ForbiddenError:
    line = getattr(node, "lineno", None)
    return ForbiddenError(at_line(line, message), line, hint)


# What _check_identifier calls a name, made once: each node checked used to build one.
_NAME = Message("name")
_ARGUMENT_NAME = Message("argument name")
_KEYWORD = Message("keyword")
_ATTRIBUTE = Message("attribute")
_FUNCTION_NAME = Message("function name")
_CLASS_NAME = Message("class name")


def _check_identifier(node: ast.AST, name: str, what: Message) -> None:
    if not name.isascii():
        raise _refuse(node, Message("the {what} {name!r} uses non-ASCII characters; only ASCII "
                                    "names are allowed (look-alike letters can hide other "
                                    "names)", what=what, name=name))


def _children(node: ast.AST, fields: tuple[str, ...]) -> list[ast.AST]:
    """The nodes in ``fields`` of ``node``, in order (ast.iter_child_nodes without its
    generators, a third of the walk's time)."""
    children: list[ast.AST] = []
    for field in fields:
        value = getattr(node, field, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    children.append(item)
    return children


# Expression contexts (the ``ctx`` of a Name, Attribute, Subscript, Starred, List or Tuple):
# a leaf, one of three shared objects, admitted by ALLOWED_NODES and checked by nothing else.
# The walk counts each where it meets it (for max_ast_nodes and max_ast_depth) without
# keeping it: they were a third of a program's nodes, and of the walk's time.
_CONTEXTS = frozenset({ast.Load, ast.Store, ast.Del}) & ALLOWED_NODES
# Per node type: its fields other than ``ctx``, and whether it has a ``ctx``.
_FIELDS: dict[type[ast.AST], tuple[tuple[str, ...], bool]] = {}


def _fields_of(kind: type[ast.AST]) -> tuple[tuple[str, ...], bool]:
    found = _FIELDS[kind] = (tuple(f for f in kind._fields if f != "ctx"),
                             "ctx" in kind._fields)
    return found


def _check_constant(node: ast.Constant) -> None:
    if isinstance(node.value, bytes):
        raise _refuse(node, Message("bytes literals are not available"))


def _check_argument(node: ast.arg) -> None:
    _check_identifier(node, node.arg, _ARGUMENT_NAME)
    if node.arg.startswith("_") and node.arg != "_":
        raise _refuse(node, Message("argument names starting with '_' are not allowed "
                                    "({name!r})", name=node.arg))


def _check_arguments(node: ast.arguments) -> None:
    if node.kwarg is not None:
        raise _refuse(node.kwarg, Message("**kwargs parameters are not available; name "
                                          "the keyword arguments explicitly"))


def _check_keyword(node: ast.keyword) -> None:
    if node.arg is None:
        raise _refuse(node.value, Message("**dict splats in calls are not available; "
                                          "pass keyword arguments by name"))
    _check_identifier(node.value, node.arg, _KEYWORD)
    if node.arg.startswith("_"):
        raise _refuse(node.value, Message("keyword arguments starting with '_' are not "
                                          "allowed ({name!r})", name=node.arg))


def _check_lambda(node: ast.Lambda) -> None:
    if node.args.defaults or node.args.kw_defaults:
        raise _refuse(node, Message("lambda default arguments are not available; use def"))


def _check_scope_names(node: ast.Global | ast.Nonlocal) -> None:
    for name in node.names:
        _check_identifier(node, name, _NAME)
        if name.startswith("_") and name != "_":
            raise _refuse(node, _underscore_name(name))


def _check_except_name(node: ast.ExceptHandler) -> None:
    if node.name is not None:
        _check_identifier(node, node.name, _NAME)
        if node.name.startswith("_") and node.name != "_":
            raise _refuse(node, _underscore_name(node.name))


def _check_delete(node: ast.Delete) -> None:
    for target in node.targets:
        if not isinstance(target, (ast.Name, ast.Subscript)):
            raise _refuse(node, Message("del works on names and subscripts only"))


class _Validator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.nodes = 0
        self.bound: frozenset[str] = frozenset()

    def check(self, tree: ast.Module) -> None:
        nodes, stopped = self._walk(tree)
        # Names bound after a limit stopped the walk still count, as if it had gone on.
        self.bound = bound_names(tree) if stopped is not None else _bound_in(nodes)
        for node, parent in nodes:
            kind = type(node)
            if kind not in ALLOWED_NODES:
                reason = REFUSED_CONSTRUCTS.get(kind) or Message(
                    "the construct '{name}' is not available in the playground",
                    name=kind.__name__)
                raise _refuse(node, reason)
            check = _NODE_CHECKS.get(kind)
            if check is not None:
                check(self, node, parent)
        if stopped is not None:
            raise stopped

    def _walk(self, tree: ast.Module) -> tuple[list[tuple[ast.AST, ast.AST | None]],
                                                LimitError | None]:
        """Every node with its parent (expression contexts counted, not kept: _CONTEXTS), in
        source order (each node is checked before those after it, so the first refused
        construct is the one reported), up to the first node past max_ast_nodes or
        max_ast_depth: then also that limit's error, raised once the nodes before it are
        checked. Iterative with an explicit depth, so a deep tree cannot overflow it."""
        limits = self.settings
        nodes: list[tuple[ast.AST, ast.AST | None]] = []
        # (node, depth, parent); node None stands for an expression context (_CONTEXTS).
        stack: list[tuple[ast.AST | None, int, ast.AST | None]] = [(tree, 0, None)]
        seen = 0
        push, pop, keep = stack.append, stack.pop, nodes.append
        while stack:
            node, depth, parent = pop()
            if seen >= limits.max_ast_nodes:
                return nodes, LimitError(Message(
                    "the program has more than {limit:,} syntax nodes (setting max_ast_nodes)",
                    limit=limits.max_ast_nodes), hint=Message("Shorten the program."),
                    predicted=True)
            if depth > limits.max_ast_depth:
                line = getattr(node, "lineno", None)
                return nodes, LimitError(at_line(line, Message(
                    "the program is nested more than {limit} levels deep (setting "
                    "max_ast_depth)", limit=limits.max_ast_depth)), line,
                    hint=Message("Split the expression into several assignments."),
                    predicted=True)
            seen += 1
            if node is None:
                continue
            keep((node, parent))
            kind = type(node)
            fields = _FIELDS.get(kind) or _fields_of(kind)
            children = _children(node, fields[0])
            depth += 1
            if fields[1]:  # a ctx, the last field: met after the others
                context = getattr(node, "ctx", None)
                if type(context) in _CONTEXTS:
                    push((None, depth, node))
                elif isinstance(context, ast.AST):  # not one ast.parse makes: checked
                    children.append(context)
            for child in reversed(children):
                push((child, depth, node))
        return nodes, None

    def _check_name(self, node: ast.Name, parent: ast.AST | None) -> None:
        name = node.id
        _check_identifier(node, name, _NAME)
        if name.startswith("_") and name != "_":
            raise _refuse(node, _underscore_name(name))
        is_class_base = isinstance(parent, ast.ClassDef) and node in parent.bases
        if name in DANGEROUS_NAMES and name not in self.bound and not is_class_base:
            raise dangerous_name_error(name, getattr(node, "lineno", None))

    def _check_attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        _check_identifier(node, attr, _ATTRIBUTE)
        if not attr.startswith("_") or attr in ALLOWED_DUNDER_ATTRIBUTES:
            return
        if attr == "__init__" and _is_super_call(node.value):
            return
        hint = Message("Private and dunder attributes are how sandboxes are escaped; use the "
                       "public API.")
        raise _refuse(node, Message("attributes starting with '_' are not allowed ('.{name}')",
                                    name=attr), hint)

    def _check_function(self, node: ast.FunctionDef, parent: ast.AST | None) -> None:
        _check_identifier(node, node.name, _FUNCTION_NAME)
        in_class = isinstance(parent, ast.ClassDef)
        if node.name.startswith("_") and not (in_class and node.name in CLASS_DUNDER_METHODS):
            allowed = ", ".join(sorted(CLASS_DUNDER_METHODS))
            raise _refuse(node, Message("the function name {name!r} is not allowed; names may "
                                        "not start with '_' except {allowed} inside a class",
                                        name=node.name, allowed=allowed))
        for decorator in node.decorator_list:
            if not is_allowed_decorator(decorator):
                raise _refuse(decorator, Message(
                    "a decorator may be @torch.no_grad(), @torch.enable_grad(), "
                    "@torch.inference_mode(), @staticmethod, @classmethod, @property, "
                    "@name.setter, or a function of your own (@my_decorator or "
                    "@my_decorator(arguments))"))

    def _check_class(self, node: ast.ClassDef) -> None:
        _check_identifier(node, node.name, _CLASS_NAME)
        if node.name.startswith("_"):
            raise _refuse(node, Message("class names starting with '_' are not allowed "
                                        "({name!r})", name=node.name))
        if node.decorator_list or node.keywords:
            raise _refuse(node, Message("class decorators and class keywords are not "
                                        "available"))
        if len(node.bases) > 1:
            raise _refuse(node, Message("a class may have one base class"))
        for base in node.bases:
            # A plain name may be one of the program's own classes: checked at run time.
            if dotted_name(base) not in ALLOWED_CLASS_BASES and not (
                    isinstance(base, ast.Name) and base.id in self.bound):
                raise _refuse(base, Message("a class may extend nn.Module, Dataset, "
                                            "torch.autograd.Function, an exception class such "
                                            "as ValueError, or one of your own classes (or "
                                            "nothing)"))
        for stmt in node.body:
            is_docstring = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            if not isinstance(stmt, (ast.FunctionDef, ast.Assign, ast.Pass)) and not is_docstring:
                raise _refuse(stmt, Message("a class body may hold methods and simple "
                                            "assignments only"))

    def _check_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.level or node.module is None:
                raise _refuse(node, Message("relative imports are not available"))
            if node.module == "__future__":
                _check_future(node)
                return
            _check_module(node, node.module)
            for alias in node.names:
                if alias.name == "*":
                    raise _refuse(node, Message("'import *' is not available; import names "
                                                "explicitly"))
            return
        for alias in node.names:
            _check_module(node, alias.name)

    def _check_with(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                raise _refuse(node, Message("'with ... as name' is not available; the "
                                            "playground's context managers (no_grad, "
                                            "enable_grad, autocast) bind nothing"))
            if not isinstance(item.context_expr, ast.Call):
                raise _refuse(node, Message("with needs a call such as torch.no_grad()"))


# The node types with a check of their own beyond ALLOWED_NODES (one entry each, looked up
# by exact type: ast.parse makes no subclasses), as (validator, node, parent).
_NODE_CHECKS: dict[type[ast.AST], Callable[[_Validator, Any, ast.AST | None], None]] = {
    ast.Name: lambda v, node, parent: v._check_name(node, parent),
    ast.Attribute: lambda v, node, _: v._check_attribute(node),
    ast.Constant: lambda _, node, __: _check_constant(node),
    ast.FunctionDef: lambda v, node, parent: v._check_function(node, parent),
    ast.ClassDef: lambda v, node, _: v._check_class(node),
    ast.arg: lambda _, node, __: _check_argument(node),
    ast.arguments: lambda _, node, __: _check_arguments(node),
    ast.keyword: lambda _, node, __: _check_keyword(node),
    ast.Lambda: lambda _, node, __: _check_lambda(node),
    ast.Import: lambda v, node, _: v._check_import(node),
    ast.ImportFrom: lambda v, node, _: v._check_import(node),
    ast.With: lambda v, node, _: v._check_with(node),
    ast.Global: lambda _, node, __: _check_scope_names(node),
    ast.Nonlocal: lambda _, node, __: _check_scope_names(node),
    ast.ExceptHandler: lambda _, node, __: _check_except_name(node),
    ast.Delete: lambda _, node, __: _check_delete(node),
}


def _check_module(node: ast.AST, module: str) -> None:
    if module in ALLOWED_IMPORTS:
        return
    reason = REFUSED_IMPORTS.get(module.split(".")[0])
    available = ", ".join(sorted(ALLOWED_IMPORTS - REFUSING_IMPORTS - SPELLING_IMPORTS))
    if reason:
        raise _refuse(node, Message("'{module}' cannot be imported here ({reason}); available: "
                                    "{available}", module=module, reason=reason,
                                    available=available))
    raise _refuse(node, Message("'{module}' cannot be imported here; available: {available}",
                                module=module, available=available))


def _check_future(node: ast.ImportFrom) -> None:
    """``from __future__ import print_function``: every feature Python 3 has is already on,
    so the import is a no-op (the interpreter binds nothing)."""
    for alias in node.names:
        if alias.name not in __future__.all_feature_names:
            raise _refuse(node, Message("'{name}' is not a __future__ feature of this Python",
                                        name=alias.name))
        if alias.asname:
            raise _refuse(node, Message("a __future__ import binds no name; leave out 'as "
                                        "{name}'", name=alias.asname))


def _underscore_name(name: str) -> Message:
    return Message("names starting with '_' are not allowed ({name!r})", name=name)


def dangerous_name_error(name: str, line: int | None) -> ForbiddenError:
    return ForbiddenError(
        at_line(line, Message("'{name}' is not available in the playground (it could reach "
                              "outside the sandbox)", name=name)), line,
        Message("Use the playground's own functions (print, len, torch...), or define this "
                "name yourself first."))


def bound_names(tree: ast.AST) -> frozenset[str]:
    """Every name the program binds anywhere (assignment, def, class, argument, import,
    for/with/except targets). ast.walk is iterative, so a deep tree cannot overflow it."""
    return _bound_in((node, None) for node in ast.walk(tree))


def _bound_in(nodes: Iterable[tuple[ast.AST, ast.AST | None]]) -> frozenset[str]:
    names: set[str] = set()
    for node, _ in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return frozenset(names)


def is_grad_mode_decorator(decorator: ast.expr) -> bool:
    return (isinstance(decorator, ast.Call) and not decorator.args and not decorator.keywords
            and dotted_name(decorator.func) in GRAD_MODE_DECORATORS)


def is_allowed_decorator(decorator: ast.expr) -> bool:
    """Grad-mode decorators, a name (staticmethod, a program function), a call of a name
    (a decorator factory) or name.setter; what the name holds is checked at run time."""
    if is_grad_mode_decorator(decorator):
        return True
    if isinstance(decorator, ast.Call):
        return isinstance(decorator.func, ast.Name)
    if isinstance(decorator, ast.Attribute):
        return decorator.attr == "setter" and isinstance(decorator.value, ast.Name)
    return isinstance(decorator, ast.Name)


def _is_super_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "super")
