"""Text that leaves the worker: no memory addresses.

Security: CPython's default repr (``<SumBackward0 object at 0x7f3a...>``) and many C types'
reprs print where an object lives. Addresses help an attacker defeat ASLR and tell programs
in one worker apart, and teach a student nothing, so every repr/str that reaches a response
(printed text, views, graph labels, error messages) goes through ``without_addresses``.
"""

from __future__ import annotations

import re

# " at 0x..." as CPython writes it: removed with its " at", so "<function f at 0x7f..>"
# becomes "<function f>". One character class and a '+': linear, no backtracking.
_AT_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
# A bare address inside <...> (e.g. "<torch.cuda.Event 0x7f12ab34cd56>"): 8+ hex digits,
# so short literals such as 0x1f stay. The tokenizer finds brackets and hex runs in one pass
# and the caller tracks the bracket depth, which a single regex cannot do without
# backtracking.
_TOKENS = re.compile(r"[<>]|0x[0-9a-fA-F]{8,}")
_BARE_PLACEHOLDER = "0x…"


def without_addresses(text: str) -> str:
    """``text`` with every memory address removed. Linear in ``len(text)``."""
    if "0x" not in text:  # the common case costs one scan
        return text
    text = _AT_ADDRESS.sub("", text)
    if "0x" not in text:
        return text
    parts: list[str] = []
    depth = 0
    start = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token == "<":
            depth += 1
        elif token == ">":
            depth = max(0, depth - 1)
        elif depth > 0:
            parts.append(text[start:match.start()])
            parts.append(_BARE_PLACEHOLDER)
            start = match.end()
    if not parts:
        return text
    parts.append(text[start:])
    return "".join(parts)
