"""Gray-Scott reaction-diffusion on a periodic grid, Laplacian by np.roll."""
import numpy as np


def lap(Z):
    return (np.roll(Z, 1, axis=0) + np.roll(Z, -1, axis=0)
            + np.roll(Z, 1, axis=1) + np.roll(Z, -1, axis=1) - 4 * Z)


def cost(U0, V0, F, k, Du=0.16, Dv=0.08, dt=1.0, steps=15):
    U = U0.copy()
    V = V0.copy()
    for i in range(steps):
        uvv = U * V * V
        U += dt * (Du * lap(U) - uvv + F * (1 - U))
        V += dt * (Dv * lap(V) + uvv - (F + k) * V)
    return np.sum(V**2) / V.size + 0.1 * U.mean()


def inputs():
    rng = np.random.default_rng(2)
    n = 6
    U0 = np.ones((n, n))
    V0 = np.zeros((n, n))
    U0[2:4, 2:4] = 0.5
    V0[2:4, 2:4] = 0.25
    U0 += 0.05 * rng.random((n, n))
    V0 += 0.05 * rng.random((n, n))
    return dict(U0=U0, V0=V0, F=0.035, k=0.065)


WRT = ("U0", "V0", "F", "k")
