"""Viscous Burgers equation on a periodic interval: a flux routine inside a Runge-Kutta time loop.

The head is ``cost``: the misfit of the final velocity to observations, differentiated with
respect to the initial velocity ``u0`` and the viscosity ``nu``.  ``make_inputs`` builds a twin
experiment (observations from a run with another initial state and viscosity).
"""
import math

import numpy as np

DOMAIN_LENGTH = 2.0 * math.pi   # the periodic interval [0, 2 pi)
T_END = 1.5                     # simulated time, before the steepening front turns into a shock
CFL = 0.5                       # fraction of the largest stable explicit time step


def flux(u, nu, dx, f):
    """Writes into ``f`` the flux through the west face of every cell: upwind advection, viscous."""
    u_west = np.roll(u, 1)
    u_face = 0.5 * (u_west + u)
    # upwind: the face takes the advective flux u^2/2 of the cell the flow comes from
    advective = np.where(u_face > 0.0, 0.5 * u_west * u_west, 0.5 * u * u)
    f[:] = advective - nu * (u - u_west) / dx


def tendency(u, nu, dx, f, du):
    """Writes into ``du`` the time derivative -d(flux)/dx of the finite-volume scheme."""
    flux(u, nu, dx, f)
    du[:] = -(np.roll(f, -1) - f) / dx


def rk2_step(u, nu, dx, dt, f, du, u1):
    """Advances ``u`` in place by one step of Heun's method (strong-stability-preserving RK2).

    Both stages are forward Euler steps and the result is their average, so the scheme keeps
    the maximum principle of the Euler step under the same time-step limit.
    """
    tendency(u, nu, dx, f, du)
    u1[:] = u + dt * du
    tendency(u1, nu, dx, f, du)
    u[:] = 0.5 * (u + u1 + dt * du)


def cost(u0, nu, u_obs, dx, dt, nsteps):
    """Half the squared L2 misfit of the velocity after ``nsteps`` steps to ``u_obs``."""
    u = u0.copy()
    f = np.zeros_like(u0)
    du = np.zeros_like(u0)
    u1 = np.zeros_like(u0)
    for n in range(nsteps):
        rk2_step(u, nu, dx, dt, f, du, u1)
    return 0.5 * dx * np.sum((u - u_obs) ** 2)


# ---------------------------------------------------------------------------------------------
# Not reached from the head: inputs, twin experiment, diagnostics.

def stable_time_step(u_max, nu, dx):
    """The time step at CFL times the Euler limit of upwind advection plus diffusion."""
    return CFL / (u_max / dx + 2.0 * nu / (dx * dx))


def initial_velocity(x, rng, amplitude=0.5, noise=0.08, modes=4):
    """1 + amplitude sin(x) plus a few random low Fourier modes: positive everywhere."""
    u = 1.0 + amplitude * np.sin(x)
    for m in range(2, 2 + modes):
        a, b = rng.normal(size=2) * noise / m
        u += a * np.sin(m * x) + b * np.cos(m * x)
    return u


def run(u0, nu, dx, dt, nsteps):
    """The final velocity of the model (same steps as the head)."""
    u = u0.copy()
    f, du, u1 = np.zeros_like(u), np.zeros_like(u), np.zeros_like(u)
    for _ in range(nsteps):
        rk2_step(u, nu, dx, dt, f, du, u1)
    return u


def make_inputs(size=1.0, seed=0):
    """All arguments of ``cost``; ``size`` scales the number of cells (and so the steps)."""
    rng = np.random.default_rng(seed)
    n = max(16, int(round(128 * size)))
    dx = DOMAIN_LENGTH / n
    x = dx * np.arange(n)
    nu = 0.02
    u0 = initial_velocity(x, rng)
    u_true = initial_velocity(x, rng)
    nu_true = 1.5 * nu
    # one time step for both runs, stable for the larger viscosity and the fastest initial speed
    # (the maximum principle keeps every later speed below the initial maximum)
    u_max = max(np.max(np.abs(u0)), np.max(np.abs(u_true)))
    nsteps = int(math.ceil(T_END / stable_time_step(u_max, 1.2 * nu_true, dx)))
    dt = T_END / nsteps
    u_obs = run(u_true, nu_true, dx, dt, nsteps) + 0.01 * rng.normal(size=n)
    return dict(u0=u0, nu=nu, u_obs=u_obs, dx=dx, dt=dt, nsteps=nsteps)
