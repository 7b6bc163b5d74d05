"""Usefulness (analysis/useful.py): no adjoint for a varied local that cannot reach the cost, and
every adjoint kept where a local reaches it only through a later iteration or a callee."""
import ast
import itertools

import numpy as np
import pytest

import adjoin
from adjoin.analysis.effects import sharing_groups
from programs import useful as U
from test_soundness import converged_fd, gradients

X = np.linspace(-0.7, 0.9, 6)

# program -> (arguments, wrt, adjoint names that must not appear, adjoint names that must)
CASES = {
    "upwind": (dict(u=X + 0.1, nu=0.3), ("u", "nu"), {"u_face_b"}, {"u_west_b"}),
    "only_a_shape": (dict(x=X, a=0.7), ("x", "a"), {"w_b"}, {"z_b"}),
    "one_item_unused": (dict(x=X, a=0.7), ("x", "a"), {"q_b"}, {"p_b"}),
    "only_a_branch_test": (dict(x=X, a=0.7), ("x", "a"), {"m_b"}, {"y_b"}),
    "only_a_loop_test": (dict(x=X, a=0.7), ("x", "a"), {"err_b"}, {"y_b"}),
    "read_by_the_next_iteration": (dict(x=X, a=0.7, n=3), ("x", "a"), set(), {"prev_b", "acc_b"}),
    "read_by_a_writing_callee": (dict(x=X, a=0.7), ("x", "a"), set(), {"t_b"}),
    "read_through_a_row_passed": (dict(x=X, a=0.7), ("x", "a"), set(), {"t_b"}),
}


def assigned_adjoints(source):
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name) and n.id.endswith("_b")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_adjoints_of_useless_locals_are_not_generated(name):
    args, wrt, absent, present = CASES[name]
    names = assigned_adjoints(adjoin.generate_source(getattr(U, name), wrt, example=args))
    assert not absent & names
    assert present <= names


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_against_converged_finite_differences(name):
    fn = getattr(U, name)
    args, wrt, _, _ = CASES[name]
    rng = np.random.default_rng(5)
    for param, g in zip(wrt, gradients(fn, args, wrt)):
        direction = rng.normal(size=np.shape(args[param]))
        fd = converged_fd(fn, args, param, direction)
        assert float(np.sum(g * direction)) == pytest.approx(fd, rel=1e-7, abs=1e-9), param


@pytest.mark.parametrize("name", ["read_by_a_writing_callee", "read_through_a_row_passed"])
def test_every_placement_gives_the_same_gradient(name):
    fn = getattr(U, name)
    args, wrt, _, _ = CASES[name]
    ids = [s.id for s in adjoin.checkpoint_sites(fn)]
    reference = gradients(fn, args, wrt)
    for off in (c for r in range(1, len(ids) + 1) for c in itertools.combinations(ids, r)):
        for g0, g1 in zip(reference, gradients(fn, args, wrt, adjoin.Placement(off))):
            assert np.max(np.abs(np.asarray(g0) - g1)) <= 1e-12 * max(np.max(np.abs(g0)), 1e-300)


def test_names_sharing_an_array_are_grouped():
    envs = [{"a": frozenset({"A:1:new"}), "x": frozenset({"P:x"})},
            {"a": frozenset({"A:1:new"}), "v": frozenset({"A:1:new#r0"}), "x": frozenset({"P:x"}),
             "w": frozenset({"A:2:new"})},
            {"w": frozenset({"A:2:new", "P:x"}), "x": frozenset({"P:x"})}]
    assert sorted(sorted(g) for g in sharing_groups(envs)) == [["a", "v"], ["w", "x"]]
