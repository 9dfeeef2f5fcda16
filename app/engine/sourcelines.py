"""A program's text by line, for the source of each traced statement.

``ast.get_source_segment`` splits the whole text into lines again at every call, one
character at a time in Python: ~15 us per statement of a three-line program, and for a
5,000-character program of 50 statements, 50 passes over 5,000 characters. Here the text is
split once, in native code, the way the parser splits it.
"""

from __future__ import annotations

import ast
import re

# Where the parser ends a line (as ast.get_source_segment splits): \r\n, \r or \n only; a
# form feed or a Unicode line separator is not a line end to it.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class SourceLines:
    def __init__(self, source: str) -> None:
        self.lines = _LINE.findall(source)

    def segment(self, node: ast.stmt | ast.expr) -> str | None:
        """What ``ast.get_source_segment(source, node)`` returns (offsets are UTF-8 bytes)."""
        end_line, end_col = node.end_lineno, node.end_col_offset
        if end_line is None or end_col is None:
            return None
        first, last = node.lineno - 1, end_line - 1
        if first == last:
            return self.lines[first].encode()[node.col_offset:end_col].decode()
        return "".join([self.lines[first].encode()[node.col_offset:].decode(),
                        *self.lines[first + 1:last],
                        self.lines[last].encode()[:end_col].decode()])
