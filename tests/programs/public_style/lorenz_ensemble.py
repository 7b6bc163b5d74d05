"""A Lorenz-63 ensemble: the states are the rows of one array, a while loop to a final time, an
ensemble-mean misfit to observations and the spread."""
import numpy as np


def lorenz(X, sigma, rho, beta):
    x, y, z = X[:, 0], X[:, 1], X[:, 2]
    dX = np.empty_like(X)
    dX[:, 0] = sigma * (y - x)
    dX[:, 1] = x * (rho - z) - y
    dX[:, 2] = x * y - beta * z
    return dX


def heun(X, dt, sigma, rho, beta):
    k1 = lorenz(X, sigma, rho, beta)
    k2 = lorenz(X + dt * k1, sigma, rho, beta)
    return X + 0.5 * dt * (k1 + k2)


def cost(X0, sigma, rho, beta=8.0 / 3.0, dt=0.01, t_end=0.2, obs=None):
    X = X0.copy()
    t = 0.0
    nobs = 0
    misfit = 0.0
    while t < t_end - 1e-12:
        X = heun(X, dt, sigma, rho, beta)
        t += dt
        nobs += 1
        if nobs % 5 == 0:
            mean = X.mean(axis=0)
            misfit += np.sum((mean - obs) ** 2)
    spread = np.mean(np.var(X, axis=0))
    return misfit + 0.1 * spread


def inputs():
    rng = np.random.default_rng(13)
    base = np.array([1.0, 1.0, 20.0])
    return dict(X0=base + 0.5 * rng.normal(size=(5, 3)), sigma=10.0, rho=28.0, obs=np.array([2.0, 3.0, 18.0]))


WRT = ("X0", "sigma", "rho")
