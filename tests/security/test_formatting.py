"""Abuse of strings and formatting: each is refused before it builds its text, names what
stopped it, and never reaches a program-controlled __format__/__str__ or a dunder."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.config import get_settings
from app.engine.errors import ForbiddenError, LimitError
from app.engine.formatting import format_string, format_value, percent_format
from app.engine.program import Sandbox
from tests.conftest import UNDER_MUTATION

L, F = "LimitError", "ForbiddenError"
_WIDTH = "is larger than the limit of 1,000 (setting max_format_width)"
_TEXT = "longer than the limit of 1,000,000 (setting max_sequence_items)"

# (id, program, error type, fragment of the message)
REFUSED = [
    # format-spec bombs: widths and precisions a C call would pad or write out
    ("fstring-width", "x = 1\nf'{x:>1000000000}'", L, "width of 1,000,000,000 " + _WIDTH),
    ("fstring-precision", "f'{1.5:.999999f}'", L, "precision of 999,999 " + _WIDTH),
    ("fstring-width-variable", "w = 10**9\nf'{1:{w}}'", L, "width of 1,000,000,000"),
    ("fstring-width-digits", "f'{1:" + "9" * 5000 + "}'", L, "width of 5,000 digits"),
    ("fstring-zero-padded", "f'{1:0000000000000000000000002000}'", L, "width of 2,000 "),
    ("format-nested-width", "'{:{}}'.format(1, 10**9)", L, "width of 1,000,000,000"),
    ("format-nested-precision", "'{:.{}f}'.format(1.0, 10**6)", L, "precision of 1,000,000"),
    ("format-builtin", "format(1, '>' + '1' * 12)", L, "width of 111,111,111,111"),
    ("format-str-precision", "'{:.5000}'.format('x')", L, "precision of 5,000"),
    ("percent-star", "'%*d' % (10**9, 1)", L, "width of 1,000,000,000"),
    ("percent-star-negative", "'%*d' % (-10**9, 1)", L, "width of 1,000,000,000"),
    ("percent-star-precision", "'%.*f' % (10**6, 1.0)", L, "precision of 1,000,000"),
    ("percent-precision", "'%.999999f' % 1.0", L, "precision of 999,999"),
    ("percent-width", "'%1000000000s' % 'x'", L, "width of 1,000,000,000"),
    ("percent-long-width", "'%" + "9" * 400 + "d' % 1", L, "width of 400 digits"),
    ("percent-aug-assign", "s = '%0999999d'\ns %= 1", L, "width of 999,999"),
    # nested spec recursion stops where Python's does
    ("format-spec-recursion", "'{:{:{:{}}}}'.format(1, 2, 3, 4)", "ValueError",
     "Max string recursion exceeded"),
    # fields reaching attributes, items and dunders
    ("field-class-mro", "x = 1\n'{0.__class__.__mro__}'.format(x)", F,
     "attribute lookups inside format fields ('{0.__class__.__mro__}')"),
    ("field-index", "'{0[0]}'.format([1])", F, "index lookups inside format fields"),
    ("field-keyword-index", "'{x[0]}'.format(x=[1])", F, "index lookups inside format fields"),
    ("field-keyword-attribute", "import torch\n'{t.grad_fn}'.format(t=torch.ones(1))", F,
     "attribute lookups inside format fields ('{t.grad_fn}')"),
    ("field-in-nested-spec", "'{:{0.real}}'.format(1)", F, "attribute lookups"),
    ("field-format-map", "'{d.keys}'.format_map({'d': {}})", F, "attribute lookups"),
    ("format-map-program-class", "class D:\n    def __getitem__(self, key):\n        return 1\n"
     "'{a}'.format_map(D())", "TypeError", "format_map() takes a dict here"),
    ("format-map-state-dict", "import torch\nm = torch.nn.Linear(1, 1)\n"
     "'{weight}'.format_map(m.state_dict())", "TypeError", "format_map() takes a dict here"),
    ("percent-mapping-subclass", "import torch\nm = torch.nn.Linear(1, 1)\n"
     "'%(weight)s' % m.state_dict()", "TypeError", "a mapping (a dict)"),
    ("fstring-dunder", "x = 1\nf'{x.__class__.__mro__}'", F, "attributes starting with '_'"),
    ("fstring-getattr", "x = 1\nf'{getattr(x, \"y\")}'", F,
     "getattr() works on objects of your own classes only, not on an int"),
    # a program's own __format__ / __str__ / __repr__ are refused by the parser
    ("class-dunder-format", "class A:\n    def __format__(self, spec):\n        return 'x'",
     F, "'__format__' is not allowed"),
    ("class-dunder-str", "class A:\n    def __str__(self):\n        return 'x'", F,
     "'__str__' is not allowed"),
    ("module-dunder-repr", "import torch\nclass M(torch.nn.Module):\n"
     "    def __repr__(self):\n        return 'x'", F, "'__repr__' is not allowed"),
    # str methods that would make huge strings, predicted
    ("ljust", "'x'.ljust(10**9)", L, "1,000,000,000 characters or more, " + _TEXT),
    ("rjust-tensor-width", "import torch\n'x'.rjust(torch.tensor(10**9))", L, _TEXT),
    ("center", "'x'.center(10**7, '*')", L, _TEXT),
    ("zfill", "'1'.zfill(10**8)", L, _TEXT),
    ("replace-empty", "s = 'ab' * 1000\ns.replace('', 'x' * 1000)", L, _TEXT),
    ("replace-growth", "s = 'a' * 500000\ns.replace('a', 'aaa')", L, _TEXT),
    ("replace-loop", "s = 'a'\nfor i in range(40):\n    s = s.replace('a', 'aa')", L, _TEXT),
    ("expandtabs", "'\\t'.expandtabs(10**9)", L, _TEXT),
    ("expandtabs-many", "s = '\\t' * 100000\ns.expandtabs(100)", L, _TEXT),
    ("join-huge-items", "','.join(['x' * 1000] * 2000)", L, _TEXT),
    ("join-huge-separator", "s = 'x' * 600000\ns.join(['a', 'b', 'c'])", L, _TEXT),
    ("join-huge-generator", "''.join(str(i) for i in range(10**9))", L, "max_"),
    ("join-range", "''.join(range(10**12))", "TypeError", "sequence item 0"),
    ("upper-growth", "s = '\\ufb03' * 400000\ns.upper()", L, _TEXT),
    ("format-repeats", "s = 'x' * 600000\n'{0}{0}'.format(s)", L, _TEXT),
    ("fstring-repeats", "s = 'x' * 600000\nf'{s}{s}'", L, _TEXT),
    ("percent-repeats", "s = 'x' * 600000\n'%s%s' % (s, s)", L, _TEXT),
    # text written for a conversion counts even where a precision keeps none of it
    ("format-conversion-work", "x = list(range(100000))\n('{0!s:.0}' * 10000).format(x)", L,
     _TEXT),
    ("percent-conversion-work", "x = list(range(100000))\n('%.0s' * 10000) % ((x,) * 10000)",
     L, _TEXT),
    ("fstring-conversion-work", "x = list(range(100000))\n"
     "f'{x!r:.0}{x!r:.0}{x!r:.0}{x!r:.0}{x!r:.0}{x!r:.0}{x!r:.0}{x!r:.0}'", L, _TEXT),
    ("str-of-shared-items", "s = 'x' * 10000\nstr([s] * 1000)", L, _TEXT),
    ("repr-of-long-str", "s = 'x' * 1000000\nrepr(s)", L, _TEXT),
    ("fstring-of-shared-items", "s = 'x' * 10000\nf'{[s] * 1000}'", L, _TEXT),
    ("ascii-growth", "s = '\\u00e9' * 300000\nf'{s!a}'", L, _TEXT),
    # bytes and translation tables do not exist
    ("encode", "'x'.encode()", F, "'str.encode' is not available in the playground: it makes "
     "bytes"),
    ("translate", "'x'.translate({120: 'y' * 10**6})", F, "use replace()"),
    ("maketrans", "'x'.maketrans('x', 'y')", F, "'str.maketrans' is not available"),
    ("print-file", "print('x', file=None)", F, "print(file=...) is not available"),
    ("print-unknown-keyword", "print('x', stream=1)", "TypeError", "unexpected keyword"),
]


@pytest.mark.parametrize(("case", "code", "kind", "says"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused(sandbox: Sandbox, case: str, code: str, kind: str, says: str) -> None:
    started = time.perf_counter()
    body = sandbox.run(code).body
    assert body["ok"] is False, f"{case} was not refused"
    assert body["error"]["type"] == kind, body["error"]
    assert says in body["error"]["message"], body["error"]["message"]
    # Refused before the work, not after it: a second at most even on a loaded machine.
    # (A generator runs item by item until max_steps stops it: that one takes its steps.)
    # Under mutmut every call goes through a trampoline (and, in its first run, a tracer):
    # the clock then measures mutmut, so only the verdict is checked there.
    if case != "join-huge-generator" and not UNDER_MUTATION:
        assert time.perf_counter() - started < 2.0


def test_debug_specifier_runs_the_expression_through_the_interpreter(sandbox: Sandbox) -> None:
    body = sandbox.run("import torch\nt = torch.ones(2)\nprint(f'{t.sum()=} {t.shape=}')\n"
                       "f'{t.data_ptr()=}'").body
    assert body["ok"] is False and body["error"]["type"] == F
    assert body["stdout"] == "t.sum()=tensor(2.) t.shape=torch.Size([2])\n"
    assert "data_ptr" in body["error"]["message"]


def test_no_address_reaches_formatted_text(sandbox: Sandbox) -> None:
    body = sandbox.run("import torch\ny = (torch.ones(1, requires_grad=True) * 2).sum()\n"
                       "g = y.grad_fn\nprint(f'{g}', f'{g!r}', '%s %r' % (g, g), "
                       "'{} {!r}'.format(g, g), str(g), repr(g), format(g))").body
    assert body["ok"], body.get("error")
    assert "0x" not in body["stdout"] and "SumBackward0" in body["stdout"]


# ------------------------------------------------------------------------------ differential
# Random specs and templates, checked against Python's own formatting on plain values: the
# same text, or the same error type, or a refusal that names max_format_width where the spec
# asks for more than the cap. Numbers in the alphabet stay short, so Python's reference
# (run here, on plain values) is cheap even past the cap.
_CAP = get_settings().max_format_width
_SPEC_ALPHABET = "<>=^+- z#0,_.123456789bcdeEfFgGnosxX%*{}"
_VALUES = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=8),
                    st.booleans(), st.complex_numbers(max_magnitude=1e6))


def _over_cap(text: str) -> bool:
    return any(int(run) > _CAP for run in re.findall(r"[0-9]+", text))


def _same_outcome(ours: Callable[[], str], reference: Callable[[], str], source: str) -> None:
    try:
        expected: str | BaseException = reference()
    except Exception as error:  # any Python error is a valid reference
        expected = error
    try:
        got = ours()
    except LimitError as refused:
        assert "max_format_width" in refused.message and _over_cap(source), source
        return
    except ForbiddenError:
        assert re.search(r"\{[^{}]*[.\[]", source), source  # a field with a lookup
        return
    except Exception as error:
        assert isinstance(expected, BaseException), (source, expected, error)
        assert type(error) is type(expected) or isinstance(error, (TypeError, ValueError)), (
            source, expected, error)
        return
    assert got == expected, source


@given(value=_VALUES, spec=st.text(_SPEC_ALPHABET, max_size=8))
@hypothesis_settings(max_examples=400, deadline=None)
def test_format_specs_behave_as_python_or_are_refused(value: Any, spec: str) -> None:
    _same_outcome(lambda: format_value(value, spec, get_settings()), lambda: format(value, spec),
                  spec)


_NUMBERS = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6), st.booleans())


@st.composite
def _percent_cases(draw: st.DrawFn) -> tuple[str, tuple[Any, ...]]:
    """A template and, most of the time, one fitting value per field (and per *)."""
    template, values = "", list[Any]()
    for _ in range(draw(st.integers(0, 4))):
        template += draw(st.sampled_from(["", "ab", " ", "%%", "-"]))
        width = draw(st.sampled_from(["", "*", "5", "12", "1001", "0999"]))
        precision = draw(st.sampled_from(["", ".", ".2", ".*", ".1001"]))
        kind = draw(st.sampled_from(list("sdiraefgxXc")))
        template += f"%{draw(st.text('-+ #0', max_size=2))}{width}{precision}{kind}"
        for part in (width, precision):
            if "*" in part:
                values.append(draw(st.one_of(st.integers(-30, 30), st.integers(-10**6, 10**6))))
        values.append(draw(_NUMBERS if kind in "diefgxXc" else st.one_of(
            _NUMBERS, st.text("ab%\u00e9", max_size=3), st.none(), st.lists(st.integers()))))
    if draw(st.integers(0, 9)) == 0:  # sometimes one value too many or too few
        shorter: bool = bool(values) and draw(st.booleans())
        values = values[:-1] if shorter else [*values, 1]
    return template, tuple(values)


@given(case=_percent_cases())
@hypothesis_settings(max_examples=400, deadline=None)
def test_percent_templates_behave_as_python_or_are_refused(
        case: tuple[str, tuple[Any, ...]]) -> None:
    template, arguments = case
    _same_outcome(lambda: percent_format(template, arguments, get_settings()),
                  lambda: template % arguments, template + repr(arguments))


_FIELDS = ["{}", "{0}", "{1}", "{a}", "{!r}", "{!a}", "{:>5}", "{:{}}", "{0:{1}}", "{:.{}f}",
           "{a:{b}}", "{0:{b}.{1}}", "{{", "}}", "{0.real}", "{a[0]}", "{:{:{}}}", "{", "}",
           "x", " ", "{:1001}", "{!x}", "{0!s:^{1}}"]


@given(template=st.lists(st.sampled_from(_FIELDS), max_size=5).map("".join),
       args=st.lists(st.one_of(_NUMBERS, st.integers(0, 1200), st.text("ab\u00e9", max_size=3)),
                     max_size=4),
       a=st.one_of(_NUMBERS, st.text(max_size=3), st.lists(st.integers(), max_size=2)),
       b=st.one_of(st.integers(-5, 20), st.integers(990, 1010), st.sampled_from(["<4", "x"])))
@hypothesis_settings(max_examples=400, deadline=None)
def test_format_templates_behave_as_python_or_are_refused(template: str, args: list[Any],
                                                          a: Any, b: Any) -> None:
    values = tuple(args)
    _same_outcome(lambda: format_string(template, values, {"a": a, "b": b}, get_settings()),
                  lambda: template.format(*values, a=a, b=b), template + repr((values, a, b)))
