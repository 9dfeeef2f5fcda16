"""The worker's cache of checked programs (program.ParsedPrograms): only the very same text
finds an entry, refusals are never cached, and running a program never changes its tree, so
a cached tree carries nothing from one run (or one user) to the next. And the worker's trust
in the web process's check: only under the very same rules (parser.check_mark)."""

from __future__ import annotations

import ast

import pytest

from app.config import Settings
from app.engine import parser
from app.engine.errors import ForbiddenError, LimitError
from app.engine.parser import check_mark, parse_program
from app.engine.program import Sandbox
from app.playground.presets import COMPARE_PRESETS, EXAMPLES
from tests.engine.test_seed_programs import CUSTOM_DATASET, CUSTOM_LOSSES, SIMPLE_NN, TRAINING_LOOP

PROGRAMS = [e.code for e in EXAMPLES] + [p.inputs + p.left for p in COMPARE_PRESETS] + [
    SIMPLE_NN, CUSTOM_DATASET, CUSTOM_LOSSES, TRAINING_LOOP,
    "def f(x, *a, k=2):\n    return [x * k for i in range(3)]\nf(torch.ones(2))",
    "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.l = nn.Linear(2, 2)\n    def forward(self, x):\n        return self.l(x)\n"
    "M()(torch.ones(1, 2))",
    "i = 0\nwhile i < 3:\n    i += 1\n    if i == 2:\n        continue\n"
    "with torch.no_grad():\n    y = torch.ones(2) * i\ng = lambda v: v + 1\ng(y)",
]


@pytest.mark.parametrize("code", PROGRAMS)
def test_running_a_program_leaves_its_tree_as_parsed(code: str) -> None:
    sandbox = Sandbox(Settings())
    first = sandbox.run(code).body
    tree = sandbox.programs.get(code).tree
    parsed = ast.dump(tree, include_attributes=True)
    again = sandbox.run(code).body
    assert sandbox.programs.get(code).tree is tree  # served from the cache
    assert ast.dump(tree, include_attributes=True) == parsed
    assert ast.dump(ast.parse(code), include_attributes=True) == parsed
    # A node's own attributes only: nothing stashed on a node by the interpreter.
    fields = {type(node): set(node._fields) | set(node._attributes) for node in ast.walk(tree)}
    for node in ast.walk(tree):
        assert set(vars(node)) <= fields[type(node)] | {"ctx"}, type(node).__name__
    for body in (first, again):
        body.pop("elapsed_ms", None)
    assert first == again


def test_a_refusal_is_checked_again_every_time_and_never_cached() -> None:
    sandbox = Sandbox(Settings())
    for _ in range(2):
        outcome = sandbox.run("().__class__.__mro__")
        assert outcome.status == 400
    assert len(sandbox.programs._entries) == 0


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    sandbox = Sandbox(Settings(parsed_program_cache_entries=2))
    for n in range(4):
        assert sandbox.run(f"x = {n}\nx").body["result"]["value"] == n
    assert list(sandbox.programs._entries) == ["x = 2\nx", "x = 3\nx"]
    off = Sandbox(Settings(parsed_program_cache_entries=0))
    assert off.run("1 + 1").body["result"]["value"] == 2
    assert len(off.programs._entries) == 0


def test_a_text_that_differs_in_one_character_is_checked_on_its_own() -> None:
    sandbox = Sandbox(Settings())
    assert sandbox.run("x = 1\nx").body["ok"]
    outcome = sandbox.run("x = 1\nx.__class__.__mro__")
    assert outcome.status == 400


def test_the_web_process_remembers_only_texts_that_passed_under_the_same_settings() -> None:
    from app.engine.errors import SandboxError
    from app.evaluation import _PassedPrograms

    passed = _PassedPrograms()
    loose = Settings()
    strict = Settings(max_ast_nodes=5)
    code = "x = torch.ones(2, 3)\ny = x * 2\ny"
    passed.check(code, loose)
    passed.check(code, loose)  # remembered
    with pytest.raises(SandboxError):
        passed.check(code, strict)  # other settings: checked again, and refused
    for _ in range(2):
        with pytest.raises(SandboxError):
            passed.check("().__class__.__mro__", loose)
    assert list(passed._entries) == [code]


# --- the web process's mark: a check made under the same rules is not made twice ------------
REFUSED = "x = 1\nx._y"


def test_a_worker_believes_a_check_made_under_its_own_rules() -> None:
    web = Settings()
    # What a worker is given: the web process's settings as JSON (app/executor/local.py).
    worker = Sandbox(Settings.model_validate_json(web.model_dump_json()))
    mark = check_mark(web)
    assert check_mark(worker.settings) == mark
    # Only the web process's check sets a mark, and only once the program passed: a program
    # it would have refused cannot carry one. Given one, the worker skips its own walk.
    assert isinstance(parse_program(REFUSED, worker.settings, mark), ast.Module)
    with pytest.raises(ForbiddenError):
        parse_program(REFUSED, worker.settings)


@pytest.mark.parametrize("mark", ["", "0" * 64, "not a mark"])
def test_a_missing_or_unknown_mark_means_the_worker_checks(mark: str) -> None:
    sandbox = Sandbox(Settings())
    outcome = sandbox.run(REFUSED, checked_mark=mark or None)
    assert outcome.status == 400 and outcome.body["error"]["type"] == "ForbiddenError"


def test_a_check_under_other_settings_or_another_parser_is_checked_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    worker = Settings()
    looser = Settings(max_source_chars=worker.max_source_chars * 2)
    assert check_mark(looser) != check_mark(worker)
    assert Sandbox(worker).run(REFUSED, checked_mark=check_mark(looser)).status == 400
    # Another release of the parser (a cluster in the middle of an upgrade).
    mark = check_mark(worker)
    monkeypatch.setattr(parser, "_PARSER_CODE", parser._PARSER_CODE + b"\n# changed")
    monkeypatch.setattr(parser, "_marks", {})
    assert check_mark(worker) != mark
    assert Sandbox(worker).run(REFUSED, checked_mark=mark).status == 400


def test_the_size_limit_and_the_bidi_scan_hold_with_a_mark() -> None:
    settings = Settings()
    mark = check_mark(settings)
    with pytest.raises(LimitError):
        parse_program("x = 1\n" * settings.max_source_chars, settings, mark)
    with pytest.raises(ForbiddenError, match="U\\+202E"):
        parse_program("x = 1\n# \u202e\nx", settings, mark)


@pytest.mark.parametrize(("code", "plots"), [
    ("x = 1", False),
    ("s = 'matplotlib'", False),
    ("import matplotlib.pyplot as plt", True),
    ("from matplotlib import pyplot", True),
    ("def f():\n    import matplotlib.pyplot as plt\n    return plt", True),
    ("if True:\n    pass\nelse:\n    import matplotlib", True),
    ("try:\n    pass\nexcept Exception:\n    import matplotlib\nfinally:\n    pass", True),
    ("with torch.no_grad():\n    for i in range(1):\n        from matplotlib import pyplot",
     True),
    # Python folds these letters to ASCII: the import is matplotlib's.
    ("import \uff4datplotlib.pyplot as plt", True),
    ("# グラフは描かない\nx = 1", False),
])
def test_a_program_that_imports_matplotlib_is_found_wherever_it_does(code: str,
                                                                      plots: bool) -> None:
    assert Sandbox(Settings()).programs.get(code).plots is plots
