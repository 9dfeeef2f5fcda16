"""The refusals of the standard-library stand-ins (app/engine/stdlib.py): the exact message
and the hint that names the fix."""

from __future__ import annotations

import pytest

from app.engine.program import Sandbox

# (id, program, error type, message, hint)
REFUSED = [
    ("namedtuple-type-name", "from collections import namedtuple\nP = namedtuple('1bad', ['x'])",
     "ForbiddenError", "line 2: the type name '1bad' is not allowed; use a plain name (letters, "
     "digits, '_', not starting with '_')", "namedtuple('Point', ['x', 'y'])"),
    ("deepcopy-of-a-function", "import copy\ndef f():\n    return 1\ncopy.deepcopy([f])",
     "ForbiddenError", "copy.deepcopy cannot copy a function (functions are shared, not "
     "copied: keep them out of what you copy) in the playground", "Copy tensors (x.clone()), "
     "lists, dicts and modules; build an optimizer again over the copied model's parameters."),
    ("product-unknown-count", "import itertools\n"
     "list(itertools.product(range(10**6), repeat=10**6))", "LimitError",
     "itertools.product would produce more than 1,000,000 items; the limit is 1,000,000 "
     "(setting max_sequence_items)",
     "Use fewer or shorter inputs: a few items show the same pattern."),
]


@pytest.mark.parametrize(("case", "code", "kind", "message", "hint"), REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refusal_says_what_and_how_to_fix_it(sandbox: Sandbox, case: str, code: str,
                                             kind: str, message: str, hint: str) -> None:
    body = sandbox.run(code).body
    assert body["ok"] is False, f"{case} ran"
    error = body["error"]
    assert (error["type"], error["message"], error["hint"]) == (kind, message, hint)

