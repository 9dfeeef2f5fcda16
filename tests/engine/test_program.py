"""Sandbox.run(repeat=N) (app/engine/program.py): the timing it reports."""

from __future__ import annotations

from app.engine.program import Sandbox


def test_repeated_runs_report_their_spread_in_milliseconds(sandbox: Sandbox) -> None:
    timing = sandbox.run("total = sum(range(100))", repeat=3).body["timing"]
    assert set(timing) == {"repeats", "median_ms", "min_ms", "max_ms", "spread_ms"}
    assert timing["repeats"] == 3
    assert 0 < timing["min_ms"] <= timing["median_ms"] <= timing["max_ms"]
    # Milliseconds to 4 decimals (0.1 microseconds): finer is the clock's noise.
    for key in ("median_ms", "min_ms", "max_ms", "spread_ms"):
        assert round(timing[key], 4) == timing[key]
