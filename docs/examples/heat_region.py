"""conformance p22_heat_model with one change: laplacian writes lap[1:n - 1, 1:-1], a region whose
bound is a variable, so that adjoin cannot tell it is the same region every time."""
import numpy as np


def laplacian(T, lap):
    n = T.shape[0]
    lap[1:n - 1, 1:-1] = (T[2:, 1:-1] + T[:-2, 1:-1] + T[1:-1, 2:] + T[1:-1, :-2]
                           - 4.0 * T[1:-1, 1:-1])


def source(T, q, out):
    out[:, :] = q * np.exp(-T * T)


def boundary(T):
    T[0, :] = T[1, :]
    T[-1, :] = T[-2, :]
    T[:, 0] = T[:, 1]
    T[:, -1] = T[:, -2]


def step(T, q, kappa, dt, lap, src):
    laplacian(T, lap)
    source(T, q, src)
    T += dt * (kappa * lap + src)
    boundary(T)


def cost(T0, q, kappa, nsteps, obs):
    T = T0.copy()
    lap = np.zeros_like(T)
    src = np.zeros_like(T)
    for n in range(nsteps):
        step(T, q, kappa, 0.05, lap, src)
    return 0.5 * np.sum((T - obs) ** 2)


HEAD = cost
WRT = ("T0", "q", "kappa")


def inputs(rng):
    return dict(T0=rng.normal(size=(7, 6)), q=rng.uniform(0.0, 1.0, (7, 6)),
                kappa=float(rng.uniform(0.5, 1.0)), nsteps=8, obs=rng.normal(size=(7, 6)))
