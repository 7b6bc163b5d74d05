"""Tests of the Burgers example: physics of the primal, its inputs, and adjoin's gradient."""
import copy

import numpy as np
import pytest

SMALL = 0.25   # 32 cells, 30 steps


def test_mass_energy_and_maximum_principle(load_case):
    case = load_case("burgers", size=SMALL)
    mod, inputs = case.module, case.inputs
    u = inputs["u0"].copy()
    f, du, u1 = np.zeros_like(u), np.zeros_like(u), np.zeros_like(u)
    mass0 = np.sum(u)
    lo, hi = np.min(u), np.max(u)
    energy = 0.5 * np.sum(u * u)
    for _ in range(inputs["nsteps"]):
        mod.rk2_step(u, inputs["nu"], inputs["dx"], inputs["dt"], f, du, u1)
        # Flux form on a periodic grid: the fluxes cancel in the sum, so mass changes only by
        # rounding (about 1e-16 per cell and step, far below 1e-12 relative).
        assert np.isclose(np.sum(u), mass0, rtol=1e-12, atol=0.0)
        # Each RK2 stage is a monotone Euler step under the time-step limit, and the average of
        # two states inside [lo, hi] stays inside: only rounding may cross the bounds.
        assert lo - 1e-12 <= np.min(u) and np.max(u) <= hi + 1e-12
        # Viscosity and upwinding only remove energy (the advective term conserves it on a
        # periodic domain); 1e-13 relative allows for rounding.
        new_energy = 0.5 * np.sum(u * u)
        assert new_energy <= energy * (1.0 + 1e-13)
        energy = new_energy
    assert energy < 0.5 * np.sum(inputs["u0"] ** 2) * (1.0 - 1e-4)   # it really decays


def test_make_inputs_is_deterministic_and_sized(load_case):
    a = load_case("burgers", size=SMALL).inputs
    b = load_case("burgers", size=SMALL).inputs
    assert a.keys() == b.keys() == {"u0", "nu", "u_obs", "dx", "dt", "nsteps"}
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    c = load_case("burgers", size=SMALL, seed=1).inputs
    assert not np.array_equal(a["u0"], c["u0"])
    big = load_case("burgers", size=2 * SMALL).inputs
    assert big["u0"].shape == (2 * a["u0"].shape[0],) and big["nsteps"] > a["nsteps"]
    assert isinstance(a["nsteps"], int) and isinstance(a["nu"], float)
    assert np.min(a["u0"]) > 0.0   # the upwind switch never flips: the cost is smooth


def test_head_returns_a_finite_scalar(load_case):
    case = load_case("burgers", size=SMALL)
    before = copy.deepcopy(case.inputs)
    value = case.head(**case.inputs)
    assert np.ndim(value) == 0 and np.isfinite(value) and value > 0.0
    assert np.array_equal(case.inputs["u0"], before["u0"])   # the head does not modify u0


@pytest.mark.adjoint
def test_gradient_matches_finite_differences(load_case, gradient_checker):
    import adjoin

    case = load_case("burgers", size=SMALL)
    value, grads = adjoin.value_and_grad(case.head, wrt=case.wrt)(**copy.deepcopy(case.inputs))
    gradient_checker(case, value, grads)
