"""Run one program inside a worker and produce the /eval JSON document.

The worker process calls ``Sandbox.run``; everything here happens in that process, after the
OS limits were applied. The result is plain data: no tensor crosses the process boundary.
"""

from __future__ import annotations

import ast
import gc
import json
import math
import random
import statistics
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import torch

from app.config import Settings
from app.engine.budget import Budget, LiveTensors
from app.engine.builtins import bounded_repr, exception_text
from app.engine.devices import DevicePolicy
from app.engine.errors import LimitError, SandboxError
from app.engine.exceptions import PROCESS_STOPS
from app.engine.hints import hint_for
from app.engine.interpreter import BoundUserMethod, Interpreter, UserFunction
from app.engine.parser import parse_program
from app.engine.plots import PlotSession
from app.engine.policy import Namespace, Rule, build_namespaces
from app.engine.predictions import PredictionCache
from app.engine.resident import ResidentMemory
from app.engine.sourcelines import SourceLines
from app.engine.text import without_addresses
from app.inspect.floats import FiniteView, Float32Values, as_lists, finite_or_text
from app.inspect.gradtrace import GradTraceRecorder
from app.inspect.graph import build_graph
from app.inspect.memo import ViewMemo
from app.inspect.provenance import ProvenanceLimits, ProvenanceRecorder
from app.inspect.stepper import StepperLimits, StepTracer
from app.inspect.tensors import StorageLabels, ViewBuilder
from app.message import Message, Text, error_body, split_notices

_MAX_STEP_SOURCE = 200
_MAX_MESSAGE = 2_000


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def _vetted_callables(namespaces: dict[str, Namespace]) -> dict[int, tuple[str, Rule]]:
    """Every callable reachable through a namespace (nested ones included), by identity."""
    vetted: dict[int, tuple[str, Rule]] = {}
    pending = list(namespaces.values())
    seen: set[int] = set()
    while pending:
        namespace = pending.pop()
        if id(namespace) in seen:
            continue
        seen.add(id(namespace))
        for member, rule in namespace.rules.items():
            vetted.setdefault(id(namespace.members[member]), (f"{namespace.name}.{member}", rule))
        pending.extend(m for m in namespace.members.values() if isinstance(m, Namespace))
    return vetted


def _user_variables(scope: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in scope.items() if _is_user_variable(name, value)}


def _is_user_variable(name: str, value: Any) -> bool:
    return not (isinstance(value, (Namespace, UserFunction, BoundUserMethod, type))
                or (callable(value) and not isinstance(value, torch.nn.Module)))


@dataclass
class ParsedProgram:
    """A checked tree and the trace texts of its statements, computed on first use (the
    statements are the tree's own, so their ids are stable while the entry lives)."""

    tree: ast.Module
    source: str
    step_sources: dict[int, str]
    # Whether the program imports matplotlib: only then is pyplot bound to a figure session
    # (building its members cost ~13 us, 1.3% of a small program's run).
    plots: bool
    # Views of this program's tensors by content, for its next runs (app/inspect/memo.py).
    views: ViewMemo
    lines: SourceLines | None = None  # split at the first traced statement

    def step_source(self, stmt: ast.stmt) -> str:
        text = self.step_sources.get(id(stmt))
        if text is None:
            if self.lines is None:
                self.lines = SourceLines(self.source)
            text = self.step_sources[id(stmt)] = _step_source(self.lines, stmt)
        return text


class ParsedPrograms:
    """Checked trees by source text, for the programs of one worker: the benchmark's and a
    class's programs arrive again and again, and parsing and checking was a fifth of a small
    program's run. Only the very same text finds an entry, and the interpreter never changes
    a tree (tests/engine/test_parse_cache.py), so no program can see another one's state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._entries: OrderedDict[str, ParsedProgram] = OrderedDict()

    def get(self, code: str, checked_mark: str | None = None) -> ParsedProgram:
        """The checked program; raises SandboxError as parse_program does (never cached).
        ``checked_mark``: see parse_program."""
        found = self._entries.get(code)
        if found is not None:
            self._entries.move_to_end(code)
            return found
        tree = parse_program(code, self.settings, checked_mark)
        parsed = ParsedProgram(tree, code, {}, _imports_matplotlib(code, tree),
                               ViewMemo(self.settings.view_memo_bytes))
        if self.settings.parsed_program_cache_entries > 0:
            self._entries[code] = parsed
            if len(self._entries) > self.settings.parsed_program_cache_entries:
                self._entries.popitem(last=False)
        return parsed


def _imports_matplotlib(code: str, tree: ast.Module) -> bool:
    # An ASCII text without the word cannot import it (a non-ASCII one could spell it with
    # letters Python folds to ASCII). Only statements import: the walk skips expressions,
    # which ast.walk visited at ~25 us for a small program.
    if code.isascii() and "matplotlib" not in code:
        return False
    statements: list[ast.AST] = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "matplotlib" for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] == "matplotlib":
                return True
        else:
            for block in ("body", "orelse", "finalbody", "handlers"):
                statements.extend(getattr(node, block, ()))
    return False


def _step_source(lines: SourceLines, stmt: ast.stmt) -> str:
    segment = lines.segment(stmt) or ""
    if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With, ast.FunctionDef,
                         ast.ClassDef, ast.Try)):
        segment = segment.splitlines()[0] if segment else ""
    if len(segment) > _MAX_STEP_SOURCE:
        segment = segment[:_MAX_STEP_SOURCE] + " …"
    return segment


class Sandbox:
    """Per-worker state that is built once (namespaces, vetted callables) and shared by the
    programs the worker runs. It is immutable from a program's point of view."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.namespaces = build_namespaces()
        self.vetted = _vetted_callables(self.namespaces)
        self.cuda_available = torch.cuda.is_available()
        # Budget predictions by call signature, for every program of this worker (see
        # predictions.py: the cache holds predictions, the limits are checked at every call).
        self.predictions = PredictionCache(settings.prediction_cache_entries)
        # Opened here, in the worker, before its OS layer closes /proc to new opens.
        self.resident = ResidentMemory()
        self._live: LiveTensors | None = None
        self.programs = ParsedPrograms(settings)
        # Names bound before the first line, as if the usual imports were written: the
        # guide's snippets use torch, nn, F, np ... without importing them.
        torch_ns = self.namespaces["torch"]
        data = self.namespaces["torch.utils.data"].members
        self.prelude: dict[str, Any] = {
            "torch": torch_ns, "nn": self.namespaces["torch.nn"],
            "F": self.namespaces["torch.nn.functional"], "optim": self.namespaces["torch.optim"],
            "np": self.namespaces["numpy"], "math": self.namespaces["math"],
            "Dataset": data["Dataset"], "DataLoader": data["DataLoader"],
            "TensorDataset": data["TensorDataset"],
        }

    def default_device(self, requested: str) -> str:
        """Where tensors land when the program names no device. "auto" keeps PyTorch's own
        default (the CPU; programs move work to the GPU with .to(device)): a CUDA default
        device breaks code that is correct in PyTorch, such as a shuffling DataLoader (its
        CPU generator cannot draw a CUDA permutation)."""
        if requested == "cuda" and self.cuda_available:
            return "cuda"
        return "cpu"

    def run(self, code: str, seed: int = 0, device: str = "auto", repeat: int = 1,
            checked_mark: str | None = None) -> Outcome:
        """``checked_mark``: the web process's check_mark for a program that passed its
        check (app/evaluation.py); see parse_program."""
        started = time.perf_counter()
        deadline = time.monotonic() + self.settings.deadline_s
        notices: list[Text] = []
        if device == "cuda" and not self.cuda_available:
            if self.settings.cuda_fallback == "error":
                return _finished(Outcome(200, _error_body(
                    "RuntimeError", Message("this server has no CUDA GPU"), None,
                    Message("Use device 'cpu' or 'auto'."), [], "", notices)))
            notices.append(Message("device 'cuda' was requested, but this server has no CUDA "
                                   "GPU, so the program ran on the CPU"))
        target = self.default_device(device)
        try:
            program = self.programs.get(code, checked_mark)
        except SandboxError as refused:
            return _finished(Outcome(refused.status, _error_body(
                refused.type_name, refused.said, refused.line, refused.hint_said, [], "",
                notices)))
        try:
            outcome = self._run_once(program, seed, target, deadline, notices, started)
        finally:
            program.views.end_run()
        self._collect_if_held()
        if repeat > 1 and outcome.body.get("ok"):
            outcome.body["timing"] = self._time_repeats(program, seed, target, deadline,
                                                        repeat, outcome.body)
        return _finished(outcome)

    def _collect_if_held(self) -> None:
        """Free the tensors a finished run left in reference cycles, when there are enough
        of them to matter.

        An interpreter and its scope are cyclic, and so is a program's own object that refers
        to itself: they keep the run's tensors alive until Python's cyclic collector happens
        to run, while the next run's budget starts at 0. A timed repeat=8 of a program that
        kept 768 MB in a cycle held 4 GB, and five such programs left 3.3 GB in a worker (the
        next user's program ran out of memory). The worker also collects after every job
        (app/executor/worker.py), where it is cheap and off the response's path; here a
        full collection, up to 200 ms in a process that did not freeze its start-up
        objects, is paid only when cycle_collect_min_bytes are still held."""
        live = self._live
        if live is not None and live.bytes >= self.settings.cycle_collect_min_bytes:
            gc.collect()

    # ------------------------------------------------------------------------------------
    def _fresh_state(self, seed: int) -> None:
        # Each program starts from the same state, whatever the previous one did.
        if self.cuda_available:
            torch.manual_seed(seed)
        else:
            # What torch.manual_seed does on a CPU-only host, without queueing lazy seeds
            # for CUDA, XPU and MTIA with a captured stack each (~0.2 ms per program).
            torch.default_generator.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)

    def _interpreter(self, seed: int, deadline: float, on_step: Any = None,
                     plots: PlotSession | None = None) -> Interpreter:
        """``plots``: the session matplotlib.pyplot draws into, for a program that imports
        it (a timed repeat passes a session nobody renders); None leaves matplotlib out."""
        self._fresh_state(seed)
        budget = Budget(self.settings, deadline, self.predictions, self.resident)
        self._live = budget.live  # read by _collect_if_held once the run is over
        devices = DevicePolicy(self.cuda_available, self.settings.cuda_fallback)
        namespaces = self.namespaces if plots is None else plots.namespaces(self.namespaces)
        interp = Interpreter(self.settings, budget, devices, namespaces, self.vetted,
                             on_step=on_step)
        interp.globals.vars.update(self.prelude)
        return interp

    def _run_once(self, program: ParsedProgram, seed: int, target: str, deadline: float,
                  notices: list[Text], started: float) -> Outcome:
        tree = program.tree
        labels = StorageLabels()
        views = ViewBuilder(self.settings.max_view_values, self.settings.max_repr_chars, labels,
                            self.settings, program.views)
        steps: list[dict[str, Any]] = []
        stdout_mark = [0]
        interp: Interpreter

        def on_step(stmt: ast.stmt, value: Any, has_value: bool) -> None:
            text = "".join(interp.stdout)
            printed, stdout_mark[0] = text[stdout_mark[0]:], len(text)
            if len(steps) >= self.settings.max_steps_reported:
                return
            view = None
            if has_value:
                views.set_owners(interp.globals.vars)
                name = _assigned_name(stmt)
                view = _safe_view(views, value, name)
            steps.append({"line": stmt.lineno, "source": program.step_source(stmt),
                          "value": view, "stdout": printed})

        tracer, grad_trace = self._tracers(program.views)

        def on_step_traced(stmt: ast.stmt, value: Any, has_value: bool) -> None:
            on_step(stmt, value, has_value)
            tracer.statement(stmt.lineno, program.step_source(stmt),
                             _user_variables(interp.globals.vars))

        def on_iteration(stmt: ast.stmt) -> None:
            tracer.iteration(stmt, stmt.lineno, program.step_source(stmt),
                             _user_variables(interp.globals.vars))

        plots = PlotSession(self.settings)
        interp = self._interpreter(seed, deadline, on_step_traced,
                                   plots if program.plots else None)
        interp.on_iteration = on_iteration
        interp.grad_trace = grad_trace  # type: ignore[attr-defined]  # read by guards.py
        provenance = ProvenanceRecorder(
            ProvenanceLimits(self.settings.max_provenance_cells,
                             self.settings.max_provenance_records),
            lambda: interp.globals.vars, program.views)
        interp.on_tensor_op = provenance.record
        error: BaseException | None = None
        state = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with torch.device(target) if target != "cpu" else _nullcontext():
                    try:
                        state = interp.run(tree)
                    finally:  # inside the target's context: torch stacks device contexts
                        interp.restore_default_device()
            except RecursionError:
                error = LimitError(Message("the program nested calls too deeply"),
                                   hint=Message("A function that calls itself needs a "
                                                "stopping condition."))
            except MemoryError:
                error = LimitError(Message("the program ran out of memory"),
                                   hint=Message("Use smaller tensors."))
            except PROCESS_STOPS:
                raise
            except BaseException as raised:  # raise BaseException() is the program's error
                error = raised
            finally:
                torch.set_grad_enabled(True)
                torch.set_default_dtype(torch.float32)
        views.settle()
        if len(steps) >= self.settings.max_steps_reported:
            notices.append(Message("only the first {n} statements are traced (setting "
                                   "max_steps_reported)", n=self.settings.max_steps_reported))
        for warning in caught:
            message = without_addresses(f"{warning.category.__name__}: "
                                    f"{str(warning.message)[:_MAX_MESSAGE]}")
            if message not in notices and len(notices) < 20:
                notices.append(message)
        notices.extend(n for n in interp.notices if n not in notices)
        stdout = "".join(interp.stdout)
        variables = {name: value for name, value in interp.globals.vars.items()
                     if _is_user_variable(name, value)}
        variable_views = self._variable_views(views, variables)
        traces = {"trace": tracer.result(), "grad_trace": grad_trace.result(variables)}
        device = _device_label(target)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        if error is not None:
            failed = _error_outcome(error, interp.line, steps, stdout, notices, variable_views,
                                    device, elapsed_ms)
            failed.body.update(traces)
            return failed
        assert state is not None
        result_view = None
        if state.has_result:
            views.set_owners(variables)
            result_view = _safe_view(views, state.result)
        roots: list[tuple[str | None, torch.Tensor]] = []
        if state.has_result and isinstance(state.result, torch.Tensor):
            roots.append((None, state.result))
        roots.extend((n, v) for n, v in variables.items() if isinstance(v, torch.Tensor))
        cuts = {name: cut for name, value in variables.items()
                if isinstance(value, torch.Tensor) and (cut := interp.cut_source(value))}
        graph = build_graph(roots, variables, views.tensor, cuts,
                            grad_trace.flowed) if roots else None
        found = provenance.result(state.result, state.has_result, variables)
        body = {"ok": True, "result": result_view, "variables": variable_views, "steps": steps,
                "stdout": stdout, "graph": graph, "device": device, "notices": notices,
                **traces, "provenance": found, "elapsed_ms": elapsed_ms,
                "figures": plots.render(notices, deadline)}
        return Outcome(200, body)

    def _tracers(self, memo: ViewMemo) -> tuple[StepTracer, GradTraceRecorder]:
        s = self.settings
        return (StepTracer(StepperLimits(s.max_trace_frames, s.max_trace_iterations,
                                         s.max_trace_variables, s.max_trace_values,
                                         s.max_trace_text_chars), memo),
                GradTraceRecorder(s.max_grad_trace_calls, s.max_grad_trace_nodes,
                                  s.max_trace_values, memo))

    def _variable_views(self, views: ViewBuilder, variables: dict[str, Any]) -> dict[str, Any]:
        views.set_owners(variables)
        limit = self.settings.max_variables_reported
        return {name: _safe_view(views, value, name)
                for name, value in list(variables.items())[:limit]}

    def _time_repeats(self, program: ParsedProgram, seed: int, target: str,
                      deadline: float, repeat: int, body: dict[str, Any]) -> dict[str, Any]:
        """Run the program again ``repeat`` times (no views) and report the spread."""
        timings: list[float] = []
        for _ in range(repeat):
            interp = self._interpreter(seed, deadline, plots=PlotSession(self.settings)
                                       if program.plots else None)
            _synchronize(target)
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with torch.device(target) if target != "cpu" else _nullcontext():
                        try:
                            interp.run(program.tree)
                        finally:
                            interp.restore_default_device()
            except PROCESS_STOPS:
                raise
            except BaseException:
                break
            finally:
                # A timed run may change the grad mode or default dtype like any program;
                # the next program must not inherit them.
                torch.set_grad_enabled(True)
                torch.set_default_dtype(torch.float32)
            _synchronize(target)
            timings.append((time.perf_counter() - start) * 1000)
            del interp
            self._collect_if_held()
        if len(timings) < repeat:
            body["notices"].append(Message("timing stopped after {done} of {repeat} runs "
                                           "(deadline)", done=len(timings), repeat=repeat))
        if not timings:
            return {"repeats": 0}
        return {"repeats": len(timings), "median_ms": round(statistics.median(timings), 4),
                "min_ms": round(min(timings), 4), "max_ms": round(max(timings), 4),
                "spread_ms": round(statistics.pstdev(timings), 4) if len(timings) > 1 else 0.0}


def _safe_view(views: ViewBuilder, value: Any, name: str | None = None) -> dict[str, Any]:
    """Security: a view walks the value (a module's repr and parameters, a list's items), and
    it runs after the program's own try: the views of an nn.Sequential nested 3,000 deep raised
    RecursionError out of Sandbox.run and ended the worker."""
    try:
        return views.view(value, name)
    except (RecursionError, MemoryError):
        return {"kind": "text", "value": f"<{type(value).__name__}: too deeply nested or too "
                "large to show>", "type": type(value).__name__}


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _synchronize(target: str) -> None:
    if target.startswith("cuda"):
        torch.cuda.synchronize()


def _device_label(target: str) -> str:
    if target == "cuda":
        return f"cuda:{torch.cuda.current_device()}"
    return target


def _assigned_name(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[-1], ast.Name):
        return stmt.targets[-1].id
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


def _error_body(type_: str, message: Text, line: int | None, hint: Text | None,
                steps: list[dict[str, Any]], stdout: str, notices: list[Text],
                **extra: Any) -> dict[str, Any]:
    """The contract's envelope with what the program did before it failed; its message is
    bounded (a program chooses it)."""
    return error_body(type_, message, line, hint, max_message_chars=_MAX_MESSAGE, steps=steps,
                      stdout=stdout, notices=notices, **extra)


def _finished(outcome: Outcome) -> Outcome:
    """The body as the contract has it: notices as English text, with their msgids beside."""
    split_notices(outcome.body)
    return outcome


def _error_outcome(error: BaseException, line: int | None, steps: list[dict[str, Any]],
                   stdout: str, notices: list[Text], variables: dict[str, Any], device: str,
                   elapsed_ms: float) -> Outcome:
    extra = {"variables": variables, "device": device, "elapsed_ms": elapsed_ms}
    if isinstance(error, SandboxError):
        return Outcome(error.status, _error_body(error.type_name, error.said,
                                                 error.line or line, error.hint_said, steps,
                                                 stdout, notices, **extra))
    type_name = type(error).__name__
    message = _error_message(error, type_name)
    return Outcome(200, _error_body(type_name, message, line, hint_for(type_name, message),
                                    steps, stdout, notices, **extra))


def _error_message(error: BaseException, type_name: str) -> str:
    """The message of a program's error, bounded in size and work: it is built after the
    program ended, from text the program may control."""
    try:
        if isinstance(error, KeyError) and len(error.args) == 1:
            # Security: str(KeyError) is the key's repr, which a program controls:
            # {}[(s,) * 10**6] built 10**12 characters here, outside the program's try.
            message = f"key {bounded_repr(error.args[0], _MAX_MESSAGE)} not found"
        else:
            # A program's own raise chooses the arguments (raise ValueError([s] * 10**6)):
            # written bounded, as print() writes it.
            message = exception_text(error) or type_name
    except (RecursionError, MemoryError):
        message = f"{type_name} (its message was too deeply nested or too large to show)"
    return _first_lines(without_addresses(message[:2 * _MAX_MESSAGE]))


def _first_lines(message: str, keep: int = 12) -> str:
    lines = message.splitlines()
    return "\n".join(lines[:keep]) + ("\n…" if len(lines) > keep else "")


def to_json(body: dict[str, Any]) -> bytes:
    """Strict JSON (no NaN); a stray non-finite float becomes its text form."""
    try:
        return _dumps(body)
    except ValueError:
        return json.dumps(_scrub(body), allow_nan=False, separators=(",", ":")).encode()


_SHARED_MIN_VALUES = 64


def _dumps(body: dict[str, Any]) -> bytes:
    """The body written by orjson (a 64x64 program's body in a tenth of the standard library's
    time), with a ``values`` list that several views share written once: ViewBuilder hands
    one tensor's values to its step, its variable, the result and the graph. Such a list goes
    to the body's ``shared_values`` (before ``elapsed_ms``, which stays last) and each view
    that shows it says ``"values_ref": n`` instead of ``"values"`` (docs/API.md; ``from_json``
    puts them back). A program with a few 64x64 tensors answered 266 kB, four fifths of it
    repeats.

    orjson writes a non-finite float as ``null``, so the walk that finds the lists also looks
    for one first: found, ValueError sends ``to_json`` to the standard library, which writes
    ``"nan"``. orjson writes 1e-05 as ``0.00001`` (the same number to every JSON reader)."""
    holders: dict[int, list[dict[str, Any]]] = {}
    lists: dict[int, list[Any] | Float32Values] = {}
    if not _find_values(body, holders, lists):
        raise ValueError("a non-finite float")
    shared = [key for key, found in holders.items()
              if len(found) > 1 and _size(lists[key]) >= _SHARED_MIN_VALUES]
    refs = {key: index for index, key in enumerate(shared)}
    renamed: list[tuple[dict[str, Any], list[tuple[str, Any]]]] = []
    as_text: list[tuple[dict[str, Any], Float32Values]] = []
    try:
        for key, found in holders.items():
            values = lists[key]
            if key in refs:
                for holder in found:
                    renamed.append((holder, list(holder.items())))
                    # Renamed in place, at the same position: the document keeps its key order.
                    replaced = [("values_ref", refs[key]) if k == "values" else (k, v)
                                for k, v in holder.items()]
                    holder.clear()
                    holder.update(replaced)
            elif type(values) is Float32Values:
                written = orjson.Fragment(values.text)
                for holder in found:
                    as_text.append((holder, values))
                    holder["values"] = written
        document = body
        if shared:
            document = {k: v for k, v in body.items() if k != "elapsed_ms"}
            document["shared_values"] = [_as_written(lists[key]) for key in shared]
            if "elapsed_ms" in body:
                document["elapsed_ms"] = body["elapsed_ms"]
        try:
            return orjson.dumps(document, default=_as_written)
        except orjson.JSONEncodeError:
            pass
    finally:
        for holder, values in as_text:
            holder["values"] = values
        for holder, items in reversed(renamed):  # a dict met twice was saved twice
            holder.clear()
            holder.update(items)
    # An int beyond 64 bits: the standard library writes it (the same data, nothing shared).
    return json.dumps(body, allow_nan=False, separators=(",", ":"), default=as_lists).encode()


def _as_written(values: Any) -> Any:
    """Float32Values as their text (orjson's own writing of them), any other value as it is;
    also orjson's ``default``, for one met outside a ``values`` key."""
    if type(values) is Float32Values:
        return orjson.Fragment(values.text)
    if isinstance(values, list):
        return values
    raise TypeError(f"{type(values).__name__} is not JSON serializable")



def _size(values: list[Any] | Float32Values) -> int:
    if type(values) is Float32Values:
        return values.count
    return len(values) * (len(values[0]) if values and type(values[0]) is list else 1)


def from_json(body: bytes) -> dict[str, Any]:
    """A body as ``to_json`` wrote it, with every ``values_ref`` replaced by its values: the
    document the pages read, the same whether values were shared or not."""
    data: dict[str, Any] = json.loads(body)
    shared = data.pop("shared_values", None)
    if shared is not None:
        _expand_refs(data, shared)
    return data


def _expand_refs(value: Any, shared: list[Any]) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.pop("values_ref", None)
            if ref is not None:
                item["values"] = shared[ref]
            stack.extend(v for k, v in item.items()
                         if k != "values" and isinstance(v, (dict, list)))
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            stack.extend(v for v in item if isinstance(v, (dict, list)))


def _find_values(value: Any, holders: dict[int, list[dict[str, Any]]],
                 lists: dict[int, list[Any] | Float32Values]) -> bool:
    """Every dict with a ``values`` list, by the list's identity; False as soon as a
    non-finite float is met anywhere (the lists' items included)."""
    if type(value) is FiniteView:  # finite where it was built: its values and grad only
        values = value.get("values")
        if type(values) is list or type(values) is Float32Values:
            lists[id(values)] = values
            holders.setdefault(id(values), []).append(value)
        grad = value.get("grad")
        return grad is None or _find_values(grad, holders, lists)
    if type(value) is dict:
        for key, item in value.items():
            kind = type(item)
            if kind is float:
                if not math.isfinite(item):
                    return False
            elif key == "values" and (kind is list or kind is Float32Values):
                if id(item) not in lists:
                    # Float32Values are finite: orjson wrote their text without a null.
                    if kind is list and not _all_finite(item):
                        return False
                    lists[id(item)] = item
                holders.setdefault(id(item), []).append(value)
            elif (kind is dict or kind is FiniteView or kind is list or kind is tuple) \
                    and not _find_values(item, holders, lists):
                return False
        return True
    if type(value) is list or type(value) is tuple:
        if value and (type(value[0]) is dict or type(value[0]) is FiniteView):
            for item in value:  # noqa: SIM110 (a loop: a third less time than all(genexpr))
                if not _find_values(item, holders, lists):
                    return False
            return True
        return _all_finite(value)
    return _finite_item(value)


def _all_finite(items: list[Any] | tuple[Any, ...]) -> bool:
    """No NaN or infinity in a list, nested ones included. A list of numbers is summed in C:
    the sum is finite unless an item is not (or finite items overflow, which only costs the
    standard library's slower writer)."""
    try:
        return math.isfinite(sum(items))
    except TypeError:  # not all numbers (texts, None, nested lists): item by item
        return all(_finite_item(item) for item in items)
    except OverflowError:  # an int beyond a float's range
        return False


def _finite_item(item: Any) -> bool:
    kind = type(item)
    if kind is float:
        return math.isfinite(item)
    if kind is list or kind is tuple:
        return _all_finite(item)
    if kind is dict or kind is FiniteView:
        return _find_values(item, {}, {})
    return True


def _scrub(value: Any) -> Any:
    if type(value) is Float32Values:
        return value.items  # finite
    if isinstance(value, float):
        return finite_or_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value
