"""The storage panel: which variables share memory, and what in-place ops did to it.

Built from the views alone: every tensor view carries a per-request storage label, its
offset/stride/contiguity and its version counter. Variables with one label share memory
(views); a new label means a copy. The per-statement trace gives the version counter
before and after each statement, which is how ``add_`` shows up as a bump and ``add`` not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GROUP_CLASSES = 8  # static/app.css defines sg-0 .. sg-7 (hues told apart without red/green)


@dataclass(frozen=True)
class StorageVar:
    name: str
    shape: list[int]
    offset: int
    stride: list[int]
    contiguous: bool
    version: int


@dataclass(frozen=True)
class VersionBump:
    line: int
    source: str
    before: int
    after: int


@dataclass
class StorageGroup:
    id: str
    css: str
    nbytes: int | None
    members: list[StorageVar] = field(default_factory=list)
    bumps: list[VersionBump] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        return len(self.members) > 1

    @property
    def version(self) -> int:
        return max((m.version for m in self.members), default=0)


def _tensor_storage(view: Any) -> dict[str, Any] | None:
    if isinstance(view, dict) and view.get("kind") in ("tensor", "ndarray"):
        storage = view.get("storage")
        if isinstance(storage, dict) and storage.get("id"):
            return storage
    return None


def version_bumps(steps: list[dict[str, Any]]) -> dict[str, list[VersionBump]]:
    """For each storage label, the statements after which its version counter had grown.

    The counter is read from the value each statement produced; a label's first sighting
    only sets the baseline, so a bump is reported only when both sides were seen.
    """
    last: dict[str, int] = {}
    bumps: dict[str, list[VersionBump]] = {}
    for step in steps:
        storage = _tensor_storage(step.get("value"))
        if storage is None:
            continue
        sid, version = storage["id"], int(storage.get("version") or 0)
        if sid in last and version > last[sid]:
            bumps.setdefault(sid, []).append(
                VersionBump(int(step.get("line", 0)), str(step.get("source", "")),
                            last[sid], version))
        last[sid] = version
    return bumps


def storage_groups(variables: dict[str, Any], steps: list[dict[str, Any]]) -> list[StorageGroup]:
    """Tensor variables grouped by storage, in the order the program named them."""
    groups: dict[str, StorageGroup] = {}
    for name, view in variables.items():
        storage = _tensor_storage(view)
        if storage is None:
            continue
        sid = storage["id"]
        if sid not in groups:
            groups[sid] = StorageGroup(sid, f"sg-{len(groups) % GROUP_CLASSES}",
                                       storage.get("nbytes"))
        groups[sid].members.append(StorageVar(
            name=name,
            shape=list(view.get("shape") or []),
            offset=int(storage.get("offset", 0)),
            stride=list(storage.get("stride") or []),
            contiguous=bool(storage.get("contiguous", True)),
            version=int(storage.get("version") or 0),  # None: an inference tensor
        ))
    bumps = version_bumps(steps)
    for sid, group in groups.items():
        group.bumps = bumps.get(sid, [])
    return list(groups.values())
