"""Tests of the two-scale Lorenz-96 example: energy budget, inputs, and adjoin's gradient."""
import copy

import numpy as np
import pytest

SMALL = 0.25   # K = 9 slow and 90 fast variables, 10 steps


def test_scalar_loops_match_the_vectorized_tendencies(load_case):
    case = load_case("lorenz96", size=SMALL)
    mod, inputs = case.module, case.inputs
    x, y = inputs["x0"], inputs["y0"]
    dxdt, dydt = np.zeros_like(x), np.zeros_like(y)
    mod.tendencies(x, y, inputs["forcing"], dxdt, dydt)
    ref_x, ref_y = mod.tendencies_vectorized(x, y, inputs["forcing"])
    # same arithmetic in a different order: agreement to a few ulps of the largest term
    scale = np.max(np.abs(ref_y)) + np.max(np.abs(ref_x))
    assert np.max(np.abs(dxdt - ref_x)) <= 1e-13 * scale
    assert np.max(np.abs(dydt - ref_y)) <= 1e-13 * scale


def test_energy_budget_and_absorbing_ball(load_case):
    case = load_case("lorenz96", size=SMALL)
    mod, inputs = case.module, case.inputs
    x, y, forcing = inputs["x0"].copy(), inputs["y0"].copy(), inputs["forcing"]
    dxdt, dydt = np.zeros_like(x), np.zeros_like(y)
    mod.tendencies(x, y, forcing, dxdt, dydt)
    # Advection and coupling conserve E = (|X|^2 + |Y|^2)/2, so exactly
    #   dE/dt = -|X|^2 - c |Y|^2 + F sum X.
    # Both sides are sums of O(|X|^3) products that cancel: 1e-12 relative to those is rounding.
    rate = np.dot(x, dxdt) + np.dot(y, dydt)
    budget = -np.dot(x, x) - mod.TIME_RATIO * np.dot(y, y) + forcing * np.sum(x)
    size_of_terms = np.sum(np.abs(x) ** 3) + mod.TIME_RATIO * mod.SPACE_RATIO * np.sum(np.abs(y) ** 3)
    assert abs(rate - budget) <= 1e-12 * size_of_terms

    kx, ky = np.zeros((4, x.size)), np.zeros((4, y.size))
    xs, ys = np.zeros_like(x), np.zeros_like(y)
    # Unforced (F = 0) the budget is negative definite: RK4 with this small step (dt c = 0.05)
    # must let the energy only decrease.
    xf, yf = x.copy(), y.copy()
    energy = mod.energy(xf, yf)
    for _ in range(20):
        mod.rk4_step(xf, yf, 0.0, inputs["dt"], kx, ky, xs, ys)
        assert mod.energy(xf, yf) < energy
        energy = mod.energy(xf, yf)
    # Forced, dE/dt <= -E + K F^2 / 2 (c >= 1/2), so E(t) <= max(E(0), K F^2 / 2): the
    # absorbing ball.  RK4 follows the flow to ~1e-9 relative per step here; 1e-6 covers it.
    bound = max(mod.energy(x, y), 0.5 * x.size * forcing ** 2) * (1.0 + 1e-6)
    for _ in range(100):
        mod.rk4_step(x, y, forcing, inputs["dt"], kx, ky, xs, ys)
        assert mod.energy(x, y) <= bound


def test_make_inputs_is_deterministic_and_sized(load_case):
    a = load_case("lorenz96", size=SMALL).inputs
    b = load_case("lorenz96", size=SMALL).inputs
    assert a.keys() == {"x0", "y0", "forcing", "x_obs", "dt", "nsteps", "obs_every"}
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert a["x0"].shape == (9,) and a["y0"].shape == (90,)
    assert a["x_obs"].shape == (a["nsteps"] // a["obs_every"], 9)
    default = load_case("lorenz96").inputs
    assert default["x0"].shape == (36,) and default["y0"].shape == (360,)
    assert default["nsteps"] == 40 and isinstance(default["nsteps"], int)
    assert not np.array_equal(load_case("lorenz96", size=SMALL, seed=3).inputs["x0"], a["x0"])


def test_head_returns_a_finite_scalar(load_case):
    case = load_case("lorenz96", size=SMALL)
    value = case.head(**copy.deepcopy(case.inputs))
    assert np.ndim(value) == 0 and np.isfinite(value) and value > 0.0


@pytest.mark.adjoint
def test_gradient_matches_finite_differences(load_case, gradient_checker):
    import adjoin

    case = load_case("lorenz96", size=SMALL)
    value, grads = adjoin.value_and_grad(case.head, wrt=case.wrt)(**copy.deepcopy(case.inputs))
    gradient_checker(case, value, grads)
