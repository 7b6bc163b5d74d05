"""1-D linear advection with a variable velocity, first-order upwind by np.where, periodic."""
import numpy as np


def upwind_step(u, c, dt, dx):
    # one-sided differences; the sign of c picks the side
    dminus = (u - np.roll(u, 1)) / dx
    dplus = (np.roll(u, -1) - u) / dx
    flux = np.where(c > 0, c * dminus, c * dplus)
    return u - dt * flux


def cost(u0, c, L=1.0, T=0.2, cfl=0.5):
    nx = u0.size
    dx = L / nx
    dt = cfl * dx / np.max(np.abs(c))
    nt = int(T / dt)
    u = u0.copy()
    history = np.zeros((nt, nx))
    for n in range(nt):
        u = upwind_step(u, c, dt, dx)
        history[n, :] = u
    x = np.arange(nx) * dx
    target = np.exp(-100 * (x - 0.6) ** 2)
    return np.sum((u - target) ** 2) * dx + 0.01 * np.sum(history[-3:].mean(axis=0))


def inputs():
    nx = 16
    x = np.arange(nx) / nx
    c = 1.0 + 0.3 * np.sin(2 * np.pi * x) - 0.2
    c[3] = -0.4          # a cell where the flow goes the other way
    return dict(u0=np.exp(-100 * (x - 0.4) ** 2), c=c)


WRT = ("u0", "c")
