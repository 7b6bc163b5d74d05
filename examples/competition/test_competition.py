"""Tests of the competition example: physics of the primal, the schemes, its inputs, and adjoin's
gradient."""
import copy

import numpy as np
import pytest

SMALL = 0.25   # 16 cells, 4 observations 1.5 apart, 17 Heun steps between them
WRT_SHAPES = {"u0": (3, 16), "growth": (3,), "diffusivity": (3,)}


def rhs_params(mod, inputs, **changes):
    """The parameters of ``rhs`` after ``u`` for the case's inputs, with some replaced."""
    p = dict(growth=inputs["growth"], diffusivity=inputs["diffusivity"], A=mod.COMPETITION,
             harvest=inputs["harvest"], dx=inputs["dx"])
    p.update(changes)
    return p["growth"], p["diffusivity"], p["A"], p["harvest"], p["dx"]


def test_tendencies_match_the_equations_written_out(load_case):
    case = load_case("competition", size=SMALL)
    mod, inputs = case.module, case.inputs
    u, dx = inputs["u0"], inputs["dx"]
    du = mod.rhs(u, *rhs_params(mod, inputs))
    expected = np.zeros_like(u)
    n = u.shape[1]
    for i in range(3):
        for x in range(n):
            lap = (u[i, (x - 1) % n] - 2.0 * u[i, x] + u[i, (x + 1) % n]) / dx ** 2
            crowd = sum(mod.COMPETITION[i, j] * u[j, x] for j in range(3))
            expected[i, x] = (inputs["diffusivity"][i] * lap
                              + inputs["growth"][i] * u[i, x] * (1.0 - crowd))
            if i == mod.FISHED:
                expected[i, x] -= inputs["harvest"] * u[i, x]
    assert np.allclose(du, expected, rtol=1e-13, atol=1e-13 * np.max(np.abs(expected)))


def test_coexistence_equilibrium_is_a_fixed_point(load_case):
    case = load_case("competition", size=SMALL)
    mod, inputs = case.module, case.inputs
    u_star = inputs["u_b"]   # the background is the uniform coexistence equilibrium
    assert np.all(u_star > 0.0)   # the three species coexist (harvest included)
    # uniform, so diffusion vanishes; r_i u_i (1 - (A u)_i) - h u_0 vanishes by construction
    assert np.max(np.abs(mod.rhs(u_star, *rhs_params(mod, inputs)))) <= 1e-15
    for scheme in (mod.euler, mod.heun, mod.rk4):
        u = mod.integrate(u_star, 20, inputs["dt"], scheme, *rhs_params(mod, inputs))
        assert np.max(np.abs(u - u_star)) <= 1e-14


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_diffusion_alone_conserves_each_population(load_case, scheme):
    case = load_case("competition", size=SMALL)
    mod, inputs = case.module, case.inputs
    params = rhs_params(mod, inputs, growth=np.zeros(3), harvest=0.0)
    u = inputs["u0"]
    total = np.sum(u, axis=1)
    lo, hi = np.min(u, axis=1), np.max(u, axis=1)
    for _ in range(30):
        u = mod.integrate(u, 1, inputs["dt"], getattr(mod, scheme), *params)
        # The periodic second difference sums to zero over the grid: every stage of every scheme
        # keeps sum_x u_i up to rounding (~1e-16 per cell and step, far below 1e-12 relative).
        assert np.allclose(np.sum(u, axis=1), total, rtol=1e-12, atol=0.0)
        if scheme != "rk4":
            # Euler and Heun (a convex combination of Euler steps) are monotone below the step
            # limit: a maximum principle per species, up to rounding.
            assert np.all(lo - 1e-12 <= np.min(u, axis=1))
            assert np.all(np.max(u, axis=1) <= hi + 1e-12)
    assert np.all(np.ptp(u, axis=1) < np.ptp(inputs["u0"], axis=1))   # and it really smooths


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_densities_stay_positive_and_bounded(load_case, scheme):
    case = load_case("competition")
    mod, inputs = case.module, case.inputs
    states = mod.run(inputs["u0"], inputs["growth"], inputs["diffusivity"], inputs["harvest"],
                     inputs["dx"], inputs["dt"], inputs["obs_times"], getattr(mod, scheme))
    # Positive: each Euler stage multiplies u_i by 1 - dt (2 D_i / dx^2 + r_i ((A u)_i - 1) + h)
    # > 0 and adds non-negative neighbours (the time step is half that limit).  Bounded: with
    # A_ii = 1 no species grows beyond its carrying capacity 1 once it is there.
    assert np.all(states > 0.0)
    assert np.all(states < max(1.0, np.max(inputs["u0"])))


def test_schemes_converge_at_their_order(load_case):
    case = load_case("competition", size=SMALL)
    mod, inputs = case.module, case.inputs
    params = rhs_params(mod, inputs)
    t_end, dt = 1.0, 0.1
    reference = mod.integrate(inputs["u0"], 1280, t_end / 1280, mod.rk4, *params)
    for scheme, order in ((mod.euler, 1), (mod.heun, 2), (mod.rk4, 4)):
        errors = [np.max(np.abs(mod.integrate(inputs["u0"], int(t_end / h + 0.5), h, scheme,
                                              *params) - reference))
                  for h in (dt, dt / 2)]
        observed = np.log2(errors[0] / errors[1])
        assert abs(observed - order) < 0.2, (scheme.__name__, observed)


def test_make_inputs_is_deterministic_and_sized(load_case):
    a = load_case("competition", size=SMALL).inputs
    b = load_case("competition", size=SMALL).inputs
    assert a.keys() == b.keys() == {"u0", "growth", "diffusivity", "u_obs", "obs_times", "u_b",
                                    "harvest", "dx", "dt", "alpha", "scheme", "plot"}
    for name in a:
        if name != "scheme":
            assert np.array_equal(a[name], b[name]), name
    mod = load_case("competition", size=SMALL).module
    assert a["scheme"] is mod.heun and a["plot"] is False
    for name, shape in WRT_SHAPES.items():
        assert np.shape(a[name]) == shape, name
    assert a["u_obs"].shape == (4, 3, 16)
    # a whole number of steps between observations: int() in the head rounds nothing away
    steps = np.diff(np.concatenate([[0.0], a["obs_times"]])) / a["dt"]
    assert np.allclose(steps, np.round(steps), rtol=0.0, atol=1e-9)
    c = load_case("competition", size=SMALL, seed=1).inputs
    assert not np.array_equal(a["u0"], c["u0"])
    default = load_case("competition").inputs
    assert default["u0"].shape == (3, 64) and default["dt"] < a["dt"]
    assert np.min(a["u0"]) > 0.0 and np.min(default["u0"]) > 0.0


def test_head_returns_a_finite_scalar_and_plots_on_request(load_case):
    plt = pytest.importorskip("matplotlib.pyplot")

    case = load_case("competition", size=SMALL)
    before = copy.deepcopy(case.inputs)
    value = case.head(**case.inputs)
    assert np.ndim(value) == 0 and np.isfinite(value) and value > 0.0
    for name in ("u0", "growth", "diffusivity"):
        assert np.array_equal(case.inputs[name], before[name])   # the head modifies no input
    plt.figure()
    try:
        plotted = case.head(**dict(copy.deepcopy(case.inputs), plot=True))
        assert plotted == value
        assert len(plt.gca().lines) == 4 * 3   # each species at each observation time
    finally:
        plt.close()


@pytest.mark.adjoint
@pytest.mark.parametrize("scheme", ["case", "euler", "rk4"])
def test_gradient_matches_finite_differences(load_case, gradient_checker, scheme):
    import adjoin

    case = load_case("competition", size=SMALL)
    if scheme != "case":   # the case passes heun; try the other schemes too
        case.inputs["scheme"] = getattr(case.module, scheme)
    value, grads = adjoin.value_and_grad(case.head, wrt=case.wrt)(**copy.deepcopy(case.inputs))
    gradient_checker(case, value, grads)


@pytest.mark.adjoint
def test_every_placement_gives_the_same_gradient(load_case):
    import adjoin

    case = load_case("competition", size=SMALL)
    sites = adjoin.checkpoint_sites(case.head, example=case.inputs)
    ids = [site.id for site in sites]
    assert "integrate/heun#1" in ids and "heun/rhs#2" in ids   # specialized on the case's scheme
    rng = np.random.default_rng(0)
    placements = [adjoin.Placement(ids)] + [
        adjoin.Placement([i for i in ids if rng.random() < 0.5]) for _ in range(3)]
    value, grads = adjoin.value_and_grad(case.head, wrt=case.wrt)(**copy.deepcopy(case.inputs))
    peaks = {adjoin.adjoint(case.head, wrt=case.wrt).measure(**copy.deepcopy(case.inputs))
             .peak_tape_bytes}
    for placement in placements:
        adj = adjoin.adjoint(case.head, wrt=case.wrt, placement=placement)
        run = adj.measure(**copy.deepcopy(case.inputs))
        peaks.add(run.peak_tape_bytes)
        assert float(run.value) == float(value)
        for name, g, h in zip(case.wrt, grads, run.grads):
            scale = np.max(np.abs(g))
            assert np.max(np.abs(np.asarray(h) - g)) <= 1e-12 * scale, (name, placement)
    assert len(peaks) > 1   # the placements really differ


@pytest.mark.adjoint
def test_plotting_changes_no_derivative(load_case):
    import adjoin
    plt = pytest.importorskip("matplotlib.pyplot")

    case = load_case("competition", size=SMALL)
    f = adjoin.value_and_grad(case.head, wrt=case.wrt)
    value, grads = f(**copy.deepcopy(case.inputs))
    plt.figure()
    try:
        plotted, plotted_grads = f(**dict(copy.deepcopy(case.inputs), plot=True))
        assert len(plt.gca().lines) == 4 * 3   # the INACTIVE statement ran in the forward sweep
    finally:
        plt.close()
    assert plotted == value
    for g, h in zip(grads, plotted_grads):
        assert np.array_equal(g, h)
