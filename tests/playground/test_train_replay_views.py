"""The run page's view helpers for replays and the optimizer-state note."""

from __future__ import annotations

from app.playground.train_views import FAST_EPOCH_S, Replay, empty_state_reason


def test_a_run_is_too_fast_to_follow_below_half_a_second_an_epoch() -> None:
    assert Replay(None, 30, 1.9).too_fast  # the default run: 30 epochs in about 2 s
    assert not Replay(None, 300, 300 * FAST_EPOCH_S + 1).too_fast
    assert not Replay(None, 30, None).too_fast  # no summary time: say nothing


def test_an_empty_optimizer_state_names_its_reason() -> None:
    sgd = {"name": "sgd", "state": [{"name": "fc0.weight"}]}
    assert "SGD without momentum keeps no state" in empty_state_reason(sgd, {"iterations": 30})
    assert "took no step" in empty_state_reason(sgd, {"iterations": 0})
    assert "kept no state" in empty_state_reason({"name": "adam"}, {"iterations": 3})
