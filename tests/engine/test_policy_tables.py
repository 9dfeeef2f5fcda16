"""The policy tables as a whole, not by example: a name added to a table without review, or a
refused name slipping into one, fails here even when no corpus case names it."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine import guards, kernels, policy
from app.engine.policy import Rule, build_namespaces


def rule_tables() -> dict[str, dict[str, Rule]]:
    tables = {name: value for name, value in vars(policy).items()
              if isinstance(value, dict) and value
              and all(isinstance(rule, Rule) for rule in value.values())}
    for path, namespace in build_namespaces().items():
        tables[f"namespace {path}"] = namespace.rules
    return tables


def name_sets() -> dict[str, frozenset[str]]:
    """Everything a program can call: rule tables, namespace members, container methods."""
    sets = {name: frozenset(value) for name, value in vars(policy).items()
            if name.endswith("_METHODS") and isinstance(value, frozenset)}
    for name, table in rule_tables().items():
        sets[name] = frozenset(table)
    for path, namespace in build_namespaces().items():
        sets[f"members of {path}"] = frozenset(namespace.members)
    return sets


# Names no table may offer, whatever their reason: they call Python from C, expose or
# resize raw memory, reach files, processes or native code, or change state later programs
# see. policy.REFUSED_WITH_REASON gives the program the reason for most of them.
NEVER = frozenset(policy.REFUSED_WITH_REASON) | {
    "register_module_forward_hook", "register_parameter", "register_buffer",
    "register_module", "register_state_dict_pre_hook", "register_load_state_dict_post_hook",
    "as_strided", "as_strided_", "set_", "resize_", "to_sparse", "to_mkldnn", "quantize_per_tensor",
    "sparse_coo_tensor", "from_dlpack", "to_dlpack", "frombuffer", "set_num_interop_threads",
    "set_flush_denormal", "use_deterministic_algorithms", "set_rng_state", "get_rng_state",
    "load_state_dict_from_url", "to_empty", "apply", "share_memory", "__reduce_ex__",
    "exec", "compile", "getattr", "setattr", "open", "memory_format",
}


def test_every_member_of_every_table_carries_a_reviewed_note() -> None:
    missing = [f"{table}.{name}" for table, rules in rule_tables().items()
               for name, rule in rules.items() if len(rule.note) < 12]
    assert missing == []


@pytest.mark.parametrize("table", sorted(name_sets()))
def test_no_table_offers_a_refused_name(table: str) -> None:
    names = name_sets()[table]
    assert sorted(names & NEVER) == []
    assert [n for n in names if "hook" in n or (n.startswith("_") and n != "__version__")] == []


def test_every_reachable_callable_is_vetted() -> None:
    from app.engine.program import _vetted_callables

    namespaces = build_namespaces()
    vetted = _vetted_callables(namespaces)
    for namespace in namespaces.values():
        for member in namespace.rules:
            assert id(namespace.members[member]) in vetted, f"{namespace.name}.{member}"


def guard_of(table: dict[str, Rule], name: str) -> Any:
    return table[name].guard


def test_the_calls_that_reach_layout_trusting_kernels_are_guarded() -> None:
    """Removing one of these guards reopens a native heap overflow (see guards.py)."""
    assert guard_of(policy.OPTIMIZER_METHODS, "step") is guards.guard_optimizer_step
    assert guard_of(policy.SCALER_METHODS, "step") is guards.guard_scaler_optimizer
    assert guard_of(policy.SCALER_METHODS, "unscale_") is guards.guard_scaler_optimizer
    assert guard_of(policy.NN_MEMBERS, "Parameter") is guards.guard_parameter
    assert guard_of(policy.NN_UTILS, "clip_grad_norm_") is guards.guard_clip_grads
    assert guard_of(policy.NN_UTILS, "clip_grad_value_") is guards.guard_clip_grads
    assert guard_of(policy.NN_UTILS, "vector_to_parameters") is \
        guards.guard_vector_to_parameters
    assert guard_of(policy.MODULE_METHODS, "load_state_dict") is guards.guard_load_state_dict
    for option in kernels.KERNEL_OPTIONS:
        assert option in policy.DENIED_KWARGS
    assert {"out", "assign"} <= set(policy.DENIED_KWARGS)


def test_the_calls_that_allocate_outside_a_dry_run_are_guarded() -> None:
    assert guard_of(policy.TENSOR_METHODS, "backward") is guards.guard_backward
    assert guard_of(policy.AUTOGRAD_MEMBERS, "backward") is guards.guard_backward
    assert guard_of(policy.AUTOGRAD_MEMBERS, "grad") is guards.guard_autograd_grad
    assert guard_of(policy.DATA_MEMBERS, "DataLoader") is guards.guard_dataloader
    assert guard_of(policy.DATA_MEMBERS, "RandomSampler") is guards.guard_sampled_dataset
    assert guard_of(policy.TENSOR_METHODS, "tolist") is guards.guard_tolist
    assert guard_of(policy.NDARRAY_METHODS, "tolist") is guards.guard_tolist
    for name in ("split", "chunk", "unbind", "tensor_split"):
        assert policy.TENSOR_METHODS[name].guard is not None, name
        assert policy.TORCH_FUNCTIONS[name].guard is not None, name


def test_uninitialised_factories_are_filled() -> None:
    for name in ("empty", "empty_like", "empty_strided", "Tensor", *policy.LEGACY_TENSOR_TYPES):
        assert policy.TORCH_FUNCTIONS[name].uninitialised, name
    assert policy.TENSOR_METHODS["new_empty"].uninitialised
