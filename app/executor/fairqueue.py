"""A fair wait queue: round-robin over groups (classes), then over owners (callers) within a
group, first-in first-out per owner.

This is deficit round-robin with a quantum of one job: every job of a lane has a similar,
bounded cost (its deadline), so taking turns by job is taking turns by time. A student with
five runs waiting gets one start per turn, like everyone else; a class of 30 gets one per turn
like a class of 3, so a big class cannot starve a small one either.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class FairQueue(Generic[T]):
    def __init__(self) -> None:
        # group -> owner -> items; a key is removed as soon as it holds nothing, and moved to
        # the end of its ring once it has had its turn.
        self._groups: OrderedDict[str | None, OrderedDict[str, deque[T]]] = OrderedDict()
        self._where: dict[T, tuple[str | None, str]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, item: object) -> bool:
        return item in self._where

    def push(self, item: T, owner: str, group: str | None = None) -> None:
        owners = self._groups.setdefault(group, OrderedDict())
        owners.setdefault(owner, deque()).append(item)
        self._where[item] = (group, owner)

    def pop(self) -> T | None:
        """The next item in fair order (None when empty)."""
        if not self._groups:
            return None
        group, owners = next(iter(self._groups.items()))
        owner, items = next(iter(owners.items()))
        item = items.popleft()
        del self._where[item]
        # This owner and this group had their turn: to the back of their rings.
        if items:
            owners.move_to_end(owner)
        else:
            del owners[owner]
        if owners:
            self._groups.move_to_end(group)
        else:
            del self._groups[group]
        return item

    def remove(self, item: T) -> bool:
        """Take ``item`` out (a cancelled job); False when it is not queued."""
        where = self._where.pop(item, None)
        if where is None:
            return False
        group, owner = where
        owners = self._groups[group]
        owners[owner].remove(item)
        if not owners[owner]:
            del owners[owner]
        if not owners:
            del self._groups[group]
        return True

    def order(self) -> list[T]:
        """Every queued item in the order pop() would hand them out now."""
        copy: FairQueue[T] = FairQueue()
        copy._groups = OrderedDict(
            (group, OrderedDict((owner, deque(items)) for owner, items in owners.items()))
            for group, owners in self._groups.items())
        copy._where = dict(self._where)
        out: list[T] = []
        while (item := copy.pop()) is not None:
            out.append(item)
        return out

    def count(self, owner: str) -> int:
        return sum(1 for _, o in self._where.values() if o == owner)
