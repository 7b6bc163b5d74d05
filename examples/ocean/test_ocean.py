"""Tests of the ocean example: conservation, stability, the solver, convection, inputs, gradient."""
import copy

import numpy as np
import pytest

SMALL = 0.25     # 8 x 8 cells (6 x 6 ocean), 3 levels, 75 steps
MEDIUM = 0.5     # 15 x 15 cells, 3 levels, 150 steps


@pytest.fixture(scope="module")
def small(load_case):
    return load_case("ocean", size=SMALL)


def content(q, inputs):
    """Volume integral of a tracer over the ocean cells."""
    return float(np.sum(q * inputs["hmask"] * inputs["drF"][:, None, None]) * inputs["dx"] ** 2)


def test_volume_heat_and_salt_are_conserved(small):
    mod, inputs = small.module, small.inputs
    # Heat restoring off: no surface heat flux; the salt flux has zero mean over the basin.
    out = mod.simulate(inputs, heat_piston=0.0)
    # Fluxes are differenced between neighbours and vanish on every coast, so each sum telescopes
    # to zero; the AB2 combination, the implicit vertical solve and the convective mixing all
    # conserve the volume integral too.  What remains is rounding, ~1e-16 per operation on
    # ~1e3 values and ~1e2 steps: 1e-12 relative leaves room.
    assert abs(content(out["T"], inputs)) > 0.0
    assert np.isclose(content(out["T"], inputs), content(inputs["T0"], inputs), rtol=1e-12, atol=0)
    assert np.isclose(content(out["S"], inputs), content(inputs["S0"], inputs), rtol=1e-12, atol=0)
    # The elevation is recomputed from the divergence of the transport (exact conservation):
    # its area integral stays zero up to rounding of the ~0.3 m values.
    eta = out["eta"] * inputs["hmask"]
    assert np.max(np.abs(eta)) > 1e-3
    assert abs(np.sum(eta)) <= 1e-12 * np.sum(np.abs(eta))
    # With restoring on, heat changes (the check above is not vacuous).
    forced = mod.simulate(inputs)
    assert not np.isclose(content(forced["T"], inputs), content(inputs["T0"], inputs), rtol=1e-6)


def test_stays_stable_and_bounded(load_case):
    case = load_case("ocean", size=MEDIUM)
    mod, inputs = case.module, case.inputs
    out = mod.simulate(inputs)
    ocean = inputs["hmask"] > 0
    # stability_numbers assumes speeds below 1 m/s; geostrophic adjustment and the wind give
    # ~0.3 m/s and the elevation ~0.4 m here. Twice those marks an instability.
    assert np.max(np.abs(out["u"])) < 1.0 and np.max(np.abs(out["v"])) < 1.0
    assert np.max(np.abs(out["eta"])) < 1.0
    # Upwind advection, diffusion, mixing and restoring to T* keep T and S near the range of
    # their initial values (and of T*). AB2 is not monotone, and the tracer's rigid lid leaves
    # the top level's flow slightly divergent, so small overshoots (< 0.2) are allowed for:
    # 0.5 degC or psu beyond the range means something is wrong.
    t_star = mod.setup(inputs)["T_star"][ocean]
    t_lo = min(inputs["T0"][:, ocean].min(), t_star.min())
    t_hi = max(inputs["T0"][:, ocean].max(), t_star.max())
    assert t_lo - 0.5 < out["T"][:, ocean].min() and out["T"][:, ocean].max() < t_hi + 0.5
    s0 = inputs["S0"][:, ocean]
    assert s0.min() - 0.5 < out["S"][:, ocean].min() and out["S"][:, ocean].max() < s0.max() + 0.5


@pytest.mark.parametrize("size", [0.2, 0.5, 1.0, 2.0, 4.0])
def test_time_step_is_stable_at_every_size(size, load_model):
    mod = load_model("ocean")
    n = max(8, int(round(30 * size)))
    nz = max(3, int(round(6 * size)))
    drF = mod.level_thicknesses(nz)
    hmask = np.zeros((n, n))
    hmask[1:-1, 1:-1] = 1.0
    T, S = mod.climatology(nz, n, mod.BASIN_DX, drF)
    inputs = dict(T0=T * hmask, S0=S * hmask, hmask=hmask, drF=drF, dx=mod.BASIN_DX,
                  dt=mod.TIME_STEP, visc_h=0.01 * mod.BASIN_DX ** 2 / mod.TIME_STEP,
                  kappa=1.5 * 0.004 * mod.BASIN_DX ** 2 / mod.TIME_STEP)   # the truth's kappa
    numbers = mod.stability_numbers(inputs)
    # AB2 limits (see stability_numbers), with a factor of safety of about 3
    assert numbers["advective"] < 0.3 and numbers["internal_wave"] < 0.3
    assert numbers["inertial"] < 0.3
    assert numbers["viscous"] < 0.04 and numbers["diffusive"] < 0.04
    # the external gravity wave (~120 m/s) would break explicit stepping: the implicit free
    # surface is what allows this time step
    assert np.sqrt(mod.GRAV * mod.TOTAL_DEPTH) * mod.TIME_STEP / mod.BASIN_DX > 1.0


def test_free_surface_solver(small):
    mod, inputs = small.module, small.inputs
    g = mod.setup(inputs)
    hmask, dx, dt, drF = inputs["hmask"], inputs["dx"], inputs["dt"], inputs["drF"]
    coef = mod.GRAV * np.sum(drF) * dt * dt / dx ** 2
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2,) + hmask.shape) * hmask
    op = lambda z: mod.cg2d_operator(z, coef, g["maskW"], g["maskS"], hmask)
    # symmetric and positive definite on the ocean points: what conjugate gradients needs
    assert np.isclose(np.sum(op(x) * y), np.sum(x * op(y)), rtol=1e-12)
    assert np.sum(x * op(x)) > np.sum(x * x) > 0.0
    # From a cold start, CG_ITERS iterations converge far (relative residual < 1e-8) on basins
    # of every size: the operator's condition number (~70) does not depend on the size. An
    # unconverged solve would make the cost too rough for finite differences (README).
    for n in (8, 30, 60):
        hm = np.zeros((n, n))
        hm[1:-1, 1:-1] = 1.0
        mask_w, mask_s = hm * np.roll(hm, 1, axis=1), hm * np.roll(hm, 1, axis=0)
        b = mod.smooth_noise(rng, hm.shape) * hm
        solution = np.zeros_like(b)
        mod.cg2d(b, solution, coef, mask_w, mask_s, hm, inputs["cg_iters"])
        residual = b - mod.cg2d_operator(solution, coef, mask_w, mask_s, hm)
        assert np.linalg.norm(residual) < 1e-8 * np.linalg.norm(b)
        assert np.all(solution[hm == 0] == 0.0)


def test_convective_adjustment_mixes_unstable_columns_only(small):
    mod, inputs = small.module, small.inputs
    g = mod.setup(inputs)
    hmask, drF = inputs["hmask"], inputs["drF"]
    T, S = inputs["T0"].copy(), inputs["S0"].copy()
    stable_T, stable_S = T.copy(), S.copy()
    # make one column statically unstable: cold water over warm
    T[0, 3, 3], T[1, 3, 3] = 2.0, 12.0
    before = (T * drF[:, None, None]).sum(axis=0)
    mod.convective_adjustment(T, S, g["zC"], drF, hmask)
    assert np.isclose((T * drF[:, None, None]).sum(axis=0)[3, 3], before[3, 3], rtol=1e-14)
    assert T[0, 3, 3] > 2.0 + 3.0 and T[1, 3, 3] < 12.0 - 1.0   # strongly mixed
    # the stably stratified columns are left exactly as they were
    mod.convective_adjustment(stable_T, stable_S, g["zC"], drF, hmask)
    assert np.array_equal(stable_T, inputs["T0"]) and np.array_equal(stable_S, inputs["S0"])


def test_make_inputs_is_deterministic_and_sized(small, load_case):
    a = small.inputs
    b = load_case("ocean", size=SMALL).inputs
    head_params = set(small.head.__code__.co_varnames[:small.head.__code__.co_argcount])
    assert set(a) == head_params - {"heat_piston"}
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert a["T0"].shape == (3, 8, 8) and a["nsteps"] == 75 and isinstance(a["nsteps"], int)
    assert isinstance(a["kappa"], float) and isinstance(a["tau0"], float)
    assert np.all(a["obs_weight"][:, a["hmask"] == 0] == 0.0) and np.all(a["obs_weight"][0][a["hmask"] > 0] > 0)
    c = load_case("ocean", size=SMALL, seed=7).inputs
    assert not np.array_equal(a["T0"], c["T0"])


def test_head_returns_a_finite_scalar_and_leaves_its_arguments(small):
    before = copy.deepcopy(small.inputs)
    value = small.head(**small.inputs)
    assert np.ndim(value) == 0 and np.isfinite(value) and value > 0.0
    for name in before:
        assert np.array_equal(small.inputs[name], before[name]), name


@pytest.mark.adjoint
def test_gradient_matches_finite_differences(load_case, gradient_checker):
    import adjoin

    case = load_case("ocean", size=SMALL)
    value, grads = adjoin.value_and_grad(case.head, wrt=case.wrt)(**copy.deepcopy(case.inputs))
    gradient_checker(case, value, grads)
