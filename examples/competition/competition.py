"""Lotka-Volterra competition of three species diffusing on a periodic 1-D habitat.

    du_i/dt = D_i d2u_i/dx2 + r_i u_i (1 - sum_j A_ij u_j) - h delta_i0 u_i

The time-stepping scheme is an argument (``euler``, ``heun``, ``rk4``: each takes the right-hand
side ``f`` and its parameters ``*params``).  The head is ``cost``, a data-assimilation cost: the
misfit of the densities to observations at several times plus a small background term,
differentiated with respect to the initial densities ``u0``, the growth rates ``growth`` and the
diffusivities ``diffusivity``.  ``make_inputs`` builds a twin experiment.
"""
import math

import numpy as np

try:                                   # plotting is optional (plot=True needs matplotlib)
    import matplotlib
    matplotlib.use("Agg")              # figures are written to files, never shown in a window
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

HABITAT_LENGTH = 40.0          # length of the periodic habitat
FISHED = 0                     # the species that is harvested
OBS_SIGMA = 0.01               # observation error of the densities
CFL = 0.5                      # fraction of the forward Euler limit used as time step

# A_ij: how much species j crowds species i (A_ii = 1: densities in units of carrying capacity).
# Off-diagonal entries below 1: intraspecific competition dominates, and the three coexist.
COMPETITION = np.array([[1.0, 0.6, 0.3],
                        [0.4, 1.0, 0.5],
                        [0.5, 0.3, 1.0]])


def laplacian(u, dx):
    """Second difference along x of every row of ``u`` (periodic)."""
    return (np.roll(u, 1, axis=1) - 2.0 * u + np.roll(u, -1, axis=1)) / (dx * dx)


def tendencies(u, growth, diffusivity, A, dx):
    """The diffusion and the logistic competition terms of du/dt, for every species and cell."""
    diffusion = diffusivity[:, None] * laplacian(u, dx)
    crowding = np.einsum("ij,jx->ix", A, u)        # sum_j A_ij u_j at every grid point
    reaction = growth[:, None] * u * (1.0 - crowding)
    return diffusion, reaction


def rhs(u, growth, diffusivity, A, harvest, dx):
    """du/dt: diffusion, competition, and a harvest proportional to the fished species' density."""
    diffusion, reaction = tendencies(u, growth, diffusivity, A, dx)
    reaction[FISHED] -= harvest * u[FISHED]
    return diffusion + reaction


def euler(f, u, dt, *params):
    """One forward Euler step of du/dt = f(u, *params)."""
    return u + dt * f(u, *params)


def heun(f, u, dt, *params):
    """One step of Heun's method (SSP-RK2): the average of u and of two Euler steps from it."""
    k1 = f(u, *params)
    u1 = u + dt * k1
    k2 = f(u1, *params)
    return 0.5 * (u + u1 + dt * k2)


def rk4(f, u, dt, *params):
    """One step of the classical fourth-order Runge-Kutta method."""
    k1 = f(u, *params)
    k2 = f(u + 0.5 * dt * k1, *params)
    k3 = f(u + 0.5 * dt * k2, *params)
    k4 = f(u + dt * k3, *params)
    return u + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(u, nsteps, dt, scheme, *params):
    """``nsteps`` steps of ``scheme`` from ``u``; params: those of ``rhs`` after ``u``."""
    for n in range(nsteps):
        u = scheme(rhs, u, dt, *params)
    return u


def cost(u0, growth, diffusivity, u_obs, obs_times, u_b, harvest, dx, dt, alpha,
         scheme=rk4, plot=False):
    """Observation misfit at ``obs_times`` plus ``alpha`` times the distance of u0 to ``u_b``."""
    u = u0
    t = 0.0
    J = 0.0
    for k, t_obs in enumerate(obs_times):
        nsteps = int((t_obs - t) / dt + 0.5)     # whole steps to the next observation
        u = integrate(u, nsteps, dt, scheme, growth, diffusivity, COMPETITION, harvest, dx)
        t = t + nsteps * dt
        J = J + 0.5 * dx * np.sum((u - u_obs[k]) ** 2) / OBS_SIGMA ** 2
        # $AD INACTIVE
        if plot:   # one line per species, darker for later times
            plt.plot(dx * np.arange(u.shape[1]), u.T, alpha=(k + 1) / len(obs_times))
    J = J + 0.5 * alpha * dx * np.sum((u0 - u_b) ** 2)
    return J


# ---------------------------------------------------------------------------------------------
# Not reached from the head: equilibrium, time step, inputs, twin experiment.

def coexistence_equilibrium(growth, harvest):
    """The uniform densities where every species' growth balances (harvest lowers r_0 by h)."""
    rate = np.ones(len(growth))
    rate[FISHED] -= harvest / growth[FISHED]
    return np.linalg.solve(COMPETITION, rate)


def stable_time_step(growth, diffusivity, harvest, dx, u_max):
    """CFL times the step below which a forward Euler step keeps every density positive."""
    crowding_max = np.max(COMPETITION.sum(axis=1)) * u_max
    rate = 2.0 * np.max(diffusivity) / (dx * dx) + np.max(growth) * crowding_max + harvest
    return CFL / rate


def initial_densities(x, rng, mean, modes=8, amplitude=0.5):
    """``mean`` times 1 + a few random low Fourier modes, per species: positive everywhere."""
    u = np.empty((len(mean), x.size))
    for i, m_i in enumerate(mean):
        field = np.ones_like(x)
        for m in range(1, modes + 1):
            a, b = rng.uniform(-1.0, 1.0, size=2) * amplitude / (modes * math.sqrt(2.0))
            field += a * np.sin(2.0 * np.pi * m * x / HABITAT_LENGTH)
            field += b * np.cos(2.0 * np.pi * m * x / HABITAT_LENGTH)
        u[i] = m_i * field
    return u


def run(u0, growth, diffusivity, harvest, dx, dt, obs_times, scheme=rk4):
    """The densities at every observation time (same steps as the head)."""
    u, t = u0, 0.0
    out = np.zeros((len(obs_times),) + u0.shape)
    for k, t_obs in enumerate(obs_times):
        nsteps = int((t_obs - t) / dt + 0.5)
        u = integrate(u, nsteps, dt, scheme, growth, diffusivity, COMPETITION, harvest, dx)
        t = t + nsteps * dt
        out[k] = u
    return out


def make_inputs(size=1.0, seed=0):
    """All arguments of ``cost``; ``size`` scales the number of cells (and so the steps)."""
    rng = np.random.default_rng(seed)
    n = max(16, int(round(64 * size)))
    dx = HABITAT_LENGTH / n
    x = dx * np.arange(n)
    growth = np.array([1.0, 0.8, 0.6])
    diffusivity = np.array([0.5, 0.25, 0.1])
    harvest = 0.2
    u_b = coexistence_equilibrium(growth, harvest)[:, None] * np.ones(n)   # the background
    u0 = initial_densities(x, rng, u_b[:, 0])
    # the truth: other initial densities, growth rates and diffusivities
    growth_true = growth * np.array([1.15, 0.9, 1.1])
    diffusivity_true = diffusivity * np.array([0.8, 1.2, 1.25])
    u_true = initial_densities(x, rng, u_b[:, 0])
    # one time step for both runs, a whole number of them between observations
    obs_interval = 1.5
    obs_times = obs_interval * np.arange(1, 5)
    u_max = 1.5 * max(np.max(u0), np.max(u_true))
    dt_max = stable_time_step(np.maximum(growth, growth_true),
                              np.maximum(diffusivity, diffusivity_true), harvest, dx, u_max)
    dt = obs_interval / math.ceil(obs_interval / dt_max)
    u_obs = run(u_true, growth_true, diffusivity_true, harvest, dx, dt, obs_times, heun)
    u_obs = u_obs + OBS_SIGMA * rng.normal(size=u_obs.shape)
    return dict(u0=u0, growth=growth, diffusivity=diffusivity, u_obs=u_obs, obs_times=obs_times,
                u_b=u_b, harvest=harvest, dx=dx, dt=dt, alpha=1.0, scheme=heun, plot=False)


if __name__ == "__main__":
    inputs = make_inputs()
    inputs["plot"] = True
    print("cost:", cost(**inputs))
    plt.xlabel("x")
    plt.ylabel("density")
    plt.savefig("competition.png")
