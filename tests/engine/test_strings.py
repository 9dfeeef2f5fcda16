"""Strings and formatting behave as in Python: each program's printed output (or its error)
is compared with what CPython prints for the same source, run here with Python's own exec on
trusted test programs as the reference."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.engine.program import Sandbox

_TORCH = "import torch\nimport numpy as np\n"

PRINTED = {
    "fstring_specs": "loss = 0.123456\ni = 7\nname = 'net'\n"
                     "print(f'{loss:.4f} {i:>5d}|{i:<4}|{i:^7}|{i:05d} {loss:e} {loss:%}')\n"
                     "print(f'{name!r} {name!s} {name!a} {\"é\"!a} {name:>8} {name:.2}')\n"
                     "print(f'{1234567:,} {1234567:_} {255:x} {255:#b} {-3:+d} {3: d}')",
    "fstring_nested_spec": "v = 3.14159\nw = 10\np = 3\nprint(f'[{v:{w}.{p}f}]')\n"
                           "print(f'[{v:>{w}}] [{\"x\":*^{w}}]')",
    "fstring_debug": "x = 3\nname = 'a'\nprint(f'{x=} {name=} {x + 1=} {x=:>4}')",
    "fstring_values": "print(f'{[1, \"a\"]} {(1,)} {{1: 2}} {None} {True} {True:>5} "
                      "{1.0} {1e20} {2 ** 70} {-0.0}')\n"
                      "print(f'{{braces}} {\"nested {}\".format(1)}')",
    "fstring_tensors": _TORCH + "t = torch.tensor(0.5)\nv = torch.arange(3.)\n"
                       "g = torch.tensor(2.0, requires_grad=True) * 3\n"
                       "print(f'{t} {t:.3f} {t:>8.2f} {v} {g:.1f} {torch.tensor(7):03d}')\n"
                       "print(f'{v.shape} {v.dtype} {torch.zeros(2, 2)!r} {v.sum():.2f}')\n"
                       "a = np.array([0.25, 0.75, 0.1], dtype=np.float32)\n"
                       "print(f'{a[0]:.2f} {a.sum():>5} {np.arange(3)} {a[2]} {a[2]:.3f}')",
    "str_format": "print('{} {}'.format(1, 'a'), '{0}{1}{0}'.format('a', 'b'), "
                  "'{name}:{n:>3}'.format(name='k', n=5))\n"
                  "print('{:.3f}|{:>6}|{!r}|{:{}.{}f}'.format(3.14159, 'ab', 'q', 2.5, 8, 2))\n"
                  "print('{:,}'.format(10 ** 6), '{{}}'.format(), '{0!s:>4}'.format([1]))\n"
                  "print('{a}-{b}'.format_map({'a': 1, 'b': [2]}))",
    "format_builtin": "print(format(3.5), format(3.5, '>8.2f'), format('ab', '^6'), "
                      "format(42, 'x'), format([1, 2]), format(None))",
    "percent": "a, b = 3, 7\nx = 2.0 / 3\n"
               "print('%d/%d' % (a, b), '%.3f' % x, '%5.2f|' % x, '%-6s|' % 'ab', "
               "'%r' % 'q', '%x %X %o' % (255, 255, 8))\n"
               "print('%(name)s=%(v).2f' % {'name': 'lr', 'v': 0.01}, '%*d|' % (5, 42), "
               "'%-*d|' % (5, 42), '%.*f' % (2, x), '100%%', '%c%c' % (72, 'i'))\n"
               "print('%s' % [1, 2], '%s %s' % ((1, 2), None), '%e' % 12345.678, "
               "'%+d % d' % (5, 5), '%i %u' % (3, 4), '%g' % 0.0001, '%s' % 1.5)\n"
               "s = 'step %d'\ns %= 3\nprint(s)",
    "percent_tensors": _TORCH + "t = torch.tensor([[1.5, 2.0]])\nloss = t.sum()\n"
                       "print('%s' % t, '%.3f' % loss, '%.2f' % t[0, 0], '%d' % torch.tensor(4))\n"
                       "print('%s|%r' % (t.shape, t.dtype))\n"
                       "a = np.array([0.1, 2.5], dtype=np.float32)\n"
                       "print('%s %r %.3f %d %s' % (a[0], a[0], a[0], a[1], a))",
    "str_methods": "s = '  Hello, World  '\nw = s.strip()\n"
                   "print(w.split(', '), w.split(), 'a,b,,c'.split(','), 'a b c'.split(' ', 1))\n"
                   "print('a,b,c'.rsplit(',', 1), 'x\\ny\\r\\nz'.splitlines(), s.lstrip() + '|', "
                   "s.rstrip() + '|', 'xxhixx'.strip('x'))\n"
                   "print(w.replace('l', 'L'), w.replace('l', '', 1), w.upper(), w.lower(), "
                   "'hello world'.title(), 'hELLO'.capitalize())\n"
                   "print(w.startswith('He'), w.endswith(('x', 'd')), 'ab'.ljust(5, '.'), "
                   "'ab'.rjust(5), 'ab'.center(6, '*'), '42'.zfill(5), '-42'.zfill(5))\n"
                   "print(w.count('l'), w.find('o'), w.rfind('o'), w.index('W'), w.find('z'))\n"
                   "print('123'.isdigit(), 'abc'.isalpha(), 'a1'.isalnum(), ' \\t'.isspace(), "
                   "'AB'.isupper(), 'ab'.islower(), 'a1'.isdigit())\n"
                   "print('k=v=w'.partition('='), 'k=v=w'.rpartition('='), 'x'.partition('='))\n"
                   "print(', '.join(['a', 'b', 'c']), '-'.join('xyz'), ''.join([]), "
                   "'+'.join(str(i) for i in range(4)), ' '.join({'k': 1}))\n"
                   "print('{}!'.format('hi'), 'a\\tb'.expandtabs(4), 'ab'.swapcase(), "
                   "'prefix_x'.removeprefix('prefix_'), 'Straße'.casefold())",
    "print_keywords": "print('a', 'b', sep='-', end='.\\n')\nprint('x', 1, [2], sep='', "
                      "flush=True)\nprint('a', 'b', sep=None, end=None)\nprint()\nprint(end='')\n"
                      "print(*['p', 'q'], sep=', ')",
    "str_and_repr": _TORCH + "print(str(3), str(2.5), str('s'), str([1, 'a']), str((1,)), "
                    "str({'k': None}), str(None), str(True))\n"
                    "print(repr('s'), repr([1, 'a']), repr(2.5), repr({'a': (1, 'b')}), repr(''))\n"
                    "print(str(torch.tensor([1.5, 2.0])), repr(torch.ones(2, dtype=torch.int64)))\n"
                    "print(str(torch.float32), str(torch.Size([2, 3])), len(str(list(range(50)))))",
    "string_building": "rows = []\nfor i in range(3):\n    rows.append(f'{i:>2}: ' + "
                       "'#' * i)\nprint('\\n'.join(rows))\nline = ''\nfor w in ['a', 'b']:\n"
                       "    line += w.upper()\nprint(line, len(line), line * 2, 'A' in line)",
}

# Programs that fail in Python: the same error type, and Python's message (which the
# playground may follow with the fix; a KeyError is reported as "key ... not found").
FAILING = {
    "too_few_positional": "'{} {}'.format(1)",
    "switch_numbering": "'{0} {}'.format(1, 2)",
    "missing_keyword": "'{name}'.format(other=1)",
    "bad_conversion": "'{!x}'.format(1)",
    "single_brace": "'a } b'.format()",
    "invalid_spec": "format(1.5, 'Q')",
    "spec_on_list": "format([1], '>5')",
    "spec_on_none": "f'{None:>5}'",
    "percent_not_enough": "'%d %d' % (1,)",
    "percent_too_many": "'%d' % (1, 2)",
    "percent_type": "'%d' % 'a'",
    "percent_bad_char": "'%z' % 1",
    "percent_incomplete": "'abc %' % ()",
    "percent_missing_key": "'%(a)s' % {'b': 1}",
    "join_non_str": "', '.join(['a', 1])",
    "index_missing": "'abc'.index('z')",
    "replace_types": "'abc'.replace(1, 2)",
    "positional_in_format_map": "'{}'.format_map({})",
    "max_recursion": "'{:{:{}}}'.format(1, 2, 3)",
    "print_sep_type": "print(1, 2, sep=3)",
    "print_end_type": "print(1, end=[])",
    "str_method_argument": "'abc'.startswith(1)",
    "ljust_fill": "'x'.ljust(5, 'ab')",
    "percent_star_type": "'%*d' % ('a', 1)",
    "format_spec_type": "format(1, 2)",
    "tensor_spec_1d": "import torch\nf'{torch.ones(1):.2f}'",
    "parameter_spec": "import torch\np = torch.nn.Parameter(torch.tensor(1.0))\nf'{p:.2f}'",
}


def run_python(source: str) -> tuple[str, BaseException | None]:
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            exec(source, {})
        except Exception as raised:
            error = raised
    return out.getvalue(), error


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_printed_output_matches_python(sandbox: Sandbox, name: str) -> None:
    source = PRINTED[name]
    expected, error = run_python(source)
    assert error is None, error
    body = sandbox.run(source).body
    assert body["ok"], body.get("error")
    assert body["stdout"] == expected


@pytest.mark.parametrize("name", sorted(FAILING))
def test_errors_match_python(sandbox: Sandbox, name: str) -> None:
    source = FAILING[name]
    _, error = run_python(source)
    assert error is not None
    body = sandbox.run(source).body
    assert body["ok"] is False
    assert body["error"]["type"] == type(error).__name__
    if not isinstance(error, KeyError):
        assert body["error"]["message"].startswith(str(error))


def run(sandbox: Sandbox, source: str) -> dict[str, Any]:
    return sandbox.run(source).body


def test_a_refused_tensor_spec_names_the_fix(sandbox: Sandbox) -> None:
    body = run(sandbox, "import torch\nf'{torch.ones(2):.2f}'")
    assert body["ok"] is False and body["error"]["type"] == "TypeError"
    assert "shape (2,)" in body["error"]["message"] and "t.item()" in body["error"]["message"]


def test_a_parameter_formats_as_torch_writes_it(sandbox: Sandbox) -> None:
    import torch

    source = "import torch\np = torch.nn.Parameter(torch.tensor([1.5, 2.0]))\nprint(f'{p}')"
    body = run(sandbox, source)
    assert body["ok"], body.get("error")
    assert body["stdout"] == f"{torch.nn.Parameter(torch.tensor([1.5, 2.0]))}\n"


def test_str_and_repr_of_objects_show_no_address(sandbox: Sandbox) -> None:
    body = run(sandbox, "class A:\n    pass\na = A()\nprint(str(a), repr(a), f'{a}', '%s' % a, "
                        "'{}'.format(a), format(a))")
    assert body["ok"], body.get("error")
    assert body["stdout"] == " ".join(["<A object>"] * 6) + "\n"


def test_a_module_formats_as_its_text(sandbox: Sandbox) -> None:
    import torch

    body = run(sandbox, "import torch\nm = torch.nn.Linear(2, 3)\nprint(f'{m}')")
    assert body["ok"], body.get("error")
    assert body["stdout"] == f"{torch.nn.Linear(2, 3)}\n"


def test_text_up_to_the_limits_is_built(sandbox: Sandbox) -> None:
    body = run(sandbox, "s = 'ab' * 250000\nt = s.replace('a', 'xy')\nu = 'x'.ljust(10**6)\n"
                        "v = f'{s}{s}'\nw = ','.join(['ab'] * 1000)\nprint(len(t), len(u), "
                        "len(v), len(w), f'{1:>1000}'.count(' '), len('%.1000f' % 1))")
    assert body["ok"], body.get("error")
    assert body["stdout"] == "750000 1000000 1000000 2999 999 1002\n"


@pytest.mark.parametrize(("source", "words"), [
    ("'{} {}'.format(1)", "pass as many values as there are fields"),
    ("'%d/%d' % (1,)", "pass as many values as there are fields"),
    ("'%d' % (1, 2)", "pass as many values as there are fields"),
    ("'{0} {}'.format(1, 2)", "Number every field"),
    ("', '.join([1, 2])", "', '.join(str(x) for x in items)"),
    ("'%d' % 'a'", "use %s for text"),
])
def test_formatting_errors_come_with_a_hint(sandbox: Sandbox, source: str, words: str) -> None:
    body = run(sandbox, source)
    assert body["ok"] is False
    assert words in (body["error"]["hint"] or "")


# ------------------------------------------------------------------------------ str methods
_TEXTS = st.text("ab \t\n,-ß", max_size=8)
_CALLS = st.one_of(
    st.tuples(st.sampled_from(["split", "rsplit"]),
              st.tuples(st.one_of(st.none(), st.text("ab,", min_size=1, max_size=2)),
                        st.integers(-1, 3))),
    st.tuples(st.sampled_from(["strip", "lstrip", "rstrip"]),
              st.tuples(st.one_of(st.none(), st.text("ab ", max_size=2)))),
    st.tuples(st.just("replace"), st.tuples(st.text("ab", max_size=2), st.text("xy", max_size=3),
                                            st.integers(-1, 3))),
    st.tuples(st.sampled_from(["ljust", "rjust", "center"]),
              st.tuples(st.integers(-2, 12), st.sampled_from([" ", "*", "ab"]))),
    st.tuples(st.sampled_from(["zfill", "expandtabs"]), st.tuples(st.integers(-2, 12))),
    st.tuples(st.sampled_from(["count", "find", "rfind", "index", "startswith", "endswith",
                               "partition", "rpartition", "removeprefix", "removesuffix"]),
              st.tuples(st.text("ab ", min_size=1, max_size=2))),
    st.tuples(st.sampled_from(["upper", "lower", "title", "capitalize", "swapcase", "isdigit",
                               "isalpha", "isalnum", "isspace", "isupper", "islower",
                               "splitlines"]), st.just(())),
    st.tuples(st.just("join"), st.tuples(st.lists(st.text("ab", max_size=2), max_size=4))),
)


@given(text=_TEXTS, call=_CALLS)
@hypothesis_settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_str_methods_match_python(sandbox: Sandbox, text: str,
                                  call: tuple[str, tuple[Any, ...]]) -> None:
    name, args = call
    source = f"print(repr({text!r}.{name}({', '.join(repr(a) for a in args)})))"
    expected, error = run_python(source)
    body = sandbox.run(source).body
    if error is not None:
        assert body["ok"] is False and body["error"]["type"] == type(error).__name__, source
    else:
        assert body["ok"], (source, body.get("error"))
        assert body["stdout"] == expected, source
