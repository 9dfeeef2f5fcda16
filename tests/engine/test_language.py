"""The interpreted Python subset behaves like Python (checked against Python itself)."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine.program import Sandbox

# Each program is plain Python that needs no torch; the reference is CPython's own result of
# the same source (run here, in the test, on trusted code).
PROGRAMS = {
    "dict_copies": "a = {'x': 1, 'y': 2}\nb = dict(a)\nb['x'] = 5\n"
                   "result = [a, b, dict(a, z=3), dict([('k', 1)])]",
    "unpacking": "a, (b, c), *rest = 1, (2, 3), 4, 5\nresult = [a, b, c, rest]",
    "comprehensions": "result = ([x * y for x in range(3) for y in range(3) if x != y], "
                      "{k: k * k for k in range(4)}, sorted({x % 3 for x in range(10)}), "
                      "sum(x for x in range(5)))",
    "closures": "def make(n):\n    def add(x):\n        return x + n\n    return add\n"
                "result = [make(2)(3), make(10)(1)]",
    "defaults_kwonly": "def f(a, b=2, *args, c, d=4):\n    return [a, b, list(args), c, d]\n"
                       "result = [f(1, c=3), f(1, 5, 6, 7, c=8, d=9)]",
    "loops_else": "out = []\nfor i in range(5):\n    if i == 3:\n        break\n    out.append(i)\n"
                  "else:\n    out.append('no break')\nn = 0\nwhile n < 3:\n    n += 1\n"
                  "else:\n    out.append(n)\nresult = out",
    "continue_and_aug": "total = 0\nfor i in range(10):\n    if i % 2:\n        continue\n"
                        "    total += i\nresult = total",
    "boolean_logic": "result = [1 and 0, 0 or 5, not 3, 1 < 2 < 3, 3 > 2 > 5, None is None, "
                     "2 in [1, 2], 'a' if 0 else 'b']",
    "lambda_sorted": "result = sorted([(2, 'b'), (1, 'a'), (3, 'c')], key=lambda p: -p[0])",
    "classes": "class Counter:\n    def __init__(self, start):\n        self.value = start\n"
               "    def bump(self, by=1):\n        self.value += by\n        return self.value\n"
               "c = Counter(3)\nc.bump()\nresult = c.bump(5)",
    "dict_methods": "d = {'a': 1}\nd.update({'b': 2})\nd['c'] = d.get('z', 3)\n"
                    "result = [sorted(d.keys()), sorted(d.values()), d.pop('a')]",
    "slicing": "xs = list(range(10))\nresult = [xs[2:8:2], xs[::-1][:3], xs[-1]]",
    "recursion": "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nresult = fact(10)",
    "enumerate_zip": "result = [(i, a, b) for i, (a, b) in enumerate(zip('xy', [1, 2]))]",
}


def python_result(source: str) -> Any:
    scope: dict[str, Any] = {}
    exec(source, scope)
    return scope["result"]


def plain(view: dict[str, Any]) -> Any:
    kind = view["kind"]
    if kind in ("list", "tuple"):
        items = [plain(item) for item in view["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {item["key"]: plain({k: v for k, v in item.items() if k != "key"})
                for item in view["items"]}
    if kind == "none":
        return None
    return view["value"]


def normalise(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_python(sandbox: Sandbox, name: str) -> None:
    source = PROGRAMS[name]
    outcome = sandbox.run(source + "\nresult")
    assert outcome.body["ok"], outcome.body.get("error")
    assert normalise(plain(outcome.body["result"])) == normalise(python_result(source))


def test_step_trace_records_each_top_level_statement(sandbox: Sandbox) -> None:
    outcome = sandbox.run("x = 2\nfor i in range(3):\n    x = x * 2\nprint(x)\nx + 1")
    steps = outcome.body["steps"]
    assert [s["line"] for s in steps] == [1, 2, 4, 5]
    assert steps[1]["source"] == "for i in range(3):"
    assert steps[2]["stdout"] == "16\n"
    assert steps[3]["value"]["value"] == 17


def test_errors_carry_the_line_inside_functions(sandbox: Sandbox) -> None:
    outcome = sandbox.run("def f(t):\n    return t.view(5)\nf(torch.ones(4))")
    assert outcome.body["error"]["type"] == "RuntimeError"
    assert outcome.body["error"]["line"] == 2
    assert "numel" in outcome.body["error"]["hint"] or "elements" in outcome.body["error"]["hint"]


def test_augmented_assignment_is_in_place_like_python(sandbox: Sandbox) -> None:
    outcome = sandbox.run("a = torch.zeros(2)\nb = a\nb += 1\nxs = [1]\nys = xs\nys += [2]\n"
                          "w = torch.ones(2, requires_grad=True)\n(w * 2).sum().backward()\n"
                          "with torch.no_grad():\n    w -= 0.5 * w.grad\n[a, xs, w.is_leaf]")
    assert outcome.body["ok"], outcome.body.get("error")
    a, xs, leaf = outcome.body["result"]["items"]
    assert a["values"] == [1.0, 1.0]
    assert [item["value"] for item in xs["items"]] == [1, 2]
    assert leaf["value"] is True
    error = sandbox.run("w = torch.ones(2, requires_grad=True)\nw -= 0.1").body["error"]
    assert error["type"] == "RuntimeError" and "in-place" in error["message"]


def test_strided_views_are_shown(sandbox: Sandbox) -> None:
    outcome = sandbox.run("A = torch.arange(12).reshape(3, 4)\nA[:, ::2]")
    assert outcome.body["ok"], outcome.body.get("error")
    assert outcome.body["result"]["values"] == [[0, 2], [4, 6], [8, 10]]
