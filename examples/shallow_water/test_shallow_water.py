"""Tests of the shallow-water example: volume, energy, balance, inputs, and adjoin's gradient."""
import copy

import numpy as np
import pytest

SMALL = 0.25    # 10 x 16 cells, 90 steps


def energies(mod, inputs, drag, visc, counts):
    """Energy after each number of steps in ``counts`` (separate runs from the initial state)."""
    _, _, _, _, u0, v0 = mod.initial_state(inputs["h0"], inputs["dx"])
    e0 = mod.energy(inputs["h0"], u0, v0)
    return [mod.energy(*mod.run(inputs["h0"], drag, inputs["dx"], inputs["dt"], n, visc)) / e0
            for n in counts]


def test_volume_is_conserved(load_case):
    case = load_case("shallow_water", size=SMALL)
    mod, inputs = case.module, case.inputs
    h, _, _ = mod.run(inputs["h0"], inputs["drag"], inputs["dx"], inputs["dt"], inputs["nsteps"],
                      inputs["visc"])
    # Flux-form continuity and a filter whose weights sum to zero: the fluxes cancel in the sum
    # and only rounding remains (~1e-16 of the ~1e4 summed heights per step).
    assert np.isclose(np.sum(h), np.sum(inputs["h0"]), rtol=1e-13, atol=0.0)
    assert np.all(np.isfinite(h)) and np.min(h) > 0.9 * np.min(inputs["h0"])


def test_energy_decays_with_drag_and_is_nearly_conserved_without(load_case):
    case = load_case("shallow_water", size=2 * SMALL)
    mod, inputs = case.module, case.inputs
    counts = range(20, inputs["nsteps"] + 1, 20)
    damped = energies(mod, inputs, inputs["drag"], inputs["visc"], counts)
    # Drag and viscosity only remove energy: strictly decreasing, and by a lot (the drag time
    # scale h / (C_d |u|) is about a day, the run 6 hours).
    assert all(b < a for a, b in zip([1.0] + damped, damped))
    assert damped[-1] < 0.9
    free = energies(mod, inputs, 0.0, 0.0, counts)
    # Without them, Sadourny's form conserves energy in space and leapfrog is neutral in time;
    # only the Robert-Asselin filter damps (the 2-dt computational mode and, weakly, the
    # physical one). Energy may then only decrease, and by little: 5 % over the run.
    assert all(b < a for a, b in zip([1.0 + 1e-12] + free, free))
    assert free[-1] > 0.95


def test_initial_velocities_are_geostrophic(load_case):
    case = load_case("shallow_water", size=SMALL)
    mod, inputs = case.module, case.inputs
    fu, fv, vmask, hmask, u, v = mod.initial_state(inputs["h0"], inputs["dx"])
    assert np.all(v[0] == 0.0)                      # no flow through the wall
    # The eddy's speed is g/f times its height gradient: 2 m over 150 km gives about 1.3 m/s.
    assert 0.3 < np.max(np.abs(u)) < 3.0 and 0.3 < np.max(np.abs(v)) < 3.0
    # Balanced flow is nearly non-divergent away from the walls: the height tendency is small
    # next to the divergence of one flux component alone. It is not zero because f varies
    # (beta L / f is a few percent here) and h varies along the flow; 5 % bounds both. The rows
    # touching the walls are left out: the wall stops v there, so they cannot be balanced.
    gh = np.zeros_like(u)
    mod.continuity(inputs["h0"], u, v, vmask, inputs["dx"], gh)
    flux_u, _ = mod.mass_fluxes(inputs["h0"], u, v, vmask)
    one_component = np.max(np.abs(np.roll(flux_u, -1, axis=1) - flux_u)) / inputs["dx"]
    assert np.max(np.abs(gh[1:-1])) < 0.05 * one_component


def test_make_inputs_is_deterministic_and_sized(load_case):
    a = load_case("shallow_water", size=SMALL).inputs
    b = load_case("shallow_water", size=SMALL).inputs
    assert a.keys() == {"h0", "drag", "h_obs", "obs_weight", "dx", "dt", "nsteps", "visc"}
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert a["h0"].shape == a["h_obs"].shape == a["obs_weight"].shape == (10, 16)
    assert isinstance(a["nsteps"], int) and a["nsteps"] == 90
    big = load_case("shallow_water", size=2 * SMALL).inputs
    assert big["h0"].shape == (20, 32) and big["nsteps"] == 180
    assert not np.array_equal(load_case("shallow_water", size=SMALL, seed=2).inputs["h0"], a["h0"])


def test_head_returns_a_finite_scalar(load_case):
    case = load_case("shallow_water", size=SMALL)
    value = case.head(**copy.deepcopy(case.inputs))
    assert np.ndim(value) == 0 and np.isfinite(value) and value > 0.0


@pytest.mark.adjoint
def test_gradient_matches_finite_differences(load_case, gradient_checker):
    import adjoin

    case = load_case("shallow_water", size=SMALL)
    value, grads = adjoin.value_and_grad(case.head, wrt=case.wrt)(**copy.deepcopy(case.inputs))
    gradient_checker(case, value, grads)
