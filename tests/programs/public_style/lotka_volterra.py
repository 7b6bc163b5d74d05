"""Lotka-Volterra predator-prey, a hand-written RK4 that takes the right-hand side as an argument."""
import numpy as np

PARAMS = {"dt": 0.05, "nsteps": 40}


def lotka_volterra(t, z, alpha, beta, delta, gamma):
    x, y = z
    dx = alpha * x - beta * x * y
    dy = delta * x * y - gamma * y
    return np.array([dx, dy])


def rk4(f, t, y, h, *args):
    k1 = f(t, y, *args)
    k2 = f(t + h / 2, y + h / 2 * k1, *args)
    k3 = f(t + h / 2, y + h / 2 * k2, *args)
    k4 = f(t + h, y + h * k3, *args)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def integrate(f, y0, t0, dt, nsteps, args):
    ys = np.zeros((nsteps + 1, len(y0)))
    ys[0] = y0
    t = t0
    for n in range(nsteps):
        ys[n + 1] = rk4(f, t, ys[n], dt, *args)
        t = t + dt
    return ys


def cost(z0, alpha, beta, delta=0.075, gamma=1.5, params=PARAMS):
    ys = integrate(lotka_volterra, z0, 0.0, params["dt"], params["nsteps"], (alpha, beta, delta, gamma))
    obs = np.array([8.0, 3.0])
    misfit = ys[-1] - obs
    return float(misfit @ misfit) + 0.01 * np.sum(ys[:, 1])


def inputs():
    return dict(z0=np.array([10.0, 5.0]), alpha=1.1, beta=0.4)


WRT = ("z0", "alpha", "beta")
