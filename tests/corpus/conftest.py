"""The corpus programs are data for test_corpus.py, never test modules of their own (one of
them defines `test(model, device, test_loader)`, as pytorch/examples' mnist does)."""

from __future__ import annotations

import pytest

from tests.corpus.harness import VERDICTS, summary

collect_ignore_glob = ["programs/*"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The corpus's score and what stands in the way, in every run that judged it (the full
    table of programs is printed by test_match_rate_reaches_the_aim under -s)."""
    if VERDICTS:
        terminalreporter.section("beginner-code corpus (docs/CORPUS.md)")
        for line in summary(list(VERDICTS.values())):
            terminalreporter.write_line(line)
