from __future__ import annotations

from app.playground.storage import storage_groups, version_bumps


def test_add_inplace_shares_storage_and_bumps_the_version(recorded) -> None:
    body = recorded("add_inplace")["body"]
    groups = storage_groups(body["variables"], body["steps"])
    by_names = {tuple(m.name for m in g.members): g for g in groups}
    shared = by_names[("a", "c", "v")]
    assert shared.shared and shared.version == 1
    assert [(b.line, b.before, b.after) for b in shared.bumps] == [(3, 0, 1)]
    assert "add_" in shared.bumps[0].source
    copy = by_names[("b",)]
    assert not copy.shared and copy.bumps == [] and copy.id != shared.id
    view = next(m for m in shared.members if m.name == "v")
    assert view.shape == [3, 1] and view.stride == [1, 1] and view.offset == 0


def test_groups_get_distinct_classes_in_order() -> None:
    def tensor(sid: str) -> dict:
        return {"kind": "tensor", "shape": [1], "storage": {"id": sid, "offset": 0,
                "stride": [1], "contiguous": True, "version": 0, "shares_with": []}}
    variables = {f"x{i}": tensor(f"s{i}") for i in range(10)}
    variables["scalar"] = {"kind": "scalar", "value": 1}
    groups = storage_groups(variables, [])
    assert [g.id for g in groups] == [f"s{i}" for i in range(10)]
    assert groups[0].css == "sg-0" and groups[8].css == "sg-0"  # the palette wraps
    assert all(not g.shared for g in groups)


def test_a_bump_needs_a_baseline() -> None:
    step = {"line": 1, "source": "a", "value": {"kind": "tensor", "storage": {"id": "s1",
            "version": 2}}}
    assert version_bumps([step]) == {}  # first sighting: no before value to compare
    later = {**step, "line": 2, "value": {"kind": "tensor", "storage": {"id": "s1",
             "version": 3}}}
    assert [b.after for b in version_bumps([step, later])["s1"]] == [3]
