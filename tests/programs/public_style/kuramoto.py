"""Kuramoto oscillators: coupling by np.sin of all phase differences, Euler steps, order parameter."""
import numpy as np


def kuramoto_rhs(theta, omega, K):
    N = len(theta)
    diff = theta[None, :] - theta[:, None]
    return omega + (K / N) * np.sin(diff).sum(axis=1)


def order_parameter(theta):
    re = np.mean(np.cos(theta))
    im = np.mean(np.sin(theta))
    return np.sqrt(re**2 + im**2)


def cost(theta0, omega, K, dt=0.05, nsteps=25):
    theta = theta0.copy()
    r_hist = np.zeros(nsteps)
    for n in range(nsteps):
        theta = theta + dt * kuramoto_rhs(theta, omega, K)
        r_hist[n] = order_parameter(theta)
    return -np.mean(r_hist[nsteps // 2:])


def inputs():
    rng = np.random.default_rng(9)
    N = 6
    return dict(theta0=rng.uniform(0, 2 * np.pi, N), omega=rng.normal(1.0, 0.1, N), K=1.5)


WRT = ("theta0", "omega", "K")
