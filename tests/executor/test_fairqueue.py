"""The fair queue on its own: round-robin over classes, then callers, FIFO per caller."""

from __future__ import annotations

from app.executor.fairqueue import FairQueue


def drain(queue: FairQueue[str]) -> list[str]:
    out = []
    while (item := queue.pop()) is not None:
        out.append(item)
    return out


def test_callers_take_turns_and_keep_their_own_order() -> None:
    queue: FairQueue[str] = FairQueue()
    for i in range(4):
        queue.push(f"a{i}", "alice")
    queue.push("b0", "bob")
    queue.push("b1", "bob")
    queue.push("c0", "carol")
    assert queue.order() == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]
    assert drain(queue) == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]
    assert len(queue) == 0 and queue.pop() is None


def test_a_big_class_does_not_starve_a_small_one() -> None:
    queue: FairQueue[str] = FairQueue()
    for student in range(3):
        queue.push(f"big{student}", f"s{student}", group="7b")
    queue.push("small0", "t0", group="8a")
    queue.push("small1", "t1", group="8a")
    assert drain(queue) == ["big0", "small0", "big1", "small1", "big2"]


def test_removing_a_queued_item_and_counting_an_owners_items() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("a0", "alice")
    queue.push("a1", "alice")
    queue.push("b0", "bob")
    assert queue.count("alice") == 2 and "a1" in queue
    assert queue.remove("a0") and not queue.remove("a0")
    assert queue.remove("b0")
    assert queue.order() == ["a1"] and queue.count("bob") == 0
    assert drain(queue) == ["a1"]


def test_order_does_not_change_the_queue() -> None:
    queue: FairQueue[str] = FairQueue()
    for name in ("x", "y", "z"):
        queue.push(name, name)
    assert queue.order() == queue.order() == ["x", "y", "z"]
    assert len(queue) == 3
