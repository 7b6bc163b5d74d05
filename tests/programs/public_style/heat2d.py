"""2-D heat equation, explicit five-point stencil, boundaries by np.pad (insulated edges)."""
import numpy as np


def laplacian(u, dx):
    # ghost cells copy the edge values: zero flux through the walls
    up = np.pad(u, 1, mode="edge")
    return (up[2:, 1:-1] + up[:-2, 1:-1] + up[1:-1, 2:] + up[1:-1, :-2] - 4.0 * u) / dx**2


def step(u, kappa, dt, dx, source):
    return u + dt * (kappa * laplacian(u, dx) + source)


def stable_dt(kappa, dx, safety=0.8):
    return safety * dx * dx / (4.0 * np.max(kappa))


def cost(u0, kappa, nsteps=12, length=1.0):
    nx = u0.shape[0]
    dx = length / (nx - 1)
    dt = stable_dt(kappa, dx)
    x = np.linspace(0.0, length, nx)
    X, Y = np.meshgrid(x, x, indexing="ij")
    source = np.exp(-((X - 0.5) ** 2 + (Y - 0.5) ** 2) / 0.02)
    u = u0.copy()
    for n in range(nsteps):
        u = step(u, kappa, dt, dx, source)
    # misfit to a target at a few sensor points
    sensors = np.array([[2, 3], [4, 4], [5, 1]])
    obs = u[sensors[:, 0], sensors[:, 1]]
    target = np.array([0.3, 0.5, 0.2])
    return 0.5 * np.sum((obs - target) ** 2) + 1e-3 * np.mean(u**2)


def inputs():
    rng = np.random.default_rng(1)
    return dict(u0=rng.uniform(0.0, 1.0, (7, 7)), kappa=rng.uniform(0.5, 1.0, (7, 7)))


WRT = ("u0", "kappa")
